// End users mirror the host product's users. Two of them can interact when
// they share a directory (no directory = the workspace's default directory)
// or are both members of at least one common Space. This is the only
// implementation of that rule, and of the ad-hoc creation below.
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

export function peersWhere(endUser: { id: string; workspaceId: string; directoryId: string | null }): Prisma.EndUserWhereInput {
  return {
    workspaceId: endUser.workspaceId,
    id: { not: endUser.id },
    OR: [
      { directoryId: endUser.directoryId },
      { spaces: { some: { space: { members: { some: { endUserId: endUser.id } } } } } },
    ],
  };
}
