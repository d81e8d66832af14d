// The life of a connect session in the database: found by its token's or its
// state's hash, started (OAuth2), and ended exactly once, SUCCEEDED or FAILED.
// Ending is a compare-and-set on PENDING inside the transaction that stores the
// connection, so a replay or a race finds nothing to end and writes nothing.
// After it commits, the outcome is announced: connectionStatusChanged,
// connectSessionCompleted, the audit log and one log line (never a secret).
import { auditChange, recordAudit, targetOf, type AuditTarget } from '../audit/audit.service.js';
import type { Tx } from '../../platform/outbox.js';
import { requireWorkspace } from '../../auth/registry.js';
import { hashToken, randomToken } from '../../platform/crypto/tokens.js';
import { matchIntegration } from '../resolution/resolution.rules.js';
import { sessionUrl } from './urls.js';
import {
  assertRedirectAllowed,
  assertUsesUserConnections,
  chooseAuthType,
  CONNECT_TOKEN_PREFIX,
  storeUserConnection,
  type CreateConnectSessionInput,
  type HostedAuthType,
} from './connect.rules.js';
import type { Principal } from '../../auth/principal.js';
import { getIntegration } from '../catalog/catalog.js';
import { openSealedColumns, WITH_SEALED_COLUMNS, type ConnectionSecret } from '../../platform/crypto/credential-store.js';
import type { Connection, Prisma } from '../../generated/prisma/client.js';
import { publishConnectionStatus } from '../realtime/connection-status.js';
import { encodeGlobalID } from '../../platform/ids.js';
import type { Context, Services } from '../common/context.js';

const EXPIRED_SESSION_RETENTION_MS = 24 * 60 * 60 * 1000;

const VIEW = {
  include: {
    organization: { select: { name: true } },
    workspace: { select: { connectFrameAncestors: true, allowedRedirectOrigins: true } },
  },
} satisfies Prisma.ConnectSessionDefaultArgs;

export type SessionView = Prisma.ConnectSessionGetPayload<typeof VIEW>;

/** Whether a session's page can still be used, and if not, why. */
export function availability(session: SessionView, now = new Date()): 'open' | 'used' | 'expired' {
  if (session.status !== 'PENDING') return 'used';
  return session.expiresAt <= now ? 'expired' : 'open';
}

export const findSessionByToken = (services: Services, tokenHash: string) =>
  services.prisma.connectSession.findUnique({ ...VIEW, where: { tokenHash } });

/** The callback's read: with the sealed PKCE verifier (codeVerifierOf). */
export const findSessionByState = (services: Services, stateHash: string) =>
  services.prisma.connectSession.findUnique({ ...VIEW, omit: WITH_SEALED_COLUMNS, where: { stateHash } });

/** The organization's OAuth client for the flow, its sealed client secret included (clientCredentialsOf). */
export const oauthAppFor = (services: Services, session: Pick<SessionView, 'organizationId' | 'integrationName'>) =>
  services.prisma.oAuthApp.findUnique({
    where: { organizationId_integrationName: { organizationId: session.organizationId, integrationName: session.integrationName } },
    omit: WITH_SEALED_COLUMNS,
  });

/** The PKCE verifier sealed when the flow started. */
export function codeVerifierOf(services: Services, session: SessionView): string | null {
  const sealed = openSealedColumns<{ codeVerifier?: string }>(
    services.credentials,
    { organizationId: session.organizationId, connectSessionId: session.id },
    session,
  );
  return sealed?.codeVerifier ?? null;
}

/**
 * Where the browser is sent back: the session's redirectUrl plus the outcome;
 * null when the workspace no longer allows that origin (checked again at the end, not only at creation).
 */
export function returnUrl(session: SessionView, outcome: { connectionId: string } | { error: string }): string | null {
  const url = new URL(session.redirectUrl);
  if (!session.workspace.allowedRedirectOrigins.includes(url.origin)) return null;
  if ('connectionId' in outcome) {
    url.searchParams.set('status', 'success');
    url.searchParams.set('connectionId', encodeGlobalID('Connection', outcome.connectionId));
  } else {
    url.searchParams.set('status', 'error');
    url.searchParams.set('error', outcome.error);
  }
  return url.toString();
}

/** The session ended before this call could end it (replay, race, or expiry). */
export class SessionClosedError extends Error {}

const SEALED_CLEARED = { secretCiphertext: null, wrappedDataKey: null, keyVersion: null };

/**
 * Stores what the end user connected and ends the session SUCCEEDED, in one
 * transaction: nothing is written unless the session was still PENDING.
 */
export async function succeed(
  services: Services,
  session: SessionView,
  credentials: { type: HostedAuthType; secret: ConnectionSecret; expiresAt: Date | null; oauthAppId: string | null },
): Promise<Connection> {
  const { connection, replaced } = await services.prisma.$transaction(async (tx) => {
    const now = new Date();
    const claimed = await tx.connectSession.updateMany({
      // OAuth2 was checked against its state's own lifetime at the callback; a form must beat the session's.
      where: { id: session.id, status: 'PENDING', expiresAt: credentials.type === 'OAUTH2' ? undefined : { gt: now } },
      data: { status: 'SUCCEEDED', completedAt: now, ...SEALED_CLEARED },
    });
    if (claimed.count !== 1) throw new SessionClosedError();
    const stored = await storeUserConnection(tx, services.credentials, {
      workspace: { id: session.workspaceId, organizationId: session.organizationId },
      externalId: session.externalId,
      integration: getIntegration(session.integrationName)!,
      ...credentials,
    });
    await tx.connectSession.update({
      where: { id: session.id },
      data: { connectionId: stored.connection.id, endUserId: stored.connection.endUserId },
    });
    return stored;
  });
  await publishConnectionStatus(services, connection);
  await announce(services, session, { outcome: 'SUCCEEDED', connection, replaced });
  return connection;
}

/** Ends the session FAILED with `error`; false when it had already ended. */
export async function fail(services: Services, session: SessionView, error: string): Promise<boolean> {
  const ended = await services.prisma.connectSession.updateMany({
    where: { id: session.id, status: 'PENDING' },
    data: { status: 'FAILED', errorCode: error, completedAt: new Date(), ...SEALED_CLEARED },
  });
  if (ended.count !== 1) return false;
  await announce(services, session, { outcome: 'FAILED', error });
  return true;
}

type Outcome = { outcome: 'SUCCEEDED'; connection: Connection; replaced: boolean } | { outcome: 'FAILED'; error: string };

async function announce(services: Services, session: SessionView, ended: Outcome): Promise<void> {
  services.pubsub.pubsub.publish('connect-session', { workspaceId: session.workspaceId, sessionId: session.id });
  const sessionId = encodeGlobalID('ConnectSession', session.id);
  const facts = { sessionId, integration: session.integration, authType: session.authType };
  if (ended.outcome === 'SUCCEEDED') {
    const { connection, replaced } = ended;
    services.logger.info({ ...facts, workspaceId: session.workspaceId, connectionId: connection.id, replaced }, 'connect session succeeded');
    // The end user acted: it is the audit entry's actor.
    const principal: Principal = {
      kind: 'endUser',
      endUserId: connection.endUserId!,
      externalId: session.externalId,
      workspaceId: session.workspaceId,
      organizationId: session.organizationId,
      directoryId: null,
      expiresAt: null,
    };
    await recordAudit(
      { ...services, principal },
      {
        action: 'connect.succeeded',
        outcome: 'SUCCESS',
        target: { type: 'Connection', id: encodeGlobalID('Connection', connection.id), organizationId: session.organizationId, workspaceId: session.workspaceId },
        details: { ...facts, replaced },
      },
    );
  } else {
    services.logger.info({ ...facts, workspaceId: session.workspaceId, error: ended.error }, 'connect session failed');
    await recordAudit(
      { ...services, principal: { kind: 'anonymous' } },
      {
        action: 'connect.failed',
        outcome: 'FAILURE',
        target: { type: 'ConnectSession', id: sessionId, organizationId: session.organizationId, workspaceId: session.workspaceId },
        details: { ...facts, error: ended.error },
      },
    );
  }
}

/** A single-use link to the hosted connect page for one end user and one workspace integration. */
export async function createConnectSession(ctx: Context, input: CreateConnectSessionInput) {
  const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
  return openConnectSession(ctx, workspace, input, (tx, target) => auditChange(tx, ctx.principal, { target }));
}

/**
 * Creates a session in `workspace` for a caller already allowed to (createConnectSession's ADMIN, or an
 * MCP server an admin gave a connectRedirectUrl); `audit` writes the caller's entry in the same transaction.
 */
export async function openConnectSession(
  services: Pick<Services, 'prisma' | 'publicUrl'>,
  workspace: { id: string; organizationId: string },
  input: Omit<CreateConnectSessionInput, 'workspaceId'>,
  audit: (tx: Tx, target: AuditTarget) => Promise<void>,
) {
  const { id: workspaceId, organizationId } = workspace;
  const [{ allowedRedirectOrigins }, candidates, oauthApps] = await Promise.all([
    services.prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { allowedRedirectOrigins: true } }),
    services.prisma.workspaceIntegration.findMany({
      where: { workspaceId, OR: [{ alias: input.integration }, { integrationName: input.integration }] },
    }),
    services.prisma.oAuthApp.findMany({ where: { organizationId }, select: { integrationName: true } }),
  ]);
  assertRedirectAllowed(input.redirectUrl, allowedRedirectOrigins);
  const integration = matchIntegration(candidates, input.integration);
  assertUsesUserConnections(integration);
  const hasOAuthApp = oauthApps.some((app) => app.integrationName === integration.integrationName);
  const authType = chooseAuthType(getIntegration(integration.integrationName)!, input.authType, hasOAuthApp);

  const token = randomToken(CONNECT_TOKEN_PREFIX);
  const now = Date.now();
  const expiresAt = new Date(now + input.expiresIn * 1000);
  const session = await services.prisma.$transaction(async (tx) => {
    // Sessions ended or expired more than a day ago are no longer needed by anyone.
    await tx.connectSession.deleteMany({ where: { workspaceId, expiresAt: { lt: new Date(now - EXPIRED_SESSION_RETENTION_MS) } } });
    const created = await tx.connectSession.create({
      data: {
        organizationId,
        workspaceId,
        workspaceIntegrationId: integration.id,
        integration: input.integration,
        integrationName: integration.integrationName,
        authType,
        externalId: input.externalId,
        redirectUrl: input.redirectUrl,
        tokenHash: hashToken(token),
        expiresAt,
      },
      select: { id: true },
    });
    await audit(tx, targetOf('ConnectSession', { id: created.id, organizationId, workspaceId }));
    return created;
  });
  return { url: sessionUrl(services.publicUrl(), token), token, expiresAt, id: session.id };
}
