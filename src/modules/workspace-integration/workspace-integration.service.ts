// Workspace integration changes: each is a config change (configVersion
// grows, subscribers hear it) whose MCP tool lists follow it, committed with
// its audit entry.
import { requireWorkspace, requireWorkspaceIntegration, visible } from '../../auth/registry.js';
import { Prisma } from '../../generated/prisma/client.js';
import { uniqueViolation } from '../../platform/db/errors.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { decodeId } from '../../platform/ids.js';
import { recordWorkspaceConfigChange, type Tx } from '../../platform/outbox.js';
import { auditChange, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import { deleteRow } from '../common/delete.service.js';
import { syncMcpTools } from '../mcp/tools-sync.service.js';
import {
  AliasConflictError,
  allowedActionsOf,
  workspaceIntegrationErrors,
  type AddWorkspaceIntegration,
  type CandidateConnection,
  type IntegrationState,
  type UpdateWorkspaceIntegration,
} from './workspace-integration.rules.js';

export type WorkspaceIntegrationQuery = { include?: Prisma.WorkspaceIntegrationInclude; select?: Prisma.WorkspaceIntegrationSelect };

/** The connection named by the input, if the caller can see it at all (else NOT_FOUND). */
async function candidateConnection(ctx: Context, globalId: string | null): Promise<CandidateConnection | null> {
  if (!globalId) return null;
  const id = decodeId(globalId, 'Connection');
  const connection =
    id &&
    (await ctx.prisma.connection.findFirst({
      where: { id, AND: [visible('Connection', ctx.principal)] },
      select: { id: true, organizationId: true, workspaceId: true, scope: true, integrationName: true },
    }));
  if (!connection) throw new NotFoundError('connection', ['input', 'connectionId']);
  return connection;
}

function assertValid(state: IntegrationState, workspace: { id: string; organizationId: string }, connection: CandidateConnection | null) {
  const errors = workspaceIntegrationErrors(state, workspace, connection);
  if (errors.length) throw new ValidationError(errors);
}

function aliasConflict(error: unknown, alias: string): never {
  if (uniqueViolation(error)) throw new AliasConflictError(alias);
  throw error;
}

/** An integration change is a config change, and its MCP servers' tools follow it in the same transaction. */
async function recordIntegrationChange(tx: Tx, workspaceId: string, kind: string, integrationId: string) {
  const configEvent = await recordWorkspaceConfigChange(tx, workspaceId, kind, { integrationId });
  return [configEvent, ...(await syncMcpTools(tx, workspaceId))];
}

export async function addWorkspaceIntegration(ctx: Context, input: AddWorkspaceIntegration, query: WorkspaceIntegrationQuery) {
  const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
  const connection = await candidateConnection(ctx, input.connectionId ?? null);
  const state: IntegrationState = {
    integrationName: input.integrationName,
    connectionStrategy: input.connectionStrategy,
    connectionId: connection?.id ?? null,
    allowedActions: input.allowedActions ? [...new Set(input.allowedActions)] : null,
  };
  assertValid(state, workspace, connection);
  const alias = input.alias ?? input.integrationName;
  try {
    return await ctx.outbox.commit(async (tx) => {
      const created = await tx.workspaceIntegration.create({
        data: { workspaceId: workspace.id, alias, ...state, allowedActions: state.allowedActions ?? undefined },
      });
      const events = await recordIntegrationChange(tx, workspace.id, 'INTEGRATION_ADDED', created.id);
      await auditChange(tx, ctx.principal, { target: targetOf('WorkspaceIntegration', created) });
      const result = await tx.workspaceIntegration.findUniqueOrThrow({ ...query, where: { id: created.id } });
      return { result, events };
    });
  } catch (error) {
    aliasConflict(error, alias);
  }
}

export async function updateWorkspaceIntegration(ctx: Context, input: UpdateWorkspaceIntegration, query: WorkspaceIntegrationQuery) {
  const current = await requireWorkspaceIntegration(ctx, input.id, ['input', 'id']);
  const workspace = await ctx.prisma.workspace.findUniqueOrThrow({
    where: { id: current.workspaceId },
    select: { id: true, organizationId: true },
  });
  const connectionGlobalId = input.connectionId !== undefined ? input.connectionId : null;
  const connection =
    input.connectionId !== undefined
      ? await candidateConnection(ctx, connectionGlobalId)
      : current.connectionId
        ? await ctx.prisma.connection.findUnique({
            where: { id: current.connectionId },
            select: { id: true, organizationId: true, workspaceId: true, scope: true, integrationName: true },
          })
        : null;
  const state: IntegrationState = {
    integrationName: current.integrationName,
    connectionStrategy: input.connectionStrategy ?? current.connectionStrategy,
    connectionId: connection?.id ?? null,
    allowedActions:
      input.allowedActions !== undefined
        ? input.allowedActions && [...new Set(input.allowedActions)]
        : allowedActionsOf(current.allowedActions),
  };
  assertValid(state, workspace, connection);
  const alias = input.alias ?? current.alias;
  try {
    return await ctx.outbox.commit(async (tx) => {
      const { count } = await tx.workspaceIntegration.updateMany({
        where: { id: current.id },
        data: {
          alias,
          connectionStrategy: state.connectionStrategy,
          connectionId: state.connectionId,
          allowedActions: state.allowedActions ?? Prisma.DbNull,
        },
      });
      // Removed by another call since it was found.
      if (count === 0) throw new NotFoundError('workspace integration', ['input', 'id']);
      const events = await recordIntegrationChange(tx, workspace.id, 'INTEGRATION_UPDATED', current.id);
      await auditChange(tx, ctx.principal, { target: targetOf('WorkspaceIntegration', current) });
      const result = await tx.workspaceIntegration.findUniqueOrThrow({ ...query, where: { id: current.id } });
      return { result, events };
    });
  } catch (error) {
    aliasConflict(error, alias);
  }
}

export async function removeWorkspaceIntegration(ctx: Context, globalId: string): Promise<void> {
  const path = ['input', 'id'];
  const current = await requireWorkspaceIntegration(ctx, globalId, path);
  await deleteRow(ctx, { label: 'workspace integration', path, target: targetOf('WorkspaceIntegration', current) }, async (tx) => {
    const { count } = await tx.workspaceIntegration.deleteMany({ where: { id: current.id } });
    return { count, events: count ? await recordIntegrationChange(tx, current.workspaceId, 'INTEGRATION_REMOVED', current.id) : [] };
  });
}
