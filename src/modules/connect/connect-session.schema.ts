// Hosted connect sessions: a backend (API key, or an OWNER/ADMIN) asks for one,
// sends its end user to the returned url, and hears the outcome on
// connectSessionCompleted. The rules live in connect.rules.ts, the database
// side in connect-session.service.ts, the pages and the OAuth2 flow in handler.ts.
import { visibleNode } from '../../auth/registry.js';
import { createConnectSessionSchema, DEFAULT_SESSION_SECONDS, HOSTED_AUTH_TYPES } from './connect.rules.js';
import { AmbiguousIntegrationError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validate.js';
import { builder } from '../common/builder.js';
import { may, staffOnly } from '../common/scopes.js';
import { workspaceSubscription } from '../common/workspace-subscription.js';
import { ConnectionTypeEnum } from '../connection/connection.schema.js';
import { createConnectSession } from './connect-session.service.js';

const ConnectSessionStatusEnum = builder.enumType('ConnectSessionStatus', {
  values: {
    PENDING: { description: 'Waiting for the end user.' },
    SUCCEEDED: { description: 'The connection is stored; the session cannot be used again.' },
    FAILED: { description: 'The end user refused, or the provider or the session failed (see error).' },
  },
});

/** Sessions stay readable this long after they expired; creating a session prunes older ones of its workspace. */

builder.prismaNode('ConnectSession', {
  nullable: true,
  authScopes: staffOnly,
  id: { field: 'id' },
  findUnique: visibleNode('ConnectSession'),
  fields: (t) => ({
    status: t.expose('status', { type: ConnectSessionStatusEnum }),
    error: t.exposeString('errorCode', {
      nullable: true,
      description: "Why a FAILED session failed: the provider's OAuth2 error (access_denied…), session_expired, token_exchange_failed or oauth_app_missing.",
    }),
    externalId: t.exposeString('externalId'),
    integration: t.exposeString('integration', { description: 'The alias or integration name the session was created with.' }),
    integrationName: t.exposeString('integrationName'),
    authType: t.expose('authType', { type: ConnectionTypeEnum }),
    redirectUrl: t.exposeString('redirectUrl'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    workspace: t.relation('workspace'),
    workspaceIntegration: t.relation('workspaceIntegration'),
    connection: t.relation('connection', { nullable: true, description: 'The connection stored (new, or reconnected in place).' }),
    endUser: t.relation('endUser', { nullable: true }),
  }),
});

class CreatedConnectSession {
  constructor(
    readonly url: string,
    readonly token: string,
    readonly expiresAt: Date,
    readonly sessionId: string,
  ) {}
}

builder.objectType(CreatedConnectSession, {
  name: 'CreatedConnectSession',
  isTypeOf: (value) => value instanceof CreatedConnectSession,
  fields: (t) => ({
    url: t.exposeString('url', { description: 'Send the end user here (redirect or popup). Works once, until expiresAt.' }),
    token: t.exposeString('token', { description: 'The token inside url. Shown once; Heddle keeps only its hash.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    session: t.prismaField({
      type: 'ConnectSession',
      resolve: (query, created, _args, ctx) => ctx.prisma.connectSession.findUniqueOrThrow({ ...query, where: { id: created.sessionId } }),
    }),
  }),
});

const HostedAuthTypeInput = builder.enumType('HostedConnectAuthType', { values: HOSTED_AUTH_TYPES });

const CreateConnectSessionInput = builder.inputType('CreateConnectSessionInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    externalId: t.string({ required: true, description: 'The end user; an unknown externalId is created when the connection is stored.' }),
    integration: t.string({ required: true, description: 'An alias of a workspace integration, else an integration name (as in resolveConnection).' }),
    redirectUrl: t.string({
      required: true,
      description: "Where the browser goes afterwards, with status=success&connectionId=… or status=error&error=…; must be on one of the workspace's allowedRedirectOrigins.",
    }),
    expiresIn: t.int({ defaultValue: DEFAULT_SESSION_SECONDS, description: 'Seconds, from 60 to 86,400 (24 h).' }),
    authType: t.field({
      type: HostedAuthTypeInput,
      description: "Default: OAUTH2 when the integration has it and the organization's OAuth app is set, else the integration's first form type.",
    }),
  }),
});

builder.mutationField('createConnectSession', (t) =>
  t.field({
    type: CreatedConnectSession,
    description: 'A single-use link to the hosted connect page, where the end user connects its own account.',
    authScopes: may('create', 'ConnectSession', 'workspaceId'),
    errors: { types: [ValidationError, NotFoundError, AmbiguousIntegrationError], union: { name: 'CreateConnectSessionResult' } },
    args: { input: t.arg({ type: CreateConnectSessionInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(createConnectSessionSchema, args.input);
      const created = await createConnectSession(ctx, input);
      return new CreatedConnectSession(created.url, created.token, created.expiresAt, created.id);
    },
  }),
);

builder.subscriptionField('connectSessionCompleted', (t) =>
  t.prismaField({
    type: 'ConnectSession',
    description: "The workspace's hosted connect sessions as they end: SUCCEEDED with the connection, or FAILED with the error.",
    authScopes: { staff: true },
    args: { workspaceId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => workspaceSubscription(ctx, args.workspaceId, 'connect-session'),
    // The message carries ids only: the session is read as it is now.
    resolve: (query, message, _args, ctx) => ctx.prisma.connectSession.findUniqueOrThrow({ ...query, where: { id: message.sessionId } }),
  }),
);
