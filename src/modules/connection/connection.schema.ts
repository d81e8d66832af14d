// Connections: credentials for one integration, placed at an organization,
// workspace, directory or end user. Secrets go in through the input and into
// the credential store; no output type has a field that could carry one.
import { z } from 'zod';
import { visibleNode } from '../../auth/registry.js';
import { CONNECTION_SCOPES, CONNECTION_TYPES, createConnectionSchema, type CreateConnectionInput } from './connection.rules.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { displayNameSchema } from '../../platform/identifiers.js';
import { parseInput } from '../../platform/validate.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../common/builder.js';
import { pointRead } from '../common/point-reads.js';
import { resolveReferenceById } from '../common/references.js';
import { Deleted } from '../common/deleted.schema.js';
import { createConnection, deleteConnection, renameConnection, setConnectionStatus } from './connection.service.js';
import { workspaceSubscription } from '../common/workspace-subscription.js';
import { may, workspaceScoped } from '../common/scopes.js';

export const ConnectionTypeEnum = builder.enumType('ConnectionType', { values: CONNECTION_TYPES });
export const ConnectionScopeEnum = builder.enumType('ConnectionScope', { values: CONNECTION_SCOPES });
export const ConnectionStatusEnum = builder.enumType('ConnectionStatus', { values: ['ACTIVE', 'ERROR'] as const });

export const ConnectionRef = builder.prismaNode('Connection', {
  nullable: true,
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: visibleNode('Connection'),
  fields: (t) => ({
    displayName: t.exposeString('displayName'),
    integrationName: t.exposeString('integrationName'),
    type: t.expose('type', { type: ConnectionTypeEnum }),
    scope: t.expose('scope', { type: ConnectionScopeEnum }),
    status: t.expose('status', { type: ConnectionStatusEnum }),
    statusReason: t.exposeString('statusReason', { nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the access token expires, if known.' }),
    tokenUrl: t.exposeString('tokenUrl', { nullable: true, description: "Overrides the catalog's OAuth2 token URL." }),
    organization: t.relation('organization'),
    workspace: t.relation('workspace', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const readConnection = pointRead('Connection', (prisma, args) => prisma.connection.findMany(args));

builder.asEntity(ConnectionRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: resolveReferenceById('Connection', readConnection),
});

/** The list filters every connection list accepts. */
function connectionFilters(args: {
  integrationName?: string | null;
  status?: 'ACTIVE' | 'ERROR' | null;
  scope?: (typeof CONNECTION_SCOPES)[number] | null;
}): Prisma.ConnectionWhereInput {
  return {
    ...(args.integrationName ? { integrationName: args.integrationName } : {}),
    ...(args.status ? { status: args.status } : {}),
    ...(args.scope ? { scope: args.scope } : {}),
  };
}

builder.prismaObjectFields('Organization', (t) => ({
  connections: t.relatedConnection('connections', {
    cursor: 'id',
    totalCount: true,
    args: {
      integrationName: t.arg.string(),
      status: t.arg({ type: ConnectionStatusEnum }),
      scope: t.arg({ type: ConnectionScopeEnum }),
    },
    query: (args) => ({ where: connectionFilters(args), orderBy: { createdAt: 'desc' } }),
  }),
}));

builder.prismaObjectFields('Workspace', (t) => ({
  connections: t.prismaConnection({
      type: 'Connection',
      cursor: 'id',
      description: "Connections this workspace can use: the organization's, and those placed in the workspace.",
      args: {
        integrationName: t.arg.string(),
        status: t.arg({ type: ConnectionStatusEnum }),
        scope: t.arg({ type: ConnectionScopeEnum }),
      },
      resolve: (query, workspace, args, ctx) =>
        ctx.prisma.connection.findMany({
          ...query,
          where: { AND: [workspaceConnections(workspace), connectionFilters(args)] },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        }),
      totalCount: (workspace, args, ctx) =>
        ctx.prisma.connection.count({ where: { AND: [workspaceConnections(workspace), connectionFilters(args)] } }),
    }),
}));

/** What a workspace sees: its organization's ORGANIZATION connections and everything placed inside it. */
export function workspaceConnections(workspace: { id: string; organizationId: string }): Prisma.ConnectionWhereInput {
  return { OR: [{ workspaceId: workspace.id }, { scope: 'ORGANIZATION', organizationId: workspace.organizationId }] };
}

const CredentialsInput = builder.inputType('ConnectionCredentialsInput', {
  description: 'Secret material. Stored encrypted; never returned by any field.',
  fields: (t) => ({
    accessToken: t.string(),
    refreshToken: t.string(),
    expiresAt: t.string({ description: 'ISO-8601 date-time at which the access token expires.' }),
    clientId: t.string(),
    clientSecret: t.string(),
    apiKey: t.string(),
    username: t.string(),
    password: t.string(),
    fields: t.field({ type: 'JSON', description: 'CUSTOM_AUTH: an object of string values.' }),
  }),
});

const CreateConnectionInput = builder.inputType('CreateConnectionInput', {
  description:
    'Where the connection lives follows its scope: ORGANIZATION → organizationId; WORKSPACE → workspaceId; DIRECTORY → directoryId; USER → endUserId, or workspaceId and externalId (an unknown externalId creates the end user).',
  fields: (t) => ({
    scope: t.field({ type: ConnectionScopeEnum, required: true }),
    organizationId: t.id(),
    workspaceId: t.id(),
    directoryId: t.id(),
    endUserId: t.id(),
    externalId: t.string(),
    type: t.field({ type: ConnectionTypeEnum, required: true }),
    integrationName: t.string({ required: true }),
    displayName: t.string({ required: true }),
    tokenUrl: t.string(),
    credentials: t.field({ type: CredentialsInput, required: true }),
  }),
});

builder.mutationField('createConnection', (t) =>
  t.prismaField({
    type: 'Connection',
    authScopes: may('create', 'Connection', 'endUserId', 'directoryId', 'workspaceId', 'organizationId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'CreateConnectionResult' } },
    args: { input: t.arg({ type: CreateConnectionInput, required: true }) },
    resolve: (query, _root, args, ctx) => createConnection(ctx, parseInput(createConnectionSchema, args.input), query),
  }),
);

const RenameConnectionInput = builder.inputType('RenameConnectionInput', {
  fields: (t) => ({ id: t.id({ required: true }), displayName: t.string({ required: true }) }),
});

builder.mutationField('renameConnection', (t) =>
  t.prismaField({
    type: 'Connection',
    authScopes: may('update', 'Connection', 'id'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'RenameConnectionResult' } },
    args: { input: t.arg({ type: RenameConnectionInput, required: true }) },
    resolve: (query, _root, args, ctx) =>
      renameConnection(ctx, parseInput(z.object({ id: z.string(), displayName: displayNameSchema }), args.input), query),
  }),
);

const SetConnectionStatusInput = builder.inputType('SetConnectionStatusInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    status: t.field({ type: ConnectionStatusEnum, required: true }),
    reason: t.string({ description: 'Why the connection is in ERROR; cleared when it becomes ACTIVE.' }),
  }),
});

builder.mutationField('setConnectionStatus', (t) =>
  t.prismaField({
    type: 'Connection',
    description: 'Only ACTIVE connections resolve.',
    authScopes: may('update', 'Connection', 'id'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'SetConnectionStatusResult' } },
    args: { input: t.arg({ type: SetConnectionStatusInput, required: true }) },
    resolve: (query, _root, args, ctx) =>
      setConnectionStatus(
        ctx,
        parseInput(z.object({ id: z.string(), status: z.enum(['ACTIVE', 'ERROR']), reason: z.string().max(1000).nullish() }), args.input),
        query,
      ),
  }),
);

const DeleteConnectionInput = builder.inputType('DeleteConnectionInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

builder.mutationField('deleteConnection', (t) =>
  t.field({
    type: Deleted,
    description: 'Refused with CONFLICT while a workspace integration uses the connection as its fixed or fallback connection.',
    authScopes: may('delete', 'Connection', 'id'),
    errors: { types: [ConflictError, NotFoundError], union: { name: 'DeleteConnectionResult' } },
    args: { input: t.arg({ type: DeleteConnectionInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      await deleteConnection(ctx, String(args.input.id));
      return new Deleted(String(args.input.id));
    },
  }),
);

builder.subscriptionField('connectionStatusChanged', (t) =>
  t.prismaField({
    type: 'Connection',
    description:
      "A connection the workspace uses changed status (ACTIVE ↔ ERROR, e.g. a failed OAuth2 refresh): the workspace's own connections, its end users' and directories', and organization connections its integrations use.",
    authScopes: { staff: true },
    args: { workspaceId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => workspaceSubscription(ctx, args.workspaceId, 'connection-status'),
    // The message carries ids only: the connection is read as it is now.
    resolve: (query, message, _args, ctx) => ctx.prisma.connection.findUniqueOrThrow({ ...query, where: { id: message.connectionId } }),
  }),
);
