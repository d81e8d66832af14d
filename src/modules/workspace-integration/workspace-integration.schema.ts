// Workspace integrations: which integrations a workspace uses, how each
// resolves its connection, and which actions it allows. Every change is a
// config change: configVersion grows and subscribers hear it.
import { z } from 'zod';
import { visible } from '../../auth/tenancy.js';
import { actionNames, getAction, getIntegration } from '../catalog/catalog.js';
import { uniqueViolation } from '../../platform/db/errors.js';
import { HeddleError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validate.js';
import {
  aliasSchema,
  allowedActionsOf,
  CONNECTION_STRATEGIES,
  workspaceIntegrationErrors,
  type CandidateConnection,
  type IntegrationState,
} from './workspace-integration.rules.js';
import { syncMcpTools } from '../mcp/tools-sync.service.js';
import { recordWorkspaceConfigChange, type Tx } from '../../platform/outbox.js';
import { Prisma } from '../../generated/prisma/client.js';
import type { Context } from '../common/context.js';
import { builder } from '../common/builder.js';
import { decodeId, safeUuid } from '../../platform/ids.js';
import { requireWorkspace, requireWorkspaceIntegration } from '../../auth/lookup.js';
import { IntegrationActionRef, IntegrationRef } from '../catalog/catalog.schema.js';
import { ErrorInterface } from '../common/errors.schema.js';
import { Deleted } from '../common/deleted.schema.js';
import { needs, staffOnly } from '../common/scopes.js';

export class AliasConflictError extends HeddleError {
  readonly code = 'ALIAS_CONFLICT' as const;
  constructor(readonly alias: string) {
    super(`alias "${alias}" is already used in this workspace`);
  }
}

builder.objectType(AliasConflictError, {
  name: 'AliasConflictError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof AliasConflictError,
  fields: (t) => ({ alias: t.exposeString('alias') }),
});

export const ConnectionStrategyEnum = builder.enumType('ConnectionStrategy', { values: CONNECTION_STRATEGIES });

export const WorkspaceIntegrationRef = builder.prismaNode('WorkspaceIntegration', {
  nullable: true,
  authScopes: staffOnly,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible.workspaceIntegrations(ctx.principal)] }),
  fields: (t) => ({
    alias: t.exposeString('alias'),
    integrationName: t.exposeString('integrationName'),
    integration: t.field({ type: IntegrationRef, resolve: (wi) => getIntegration(wi.integrationName)! }),
    connectionStrategy: t.expose('connectionStrategy', { type: ConnectionStrategyEnum }),
    connection: t.relation('connection', { nullable: true, description: 'The FIXED connection or the PER_USER_WITH_FALLBACK fallback.' }),
    allowedActions: t.stringList({
      nullable: true,
      description: 'null: every catalog action is allowed.',
      resolve: (wi) => allowedActionsOf(wi.allowedActions),
    }),
    actions: t.field({
      type: [IntegrationActionRef],
      description: 'The catalog actions this integration allows.',
      resolve: (wi) =>
        (allowedActionsOf(wi.allowedActions) ?? actionNames(wi.integrationName)).flatMap((name) => getAction(wi.integrationName, name) ?? []),
    }),
    workspace: t.relation('workspace'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Workspace', (t) => ({
  integrations: t.relatedConnection('integrations', {
    cursor: 'id',
    totalCount: true,
    query: () => ({ orderBy: { createdAt: 'asc' } }),
  }),
}));

const AddWorkspaceIntegrationInput = builder.inputType('AddWorkspaceIntegrationInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    integrationName: t.string({ required: true }),
    connectionStrategy: t.field({ type: ConnectionStrategyEnum, required: true }),
    connectionId: t.id({ description: 'Required for FIXED and PER_USER_WITH_FALLBACK; not allowed for PER_USER.' }),
    alias: t.string({ description: 'Defaults to the integration name; unique in the workspace.' }),
    allowedActions: t.stringList({ description: 'null: every catalog action.' }),
  }),
});

const UpdateWorkspaceIntegrationInput = builder.inputType('UpdateWorkspaceIntegrationInput', {
  description: 'Omitted fields stay as they are; connectionId and allowedActions can be set to null.',
  fields: (t) => ({
    id: t.id({ required: true }),
    connectionStrategy: t.field({ type: ConnectionStrategyEnum }),
    connectionId: t.id(),
    alias: t.string(),
    allowedActions: t.stringList(),
  }),
});

const addSchema = z.object({
  workspaceId: z.string(),
  integrationName: z.string().min(1),
  connectionStrategy: z.enum(CONNECTION_STRATEGIES),
  connectionId: z.string().nullish(),
  alias: aliasSchema.nullish(),
  allowedActions: z.array(z.string()).nullish(),
});

const updateSchema = z.object({
  id: z.string(),
  connectionStrategy: z.enum(CONNECTION_STRATEGIES).optional(),
  connectionId: z.string().nullish(),
  alias: aliasSchema.optional(),
  allowedActions: z.array(z.string()).nullish(),
});

/** The connection named by the input, if the caller can see it at all (else NOT_FOUND). */
async function candidateConnection(ctx: Context, globalId: string | null): Promise<CandidateConnection | null> {
  if (!globalId) return null;
  const id = decodeId(globalId, 'Connection');
  const connection =
    id &&
    (await ctx.prisma.connection.findFirst({
      where: { id, AND: [visible.connections(ctx.principal)] },
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

const mutationErrors = [ValidationError, AliasConflictError, NotFoundError];

builder.mutationField('addWorkspaceIntegration', (t) =>
  t.prismaField({
    type: 'WorkspaceIntegration',
    authScopes: needs('ADMIN', 'workspaceId'),
    errors: { types: mutationErrors, union: { name: 'AddWorkspaceIntegrationResult' } },
    args: { input: t.arg({ type: AddWorkspaceIntegrationInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(addSchema, args.input);
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
          const result = await tx.workspaceIntegration.findUniqueOrThrow({ ...query, where: { id: created.id } });
          return { result, events };
        });
      } catch (error) {
        aliasConflict(error, alias);
      }
    },
  }),
);

builder.mutationField('updateWorkspaceIntegration', (t) =>
  t.prismaField({
    type: 'WorkspaceIntegration',
    authScopes: needs('ADMIN', 'id'),
    errors: { types: mutationErrors, union: { name: 'UpdateWorkspaceIntegrationResult' } },
    args: { input: t.arg({ type: UpdateWorkspaceIntegrationInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(updateSchema, args.input);
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
          await tx.workspaceIntegration.update({
            where: { id: current.id },
            data: {
              alias,
              connectionStrategy: state.connectionStrategy,
              connectionId: state.connectionId,
              allowedActions: state.allowedActions ?? Prisma.DbNull,
            },
          });
          const events = await recordIntegrationChange(tx, workspace.id, 'INTEGRATION_UPDATED', current.id);
          const result = await tx.workspaceIntegration.findUniqueOrThrow({ ...query, where: { id: current.id } });
          return { result, events };
        });
      } catch (error) {
        aliasConflict(error, alias);
      }
    },
  }),
);

const RemoveWorkspaceIntegrationInput = builder.inputType('RemoveWorkspaceIntegrationInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

builder.mutationField('removeWorkspaceIntegration', (t) =>
  t.field({
    type: Deleted,
    authScopes: needs('ADMIN', 'id'),
    errors: { types: [NotFoundError], union: { name: 'RemoveWorkspaceIntegrationResult' } },
    args: { input: t.arg({ type: RemoveWorkspaceIntegrationInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const current = await requireWorkspaceIntegration(ctx, String(args.input.id), ['input', 'id']);
      await ctx.outbox.commit(async (tx) => {
        await tx.workspaceIntegration.delete({ where: { id: current.id } });
        const events = await recordIntegrationChange(tx, current.workspaceId, 'INTEGRATION_REMOVED', current.id);
        return { result: null, events };
      });
      return new Deleted(String(args.input.id));
    },
  }),
);
