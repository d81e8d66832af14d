// Directory and space changes, each committed with its audit entry.
import { requireDirectory, requireSpace, requireWorkspace } from '../../auth/registry.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { foreignKeyViolation, goneIsNotFound, uniqueViolation } from '../../platform/db/errors.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import { decodeId } from '../../platform/ids.js';
import type { Tx } from '../../platform/outbox.js';
import { auditedTransaction, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';

export type DirectoryQuery = { include?: Prisma.DirectoryInclude; select?: Prisma.DirectorySelect };
export type SpaceQuery = { include?: Prisma.SpaceInclude; select?: Prisma.SpaceSelect };

function nameConflict(error: unknown, name: string): never {
  if (uniqueViolation(error)) throw new ConflictError(`directory "${name}" already exists in this workspace`, ['input', 'name']);
  throw error;
}

export async function createDirectory(ctx: Context, input: { workspaceId: string; name: string }, query: DirectoryQuery) {
  const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
  return auditedTransaction(
    ctx,
    (tx) => tx.directory.create({ ...query, data: { workspaceId: workspace.id, name: input.name } }),
    (directory) => targetOf('Directory', directory),
  ).catch((error: unknown) => nameConflict(error, input.name));
}

export async function renameDirectory(ctx: Context, input: { id: string; name: string }, query: DirectoryQuery) {
  const directory = await requireDirectory(ctx, input.id, ['input', 'id']);
  return auditedTransaction(
    ctx,
    (tx) => tx.directory.update({ ...query, where: { id: directory.id }, data: { name: input.name } }),
    () => targetOf('Directory', directory),
  )
    .catch(goneIsNotFound('directory', ['input', 'id']))
    .catch((error: unknown) => nameConflict(error, input.name));
}

function uidConflict(error: unknown, uid: string): never {
  if (uniqueViolation(error)) throw new ConflictError(`space "${uid}" already exists in this workspace`, ['input', 'uid']);
  throw error;
}

export async function createSpace(ctx: Context, input: { workspaceId: string; uid: string; name?: string | null }, query: SpaceQuery) {
  const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
  return auditedTransaction(
    ctx,
    (tx) => tx.space.create({ ...query, data: { workspaceId: workspace.id, uid: input.uid, name: input.name ?? null } }),
    (space) => targetOf('Space', space),
  ).catch((error: unknown) => uidConflict(error, input.uid));
}

export async function updateSpace(ctx: Context, input: { id: string; name?: string | null }, query: SpaceQuery) {
  const space = await requireSpace(ctx, input.id, ['input', 'id']);
  return auditedTransaction(
    ctx,
    (tx) => tx.space.update({ ...query, where: { id: space.id }, data: { name: input.name } }),
    () => targetOf('Space', space),
  ).catch(goneIsNotFound('space', ['input', 'id']));
}

/**
 * The end users named by the input, all of the space's workspace, else NOT_FOUND
 * at the first offending index. One query for the whole list instead of a
 * lookup per id; the space's workspace already passed the tenancy check.
 */
async function endUsersOfWorkspace(ctx: Context, workspaceId: string, globalIds: string[]): Promise<string[]> {
  const ids = globalIds.map((id) => decodeId(id, 'EndUser'));
  const found = await ctx.prisma.endUser.findMany({
    where: { workspaceId, id: { in: ids.filter((id): id is string => id !== null) } },
    select: { id: true },
  });
  const known = new Set(found.map((u) => u.id));
  const missing = ids.findIndex((id) => id === null || !known.has(id));
  if (missing >= 0) throw new NotFoundError('end user', ['input', 'endUserIds', String(missing)]);
  return [...known];
}

/** Changes a space's members and answers the space as it is then. */
async function changeMembers(
  ctx: Context,
  input: { spaceId: string; endUserIds: string[] },
  query: SpaceQuery,
  write: (tx: Tx, spaceId: string, endUserIds: string[]) => Promise<unknown>,
) {
  const space = await requireSpace(ctx, input.spaceId, ['input', 'spaceId']);
  const endUserIds = await endUsersOfWorkspace(ctx, space.workspaceId, input.endUserIds);
  return auditedTransaction(
    ctx,
    async (tx) => {
      await write(tx, space.id, endUserIds);
      return tx.space.findUniqueOrThrow({ ...query, where: { id: space.id } });
    },
    () => targetOf('Space', space),
  ).catch((error: unknown) => {
    // The space, or one of the end users, was deleted since it was found.
    if (foreignKeyViolation(error)) throw new NotFoundError('space or end user', ['input']);
    return goneIsNotFound('space', ['input', 'spaceId'])(error);
  });
}

/** Adding a member that is already in the space changes nothing, also under concurrent calls (skipDuplicates). */
export const addSpaceMembers = (ctx: Context, input: { spaceId: string; endUserIds: string[] }, query: SpaceQuery) =>
  changeMembers(ctx, input, query, (tx, spaceId, endUserIds) =>
    tx.spaceMember.createMany({ data: endUserIds.map((endUserId) => ({ spaceId, endUserId })), skipDuplicates: true }),
  );

/** Removing an end user that is not a member is ignored. */
export const removeSpaceMembers = (ctx: Context, input: { spaceId: string; endUserIds: string[] }, query: SpaceQuery) =>
  changeMembers(ctx, input, query, (tx, spaceId, endUserIds) => tx.spaceMember.deleteMany({ where: { spaceId, endUserId: { in: endUserIds } } }));

/** One statement: the database moves the end users to the default directory and cascades to the DIRECTORY connections. */
export const removeDirectory = (tx: Tx, directory: { id: string }) => tx.directory.deleteMany({ where: { id: directory.id } });

/** The memberships go with it; the end users stay. */
export const removeSpace = (tx: Tx, space: { id: string }) => tx.space.deleteMany({ where: { id: space.id } });
