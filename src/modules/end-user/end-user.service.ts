// End-user changes, each committed with its audit entry. Sync and upsert
// share one implementation (end-user-sync.service.ts).
import { requireDirectory, requireEndUser, requireWorkspace } from '../../auth/registry.js';
import { ANONYMOUS, type Principal } from '../../auth/principal.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { decodeId, isUuid } from '../../platform/ids.js';
import { foreignKeyViolation, goneIsNotFound } from '../../platform/db/errors.js';
import { NotFoundError } from '../../platform/errors.js';
import { auditChange, auditedTransaction, newMutationAudit, runAuditedMutation, targetOf } from '../audit/audit.service.js';
import type { Context, Services } from '../common/context.js';
import type { Tx } from '../../platform/outbox.js';
import { endUsersRevoked } from '../../platform/pubsub.js';
import { announceAccessRevoked } from '../realtime/access.js';
import { announceConnectionsChanged } from '../realtime/connection-status.js';
import { applyEndUserRecords, validateRecords, type EndUserRecord, type SyncItemResult } from './end-user-sync.service.js';

export type EndUserQuery = { include?: Prisma.EndUserInclude; select?: Prisma.EndUserSelect };

// A full batch of changed rows is up to 1,000 UPDATEs; PGlite runs them one by one.
const SYNC_TRANSACTION = { timeout: 60_000, maxWait: 10_000 };

/**
 * Stores the valid items and reports every item in input order. The stored
 * rows are read again with `endUserQuery` (what the caller selects) in one
 * query, so nested fields cost no statement per item.
 */
export async function syncEndUsers(
  ctx: Context,
  input: { workspaceId: string; users: readonly unknown[]; removeMissing: boolean },
  endUserQuery: EndUserQuery,
): Promise<{ results: SyncItemResult[]; removed: number }> {
  const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
  const applied = await syncIntoWorkspace(ctx, workspace, input.users, { removeMissing: input.removeMissing, pathPrefix: ['input', 'users'] });
  const rows = new Map(
    (
      await ctx.prisma.endUser.findMany({
        ...endUserQuery,
        where: { id: { in: applied.results.flatMap((r) => (r.endUser ? [r.endUser.id] : [])) } },
      })
    ).map((row) => [row.id, row]),
  );
  const stored = applied.results.map((r) => ({ ...r, endUser: r.endUser && (rows.get(r.endUser.id) ?? null) }));
  return { results: stored, removed: applied.removed.length };
}

/**
 * Once a sync committed: each end user it removed loses access exactly as
 * deleteEndUser's does (sessions end, cached principals go, on every
 * instance); moved end users have other peers, so their cached principals go.
 */
async function announceSynced(
  services: Pick<Services, 'pubsub' | 'principals'>,
  workspaceId: string,
  applied: { results: SyncItemResult[]; removed: string[] },
): Promise<void> {
  if (applied.removed.length) await announceAccessRevoked(services, endUsersRevoked(applied.removed));
  if (applied.results.some((r) => r.status === 'UPDATED')) await services.principals.announce({ kind: 'workspaceEndUsers', workspaceId });
}

/** Who syncs, and where its announcements go: a request's context, or the CLI's own services. */
type SyncDeps = Pick<Services, 'prisma' | 'pubsub' | 'principals'> & { principal: Principal };

/**
 * syncEndUsers' change once the workspace is known: validation, the write and
 * the audit entry in one transaction, announced once it committed; every
 * item's result in input order.
 */
async function syncIntoWorkspace(
  deps: SyncDeps,
  workspace: { id: string; organizationId: string },
  users: readonly unknown[],
  options: { removeMissing: boolean; pathPrefix: string[] },
): Promise<{ results: SyncItemResult[]; removed: string[] }> {
  const { valid, failed } = validateRecords(users, options.pathPrefix);
  // removeMissing keeps every externalId the call names, even on an item that
  // failed validation: a typo in one field must not delete the user and its connections.
  const keep = users.map((user) => (user as { externalId?: unknown })?.externalId).filter((id): id is string => typeof id === 'string');
  const applied = await deps.prisma.$transaction(async (tx) => {
    const outcome = await applyEndUserRecords(tx, workspace.id, valid, { removeMissing: options.removeMissing, keep });
    await auditChange(tx, deps.principal, { target: targetOf('Workspace', workspace) });
    return outcome;
  }, SYNC_TRANSACTION);
  await announceSynced(deps, workspace.id, applied);
  return { results: [...applied.results, ...failed].sort((a, b) => a.index - b.index), removed: applied.removed };
}

/**
 * `heddle sync-users`: one batch (at most MAX_SYNC_BATCH) through syncEndUsers'
 * rules, by an operator with database access rather than a principal, so it
 * is audited as a syncEndUsers call by SYSTEM, and announced on `services`'
 * pub/sub as the mutation is. `workspaceId` is the Workspace's global id or its uuid.
 */
export async function syncEndUsersAsSystem(
  services: Pick<Services, 'prisma' | 'pubsub' | 'principals'>,
  workspaceId: string,
  users: readonly unknown[],
): Promise<{ results: SyncItemResult[] }> {
  const { prisma } = services;
  const id = decodeId(workspaceId, 'Workspace') ?? (isUuid(workspaceId) ? workspaceId : null);
  const workspace = id && (await prisma.workspace.findUnique({ where: { id }, select: { id: true, organizationId: true } }));
  if (!workspace) throw new NotFoundError('workspace', ['workspace']);
  return runAuditedMutation(newMutationAudit('syncEndUsers'), () =>
    syncIntoWorkspace({ ...services, principal: ANONYMOUS }, workspace, users, { removeMissing: false, pathPrefix: [] }),
  );
}

/** Creates the end user, or updates the fields given: the same implementation as syncEndUsers, with a batch of one. */
export async function upsertEndUser(ctx: Context, input: EndUserRecord & { workspaceId: string }, query: EndUserQuery) {
  const { workspaceId, ...record } = input;
  const workspace = await requireWorkspace(ctx, workspaceId, ['input', 'workspaceId']);
  const { results } = await auditedTransaction(
    ctx,
    (tx) => applyEndUserRecords(tx, workspace.id, [{ index: 0, record }], { removeMissing: false, keep: [] }),
    ({ results }) => targetOf('EndUser', { id: results[0]!.endUser!.id, workspaceId: workspace.id }),
  );
  if (results[0]!.status === 'UPDATED') await ctx.principals.announce({ kind: 'endUser', endUserId: results[0]!.endUser!.id });
  const stored = await ctx.prisma.endUser.findUnique({ ...query, where: { id: results[0]!.endUser!.id } });
  if (!stored) throw new NotFoundError('end user', ['input', 'externalId']); // deleted since it was stored
  return stored;
}

/** An end user is in at most one directory: this replaces the old one (null: the default directory). */
export async function setEndUserDirectory(ctx: Context, input: { endUserId: string; directoryId?: string | null }, query: EndUserQuery) {
  const user = await requireEndUser(ctx, input.endUserId, ['input', 'endUserId']);
  let directoryId: string | null = null;
  if (input.directoryId != null) {
    const directory = await requireDirectory(ctx, input.directoryId, ['input', 'directoryId']);
    // Another workspace's directory answers like one that does not exist.
    if (directory.workspaceId !== user.workspaceId) throw new NotFoundError('directory', ['input', 'directoryId']);
    directoryId = directory.id;
  }
  const updated = await auditedTransaction(
    ctx,
    (tx) => tx.endUser.update({ ...query, where: { id: user.id }, data: { directoryId } }),
    () => targetOf('EndUser', user),
  )
    .catch((error: unknown) => {
      // The directory was deleted since the lookup.
      if (foreignKeyViolation(error)) throw new NotFoundError('directory', ['input', 'directoryId']);
      throw error;
    })
    .catch(goneIsNotFound('end user', ['input', 'endUserId']));
  announceConnectionsChanged(ctx.pubsub, { workspaceId: user.workspaceId, endUserId: user.id });
  await ctx.principals.announce({ kind: 'endUser', endUserId: user.id }); // its peers changed
  return updated;
}

/** One statement: the database cascades to connections and memberships. */
export const removeEndUser = (tx: Tx, user: { id: string }) => tx.endUser.deleteMany({ where: { id: user.id } });
