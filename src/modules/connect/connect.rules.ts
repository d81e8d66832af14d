// Hosted connect (DESIGN.md §7): the rules of a connect session, each in one
// place. An end user connects one integration through Heddle's page; a session
// names the workspace integration (same matching as resolveConnection), the end
// user (externalId) and where to send the browser back (an allowed origin).
import { z } from 'zod';
import type { AuthField } from '../catalog/catalog.js';
import type { CatalogIntegration } from '../catalog/types.js';
import type { ConnectionSecret, CredentialStore } from '../../platform/crypto/credential-store.js';
import { uuidv7 } from '../../platform/db/uuid.js';
import type { Connection, Prisma, WorkspaceIntegration } from '../../generated/prisma/client.js';
import { secretString, type ConnectionType } from '../connection/connection.rules.js';
import { ensureEndUser } from '../end-user/end-user.rules.js';
import { ValidationError } from '../../platform/errors.js';
import { externalIdSchema } from '../../platform/identifiers.js';
import { callbackUrlSchema, isLoopbackHost } from '../../platform/urls.js';

/** What an end user can connect with on the page: OAuth2 through the provider, or a form. */
export const HOSTED_AUTH_TYPES = ['OAUTH2', 'SECRET_TEXT', 'BASIC_AUTH', 'CUSTOM_AUTH'] as const;
export type HostedAuthType = (typeof HOSTED_AUTH_TYPES)[number];

/** Connect tokens look like `hcs_…`; only their SHA-256 hash is stored. */
export const CONNECT_TOKEN_PREFIX = 'hcs_';
export const DEFAULT_SESSION_SECONDS = 30 * 60;
export const MAX_SESSION_SECONDS = 24 * 60 * 60;
const MIN_SESSION_SECONDS = 60;
/** How long an end user may stay at the provider once the OAuth2 flow started (the state's lifetime). */
export const STATE_TTL_MS = 10 * 60_000;

/** Error codes a session ends with, besides the provider's own (access_denied, invalid_scope…). */
export const CONNECT_ERRORS = {
  /** The session (or its OAuth2 state) expired while the end user was away. */
  SESSION_EXPIRED: 'session_expired',
  /** The token endpoint refused the code (wrong verifier, reused code, wrong client…). */
  TOKEN_EXCHANGE_FAILED: 'token_exchange_failed',
  /** The organization's OAuth app was removed after the session was created. */
  OAUTH_APP_MISSING: 'oauth_app_missing',
} as const;

const ORIGIN_RULE = 'must be an origin such as https://app.example.com: https (http only to localhost), no path, lowercase';

/** An origin exactly as browsers serialise it: scheme, host and port only. */
export const originSchema = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => {
    try {
      const url = new URL(value);
      // The URL parser lets through hosts such as `*.example.com`; an origin list holds real host names only.
      const realHost = /^[a-z0-9.-]+$/.test(url.hostname) || /^\[[0-9a-f:.]+\]$/.test(url.hostname);
      return realHost && url.origin === value && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)));
    } catch {
      return false;
    }
  }, ORIGIN_RULE);

/** A workspace's allowedRedirectOrigins or connectFrameAncestors. */
export const originListSchema = z
  .array(originSchema)
  .max(20, 'must list at most 20 origins')
  .transform((origins) => [...new Set(origins)]);

export const createConnectSessionSchema = z.object({
  workspaceId: z.string(),
  externalId: externalIdSchema,
  integration: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  redirectUrl: z.string().max(2048, 'must be at most 2048 characters').pipe(callbackUrlSchema),
  expiresIn: z
    .number()
    .int()
    .min(MIN_SESSION_SECONDS, `must be at least ${MIN_SESSION_SECONDS} seconds`)
    .max(MAX_SESSION_SECONDS, 'must be at most 86,400 seconds (24 h)'),
  authType: z.enum(HOSTED_AUTH_TYPES).nullish(),
});
export type CreateConnectSessionInput = z.infer<typeof createConnectSessionSchema>;

/** No open redirect: the browser goes back only to an origin the workspace allows. */
export function assertRedirectAllowed(redirectUrl: string, allowedOrigins: string[], path = ['input', 'redirectUrl']): void {
  if (allowedOrigins.includes(new URL(redirectUrl).origin)) return;
  const message = allowedOrigins.length
    ? `must be on one of the workspace's allowedRedirectOrigins (${allowedOrigins.join(', ')})`
    : "must be on one of the workspace's allowedRedirectOrigins, and it has none yet (updateWorkspace sets them)";
  throw new ValidationError([{ path, message }]);
}

/** A FIXED integration never uses an end user's own connection: connecting one would change nothing. */
export function assertUsesUserConnections(integration: WorkspaceIntegration): void {
  if (integration.connectionStrategy !== 'FIXED') return;
  throw new ValidationError([
    { path: ['input', 'integration'], message: `"${integration.alias}" is FIXED: it never uses an end user's own connection` },
  ]);
}

/**
 * The auth type the page offers: the one asked for, else OAuth2 when the
 * integration supports it and the organization registered its OAuth app, else
 * the first form type the integration accepts.
 */
export function chooseAuthType(integration: CatalogIntegration, requested: HostedAuthType | null | undefined, hasOAuthApp: boolean): HostedAuthType {
  const supported = HOSTED_AUTH_TYPES.filter((type) => integration.authTypes.includes(type));
  const forms = supported.filter((type) => type !== 'OAUTH2');
  const chosen = requested ?? (hasOAuthApp && supported.includes('OAUTH2') ? 'OAUTH2' : (forms[0] ?? supported[0]));
  const path = ['input', requested ? 'authType' : 'integration'];
  if (!chosen || !supported.includes(chosen)) {
    const offered = supported.length ? supported.join(', ') : 'none of the hosted connect auth types';
    throw new ValidationError([{ path, message: `${integration.name} connects with ${offered}` }]);
  }
  if (chosen === 'OAUTH2' && !hasOAuthApp) {
    throw new ValidationError([{ path, message: `${integration.name} needs the organization's own OAuth app first (setOAuthApp)` }]);
  }
  return chosen;
}

/** The form's fields for a form auth type, each required; values are trimmed except passwords. */
export function connectFormSchema(fields: AuthField[]) {
  return z.object(
    Object.fromEntries(fields.map((field) => [field.name, field.key === 'password' ? secretString : z.string().trim().pipe(secretString)])),
  );
}

/** The connection secret the form's values make. */
export function secretFromForm(fields: AuthField[], values: Record<string, string>): ConnectionSecret {
  const secret: ConnectionSecret = {};
  for (const field of fields) {
    if (field.key === 'fields') secret.fields = { ...secret.fields, [field.name]: values[field.name]! };
    else secret[field.key] = values[field.name]!;
  }
  return secret;
}

export interface UserConnectionInput {
  workspace: { id: string; organizationId: string };
  externalId: string;
  integration: CatalogIntegration;
  type: ConnectionType;
  secret: ConnectionSecret;
  expiresAt: Date | null;
  /** The OAuth app the tokens came from (its client refreshes them); null for forms. */
  oauthAppId: string | null;
}

/**
 * Stores what an end user connected, inside the caller's transaction: the end
 * user is created when unknown; its newest USER connection for the integration
 * gets the new credentials in place (same id, ACTIVE again), otherwise a new one
 * is made. Returns the connection and whether it replaced one.
 */
export async function storeUserConnection(
  tx: Prisma.TransactionClient,
  store: CredentialStore,
  input: UserConnectionInput,
): Promise<{ connection: Connection; replaced: boolean }> {
  const endUser = await ensureEndUser(tx, input.workspace.id, input.externalId);
  // Two sessions of one end user finishing together must not both create a connection.
  await tx.$queryRaw`SELECT id FROM "EndUser" WHERE id = ${endUser.id}::uuid FOR UPDATE`;
  const existing = await tx.connection.findFirst({
    where: { endUserId: endUser.id, scope: 'USER', integrationName: input.integration.name },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: { id: true },
  });
  const id = existing?.id ?? uuidv7();
  const credentials = {
    type: input.type,
    status: 'ACTIVE' as const,
    statusReason: null,
    expiresAt: input.expiresAt,
    tokenUrl: null,
    oauthAppId: input.oauthAppId,
    ...store.seal({ organizationId: input.workspace.organizationId, connectionId: id }, input.secret),
  };
  if (existing) return { connection: await tx.connection.update({ where: { id }, data: credentials }), replaced: true };
  const connection = await tx.connection.create({
    data: {
      id,
      organizationId: input.workspace.organizationId,
      workspaceId: input.workspace.id,
      endUserId: endUser.id,
      scope: 'USER',
      integrationName: input.integration.name,
      displayName: `${input.integration.displayName} (${input.externalId})`.slice(0, 200),
      ...credentials,
    },
  });
  return { connection, replaced: false };
}
