// resolveConnection: the mutation backends and agents call to get the credential
// to use, and explainResolution, its side-effect-free question. The rule lives in resolution.rules.ts, its reads and writes in resolution.service.ts; this module is its
// GraphQL face. Decrypted credentials are the one place a secret leaves
// Heddle: only for API keys holding `credentials:read`, and every read is audited.
import {
  ActionNotAllowedError,
  AmbiguousIntegrationError,
  ConnectionRequiredError,
  NotFoundError,
  ValidationError,
} from '../../platform/errors.js';
import { ConnectionResolution, RESOLUTION_SOURCES, ResolutionExplanation, resolveConnectionSchema } from './resolution.rules.js';
import { explainResolution, readCredentials, resolveConnection, type Credentials } from './resolution.service.js';
import { parseInput } from '../../platform/validate.js';
import { builder } from '../common/builder.js';
import { decodeId } from '../../platform/ids.js';
import { ConnectionRef } from '../connection/connection.schema.js';
import { EndUserRef } from '../end-user/end-user.schema.js';
import { ConnectionStrategyEnum, WorkspaceIntegrationRef } from '../workspace-integration/workspace-integration.schema.js';

export const ResolutionSourceEnum = builder.enumType('ResolutionSource', {
  values: {
    FIXED: { description: "The integration's FIXED connection." },
    USER: { description: "The end user's own USER connection." },
    DIRECTORY: { description: "The DIRECTORY connection of the end user's directory." },
    FALLBACK: { description: "The PER_USER_WITH_FALLBACK integration's fallback connection." },
  } satisfies Record<(typeof RESOLUTION_SOURCES)[number], unknown>,
});

const ConnectionCredentialsRef = builder.objectRef<Credentials>('ConnectionCredentials').implement({
  description: 'The decrypted secret of the resolved connection.',
  fields: (t) => ({
    accessToken: t.string({ nullable: true, resolve: (c) => c.accessToken ?? null }),
    refreshToken: t.string({ nullable: true, resolve: (c) => c.refreshToken ?? null }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'When the access token expires, if known.', resolve: (c) => c.expiresAt }),
    clientId: t.string({ nullable: true, resolve: (c) => c.clientId ?? null }),
    clientSecret: t.string({ nullable: true, resolve: (c) => c.clientSecret ?? null }),
    apiKey: t.string({ nullable: true, resolve: (c) => c.apiKey ?? null }),
    username: t.string({ nullable: true, resolve: (c) => c.username ?? null }),
    password: t.string({ nullable: true, resolve: (c) => c.password ?? null }),
    fields: t.field({ type: 'JSON', nullable: true, description: 'CUSTOM_AUTH fields.', resolve: (c) => c.fields ?? null }),
  }),
});

/** The decision both resolveConnection and explainResolution answer with. */
const ResolutionDecisionRef = builder.interfaceRef<ConnectionResolution>('ResolutionDecision').implement({
  description: 'Which connection a workspace integration resolves to for an end user, and why.',
  fields: (t) => ({
    connection: t.field({ type: ConnectionRef, resolve: (r) => r.connection }),
    source: t.field({ type: ResolutionSourceEnum, resolve: (r) => r.source }),
    strategy: t.field({ type: ConnectionStrategyEnum, resolve: (r) => r.strategy }),
    endUser: t.field({
      type: EndUserRef,
      nullable: true,
      description: 'The end user named by externalId, when it exists.',
      resolve: (r) => r.endUser,
    }),
    workspaceIntegration: t.field({ type: WorkspaceIntegrationRef, resolve: (r) => r.workspaceIntegration }),
    explanation: t.exposeStringList('explanation', { description: 'Each candidate that was checked, and why it won or was skipped.' }),
  }),
});

builder.objectType(ConnectionResolution, {
  name: 'ConnectionResolution',
  interfaces: [ResolutionDecisionRef],
  isTypeOf: (value) => value instanceof ConnectionResolution && !(value instanceof ResolutionExplanation),
  fields: (t) => ({
    credentials: t.field({
      type: ConnectionCredentialsRef,
      nullable: true,
      description: 'The decrypted secret. Only for API keys holding the credentials:read permission (FORBIDDEN otherwise); every read is audited.',
      authScopes: { credentialsRead: true },
      resolve: (r, _args, ctx) => readCredentials(ctx, r),
    }),
  }),
});

builder.objectType(ResolutionExplanation, {
  name: 'ResolutionExplanation',
  description: 'What resolveConnection would answer, without credentials and without its side effects.',
  interfaces: [ResolutionDecisionRef],
  isTypeOf: (value) => value instanceof ResolutionExplanation,
  fields: (t) => ({
    wouldRefresh: t.exposeBoolean('wouldRefresh', {
      description: 'The OAuth2 access token expires within a minute: resolveConnection would refresh it before answering.',
    }),
  }),
});

const ResolveConnectionInput = builder.inputType('ResolveConnectionInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    integration: t.string({ required: true, description: 'An alias of a workspace integration, else an integration name.' }),
    externalId: t.string({ description: 'The end user (required for PER_USER integrations).' }),
    action: t.string({ description: 'The action about to be run; refused with ACTION_NOT_ALLOWED when the integration does not allow it.' }),
  }),
});

const resolutionErrors = [ValidationError, NotFoundError, ConnectionRequiredError, AmbiguousIntegrationError, ActionNotAllowedError];

/** The input with its workspace id decoded (another type's or a malformed id is NOT_FOUND). */
function resolutionRequest(input: unknown) {
  const parsed = parseInput(resolveConnectionSchema, input);
  const workspaceId = decodeId(parsed.workspaceId, 'Workspace');
  if (!workspaceId) throw new NotFoundError('workspace', ['input', 'workspaceId']);
  return { ...parsed, workspaceId };
}

builder.mutationField('resolveConnection', (t) =>
  t.field({
    type: ConnectionResolution,
    description:
      'Which connection the workspace uses for an integration, end user and action (FIXED, the end user’s own, its directory’s, or the fallback). ' +
      'A mutation: expiring OAuth2 tokens are refreshed and stored first, each success counts as usage, and every call is audited.',
    authScopes: { staff: true },
    errors: { types: resolutionErrors, union: { name: 'ResolveConnectionResult' } },
    args: { input: t.arg({ type: ResolveConnectionInput, required: true }) },
    resolve: (_root, args, ctx) => resolveConnection(ctx, ctx.principal, resolutionRequest(args.input)),
  }),
);

builder.queryField('explainResolution', (t) =>
  t.field({
    type: ResolutionExplanation,
    description:
      'The decision resolveConnection would take for the same input, and why (strategy, candidates, fallback), with no side effect: ' +
      'no credentials, no token refresh, no usage and no audit entry.',
    authScopes: { staff: true },
    errors: { types: resolutionErrors, union: { name: 'ExplainResolutionResult' } },
    args: { input: t.arg({ type: ResolveConnectionInput, required: true }) },
    resolve: (_root, args, ctx) => explainResolution(ctx.prisma, ctx.principal, resolutionRequest(args.input)),
  }),
);
