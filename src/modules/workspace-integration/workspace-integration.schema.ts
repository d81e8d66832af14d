// Workspace integrations: which integrations a workspace uses, how each
// resolves its connection, and which actions it allows. Every change is a
// config change: configVersion grows and subscribers hear it.
import { visibleNode } from '../../auth/registry.js';
import { actionNames, getAction, getIntegration } from '../catalog/catalog.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validate.js';
import { addSchema, updateSchema, AliasConflictError, allowedActionsOf, CONNECTION_STRATEGIES } from './workspace-integration.rules.js';
import { builder } from '../common/builder.js';
import { IntegrationActionRef, IntegrationRef } from '../catalog/catalog.schema.js';
import { ErrorInterface } from '../common/errors.schema.js';
import { Deleted } from '../common/deleted.schema.js';
import { may, staffOnly } from '../common/scopes.js';
import { addWorkspaceIntegration, removeWorkspaceIntegration, updateWorkspaceIntegration } from './workspace-integration.service.js';

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
  findUnique: visibleNode('WorkspaceIntegration'),
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


const mutationErrors = [ValidationError, AliasConflictError, NotFoundError];

builder.mutationField('addWorkspaceIntegration', (t) =>
  t.prismaField({
    type: 'WorkspaceIntegration',
    authScopes: may('create', 'WorkspaceIntegration', 'workspaceId'),
    errors: { types: mutationErrors, union: { name: 'AddWorkspaceIntegrationResult' } },
    args: { input: t.arg({ type: AddWorkspaceIntegrationInput, required: true }) },
    resolve: (query, _root, args, ctx) => addWorkspaceIntegration(ctx, parseInput(addSchema, args.input), query),
  }),
);

builder.mutationField('updateWorkspaceIntegration', (t) =>
  t.prismaField({
    type: 'WorkspaceIntegration',
    authScopes: may('update', 'WorkspaceIntegration', 'id'),
    errors: { types: mutationErrors, union: { name: 'UpdateWorkspaceIntegrationResult' } },
    args: { input: t.arg({ type: UpdateWorkspaceIntegrationInput, required: true }) },
    resolve: (query, _root, args, ctx) => updateWorkspaceIntegration(ctx, parseInput(updateSchema, args.input), query),
  }),
);

const RemoveWorkspaceIntegrationInput = builder.inputType('RemoveWorkspaceIntegrationInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

builder.mutationField('removeWorkspaceIntegration', (t) =>
  t.field({
    type: Deleted,
    authScopes: may('delete', 'WorkspaceIntegration', 'id'),
    errors: { types: [NotFoundError], union: { name: 'RemoveWorkspaceIntegrationResult' } },
    args: { input: t.arg({ type: RemoveWorkspaceIntegrationInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      await removeWorkspaceIntegration(ctx, String(args.input.id));
      return new Deleted(String(args.input.id));
    },
  }),
);
