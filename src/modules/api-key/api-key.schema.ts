// API keys (`hdl_…`) for backends and agents, and the short-lived end-user
// tokens they issue. A key's plaintext is returned once, at creation; only its
// SHA-256 hash and a display prefix are stored.
import { z } from 'zod';
import { API_KEY_PERMISSIONS as PERMISSIONS, type ApiKeyPermission } from '../../auth/principal.js';
import { visibleNode } from '../../auth/registry.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { displayNameSchema, externalIdSchema } from '../../platform/identifiers.js';
import { parseInput } from '../../platform/validate.js';
import type { EndUser } from '../../generated/prisma/client.js';
import { builder } from '../common/builder.js';
import { createApiKey, issueEndUserToken, MAX_END_USER_TOKEN_SECONDS, revokeApiKey } from './api-key.service.js';
import { may, mayList, mayRead } from '../common/scopes.js';
import { EndUserRef } from '../end-user/end-user.schema.js';
import { WorkspaceRef } from '../workspace/workspace.schema.js';

const ApiKeyPermissionEnum = builder.enumType('ApiKeyPermission', {
  values: {
    CREDENTIALS_READ: { value: PERMISSIONS.CREDENTIALS_READ, description: 'resolveConnection may return decrypted credentials.' },
    EXECUTE: { value: PERMISSIONS.EXECUTE, description: 'executeAction may run catalog actions with the workspace’s connections.' },
    PROXY: { value: PERMISSIONS.PROXY, description: 'The /proxy/{integration}/{path} endpoint may send requests with the workspace’s connections.' },
  },
});

const ApiKeyRef = builder.prismaNode('ApiKey', {
  nullable: true,
  authScopes: mayRead('ApiKey'),
  id: { field: 'id' },
  findUnique: visibleNode('ApiKey'),
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it.' }),
    permissions: t.field({ type: [ApiKeyPermissionEnum], resolve: (key) => key.permissions as ApiKeyPermission[] }),
    workspaces: t.field({
      type: [WorkspaceRef],
      nullable: true,
      description: 'The only workspaces the key may reach; null: the whole organization.',
      select: { workspaces: { select: { workspace: true } } },
      resolve: (key) => (key.workspaces.length ? key.workspaces.map((w) => w.workspace) : null),
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Recorded within about 30 seconds.' }),
    organization: t.relation('organization'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Organization', (t) => ({
  apiKeys: t.relatedConnection('apiKeys', {
    cursor: 'id',
    totalCount: true,
    authScopes: mayList('ApiKey'),
    query: () => ({ orderBy: { createdAt: 'desc' } }),
  }),
}));

class CreatedApiKey {
  constructor(
    readonly apiKey: { id: string },
    readonly plainKey: string,
  ) {}
}

builder.objectType(CreatedApiKey, {
  name: 'CreatedApiKey',
  isTypeOf: (value) => value instanceof CreatedApiKey,
  fields: (t) => ({
    plainKey: t.exposeString('plainKey', { description: 'The key itself. Shown once: store it now.' }),
    apiKey: t.prismaField({
      type: 'ApiKey',
      resolve: (query, created, _args, ctx) => ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: created.apiKey.id } }),
    }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    name: t.string({ required: true }),
    workspaceIds: t.idList({ description: 'Restrict the key to these workspaces; omitted or empty: org-wide.' }),
    expiresAt: t.field({ type: 'DateTime' }),
    permissions: t.field({ type: [ApiKeyPermissionEnum] }),
  }),
});

const createSchema = z.object({
  organizationId: z.string(),
  name: displayNameSchema,
  workspaceIds: z.array(z.string()).nullish(),
  expiresAt: z.date().refine((d) => d > new Date(), 'must be in the future').nullish(),
  permissions: z.array(z.string()).nullish(),
});

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedApiKey,
    description: 'Only an org-wide key or a member manages keys.',
    authScopes: may('create', 'ApiKey', 'organizationId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'CreateApiKeyResult' } },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { id, plainKey } = await createApiKey(ctx, parseInput(createSchema, args.input));
      return new CreatedApiKey({ id }, plainKey);
    },
  }),
);

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationField('revokeApiKey', (t) =>
  t.prismaField({
    type: ApiKeyRef,
    description: 'The key fails from its next request on.',
    authScopes: may('delete', 'ApiKey', 'id'),
    errors: { types: [NotFoundError], union: { name: 'RevokeApiKeyResult' } },
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: (query, _root, args, ctx) => revokeApiKey(ctx, String(args.input.id), query),
  }),
);

// End-user tokens ------------------------------------------------------------


class EndUserToken {
  constructor(
    readonly token: string,
    readonly expiresAt: Date,
    readonly endUser: EndUser,
  ) {}
}

builder.objectType(EndUserToken, {
  name: 'EndUserToken',
  isTypeOf: (value) => value instanceof EndUserToken,
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Send as `Authorization: Bearer <token>`.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    endUser: t.field({ type: EndUserRef, resolve: (issued) => issued.endUser }),
  }),
});

const IssueEndUserTokenInput = builder.inputType('IssueEndUserTokenInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    externalId: t.string({ required: true, description: 'An unknown externalId creates the end user.' }),
    expiresIn: t.int({ defaultValue: 3600, description: 'Seconds, at most 86,400 (24 h).' }),
  }),
});

builder.mutationField('issueEndUserToken', (t) =>
  t.field({
    type: EndUserToken,
    description: 'For API keys: a short-lived token that acts as one end user (its own data and its peers only).',
    authScopes: (_root, args) => ({ $all: { apiKey: true, ...may('create', 'EndUser', 'workspaceId')(_root, args) } }),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'IssueEndUserTokenResult' } },
    args: { input: t.arg({ type: IssueEndUserTokenInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(
        z.object({
          workspaceId: z.string(),
          externalId: externalIdSchema,
          expiresIn: z.number().int().min(1, 'must be at least 1 second').max(MAX_END_USER_TOKEN_SECONDS, 'must be at most 86,400 seconds (24 h)'),
        }),
        args.input,
      );
      const { token, expiresAt, endUser } = await issueEndUserToken(ctx, input);
      return new EndUserToken(token, expiresAt, endUser);
    },
  }),
);
