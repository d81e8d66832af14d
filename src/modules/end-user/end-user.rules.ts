// End users mirror the host product's users. Who can interact with whom
// (peers) is a visibility rule and lives in the permission registry
// (auth/registry.ts, peersWhere); this is the only implementation of the
// ad-hoc creation below.
import type { Prisma } from '../../generated/prisma/client.js';

/**
 * The end user with `externalId` in the workspace, created when unknown: the
 * first USER connection for an externalId (createConnection, hosted connect)
 * creates its end user. Run inside the transaction that stores the connection.
 */
export async function ensureEndUser(tx: Prisma.TransactionClient, workspaceId: string, externalId: string): Promise<{ id: string }> {
  return tx.endUser.upsert({
    where: { workspaceId_externalId: { workspaceId, externalId } },
    create: { workspaceId, externalId },
    update: {},
    select: { id: true },
  });
}
