// Connection changes. Each commits with its audit entry; the secret is sealed
// before the transaction and never leaves the store in plaintext.
import { requireConnection, requireDirectory, requireEndUser, requireOrganization, requireWorkspace } from '../../auth/registry.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { foreignKeyViolation, goneIsNotFound } from '../../platform/db/errors.js';
import { uuidv7 } from '../../platform/db/uuid.js';
import { ConflictError, ValidationError } from '../../platform/errors.js';
import { auditedTransaction, targetOf } from '../audit/audit.service.js';
import { getIntegration } from '../catalog/catalog.js';
import type { Context } from '../common/context.js';
import { deleteRow } from '../common/delete.service.js';
import { ensureEndUser } from '../end-user/end-user.rules.js';
import { announceConnectionsChanged, publishConnectionStatus } from '../realtime/connection-status.js';
import { secretOf, type CreateConnectionInput } from './connection.rules.js';

export type ConnectionQuery = { include?: Prisma.ConnectionInclude; select?: Prisma.ConnectionSelect };

interface Placement {
  organizationId: string;
  workspaceId: string | null;
  directoryId: string | null;
  endUserId: string | null;
  /** USER scope by externalId: the end user to find or create. */
  externalId: string | null;
}

async function resolvePlacement(ctx: Context, input: CreateConnectionInput): Promise<Placement> {
  const none = { workspaceId: null, directoryId: null, endUserId: null, externalId: null };
  switch (input.scope) {
    case 'ORGANIZATION': {
      const org = await requireOrganization(ctx, input.organizationId!, ['input', 'organizationId']);
      return { ...none, organizationId: org.id };
    }
    case 'WORKSPACE': {
      const ws = await requireWorkspace(ctx, input.workspaceId!, ['input', 'workspaceId']);
      return { ...none, organizationId: ws.organizationId, workspaceId: ws.id };
    }
    case 'DIRECTORY': {
      const dir = await requireDirectory(ctx, input.directoryId!, ['input', 'directoryId']);
      const ws = await ctx.prisma.workspace.findUniqueOrThrow({ where: { id: dir.workspaceId }, select: { organizationId: true } });
      return { ...none, organizationId: ws.organizationId, workspaceId: dir.workspaceId, directoryId: dir.id };
    }
    case 'USER': {
      if (input.endUserId) {
        const user = await requireEndUser(ctx, input.endUserId, ['input', 'endUserId']);
        const ws = await ctx.prisma.workspace.findUniqueOrThrow({ where: { id: user.workspaceId }, select: { organizationId: true } });
        return { ...none, organizationId: ws.organizationId, workspaceId: user.workspaceId, endUserId: user.id };
      }
      const ws = await requireWorkspace(ctx, input.workspaceId!, ['input', 'workspaceId']);
      return { ...none, organizationId: ws.organizationId, workspaceId: ws.id, externalId: input.externalId! };
    }
  }
}

/** The catalog must know the integration, and the integration must accept the connection type. */
function assertCatalogAllows(input: Pick<CreateConnectionInput, 'integrationName' | 'type'>): void {
  const integration = getIntegration(input.integrationName);
  if (!integration) {
    throw new ValidationError([{ path: ['input', 'integrationName'], message: 'is not in the integration catalog' }]);
  }
  if (!integration.authTypes.includes(input.type)) {
    throw new ValidationError([
      { path: ['input', 'type'], message: `${input.integrationName} accepts ${integration.authTypes.join(', ')}` },
    ]);
  }
}

export async function createConnection(ctx: Context, input: CreateConnectionInput, query: ConnectionQuery) {
  assertCatalogAllows(input);
  const placement = await resolvePlacement(ctx, input);
  const id = uuidv7();
  const sealed = ctx.credentials.seal({ organizationId: placement.organizationId, connectionId: id }, secretOf(input.credentials));
  const created = await auditedTransaction(
    ctx,
    async (tx) => {
      let endUserId = placement.endUserId;
      if (placement.externalId) endUserId = (await ensureEndUser(tx, placement.workspaceId!, placement.externalId)).id;
      return tx.connection.create({
        ...query,
        data: {
          id,
          organizationId: placement.organizationId,
          workspaceId: placement.workspaceId,
          directoryId: placement.directoryId,
          endUserId,
          scope: input.scope,
          type: input.type,
          integrationName: input.integrationName,
          displayName: input.displayName,
          tokenUrl: input.tokenUrl ?? null,
          expiresAt: input.credentials.expiresAt ? new Date(input.credentials.expiresAt) : null,
          createdById: ctx.principal.kind === 'member' ? ctx.principal.userId : null,
          ...sealed,
        },
      });
    },
    (connection) => targetOf('Connection', connection),
  );
  if (created.workspaceId) announceConnectionsChanged(ctx.pubsub, { workspaceId: created.workspaceId, endUserId: created.endUserId });
  return created;
}

/** Updates a connection the caller may change; one that another call deleted meanwhile is NOT_FOUND. */
async function updateConnection(ctx: Context, id: string, query: ConnectionQuery, data: Prisma.ConnectionUpdateInput) {
  const connection = await requireConnection(ctx, id, ['input', 'id']);
  const updated = await auditedTransaction(
    ctx,
    (tx) => tx.connection.update({ ...query, where: { id: connection.id }, data }),
    () => targetOf('Connection', connection),
  ).catch(goneIsNotFound('connection', ['input', 'id']));
  return { before: connection, updated };
}

export async function renameConnection(ctx: Context, input: { id: string; displayName: string }, query: ConnectionQuery) {
  return (await updateConnection(ctx, input.id, query, { displayName: input.displayName })).updated;
}

export async function setConnectionStatus(
  ctx: Context,
  input: { id: string; status: 'ACTIVE' | 'ERROR'; reason?: string | null },
  query: ConnectionQuery,
) {
  const { before, updated } = await updateConnection(ctx, input.id, query, {
    status: input.status,
    statusReason: input.status === 'ERROR' ? (input.reason ?? null) : null,
  });
  if (before.status !== input.status) await publishConnectionStatus(ctx, before);
  return updated;
}

/** Refused with CONFLICT while a workspace integration uses the connection. */
export async function deleteConnection(ctx: Context, globalId: string): Promise<void> {
  const path = ['input', 'id'];
  const connection = await requireConnection(ctx, globalId, path);
  const inUse = async () => {
    const users = await ctx.prisma.workspaceIntegration.findMany({
      where: { connectionId: connection.id },
      select: { alias: true, workspace: { select: { slug: true } } },
    });
    return new ConflictError(`connection is used by ${users.map((u) => `${u.workspace.slug}/${u.alias}`).join(', ')}`, path);
  };
  if (await ctx.prisma.workspaceIntegration.count({ where: { connectionId: connection.id } })) throw await inUse();
  try {
    await deleteRow(ctx, { label: 'connection', path, target: targetOf('Connection', connection) }, (tx) =>
      tx.connection.deleteMany({ where: { id: connection.id } }),
    );
  } catch (error) {
    // An integration started using it between the check and the delete.
    if (foreignKeyViolation(error)) throw await inUse();
    throw error;
  }
  if (connection.workspaceId) announceConnectionsChanged(ctx.pubsub, { workspaceId: connection.workspaceId, endUserId: connection.endUserId });
}
