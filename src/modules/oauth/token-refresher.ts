// Refreshes expiring OAuth2 access tokens, once per connection however many
// resolutions ask at the same time:
// - in this process, concurrent callers share one promise per connection;
// - across instances on PostgreSQL, the refresh runs in a transaction holding
//   the connection's row lock (SELECT … FOR UPDATE) and re-reads the row after
//   getting it: when another instance refreshed meanwhile, its result is used.
// The embedded PGlite database belongs to one process, so there the in-process
// flight is the whole guard (a transaction would stall every other query while
// the token endpoint answers).
import { getIntegration } from '../catalog/catalog.js';
import { openConnectionSecret, WITH_SEALED_COLUMNS, type CredentialStore } from '../../platform/crypto/credential-store.js';
import { Prisma, type Connection, type OAuthApp, type PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../platform/logger.js';
import { publishConnectionStatus } from '../realtime/connection-status.js';
import type { PubSubHandle } from '../../platform/pubsub.js';
import { clientCredentialsOf, endpointsOf } from './oauth-app.rules.js';
import { requestTokenRefresh } from './token-endpoint.js';

/** Tokens that expire within this margin are refreshed before they are handed out. */
export const REFRESH_MARGIN_MS = 60_000;
export const DEFAULT_REFRESH_TIMEOUT_MS = 10_000;

export function needsRefresh(connection: Pick<Connection, 'type' | 'expiresAt'>, now = Date.now()): boolean {
  return (
    (connection.type === 'OAUTH2' || connection.type === 'PLATFORM_OAUTH2') &&
    connection.expiresAt !== null &&
    connection.expiresAt.getTime() - now <= REFRESH_MARGIN_MS
  );
}

/** The connection's own token URL, else its OAuth app's (hosted connect), else the catalog's. */
export function tokenUrlOf(connection: Pick<Connection, 'tokenUrl' | 'integrationName'>, app?: OAuthApp | null): string | null {
  return connection.tokenUrl ?? (app ? endpointsOf(app).tokenUrl : getIntegration(connection.integrationName)?.oauth2?.tokenUrl) ?? null;
}

export type RefreshOutcome =
  /** The connection to hand out, and what happened to its token. */
  | { ok: true; connection: Connection; note: string }
  /** The connection cannot be used: it is (now) in ERROR for `reason`. */
  | { ok: false; reason: string };

type Db = PrismaClient | Prisma.TransactionClient;

export interface TokenRefresherOptions {
  prisma: PrismaClient;
  credentials: CredentialStore;
  pubsub: PubSubHandle;
  logger: Logger;
  /** Take the connection's row lock (PostgreSQL, several instances). */
  lockRows: boolean;
  timeoutMs?: number;
}

export class TokenRefresher {
  private readonly inFlight = new Map<string, Promise<RefreshOutcome>>();
  private readonly timeoutMs: number;

  constructor(private readonly options: TokenRefresherOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
  }

  /**
   * Refreshes the connection's token if it still needs it; concurrent calls
   * share one attempt. `rejected`: the provider refused this sealed secret
   * (HTTP 401), so it is refreshed even before it expires, unless another
   * caller has replaced it meanwhile.
   */
  refresh(connectionId: string, rejected?: Pick<Connection, 'secretCiphertext'>): Promise<RefreshOutcome> {
    let flight = this.inFlight.get(connectionId);
    if (!flight) {
      flight = this.refreshOnce(connectionId, rejected?.secretCiphertext ?? null).finally(() => this.inFlight.delete(connectionId));
      this.inFlight.set(connectionId, flight);
    }
    return flight;
  }

  private async refreshOnce(connectionId: string, rejected: Uint8Array | null): Promise<RefreshOutcome> {
    const { prisma, lockRows } = this.options;
    const attempt = lockRows
      ? await prisma.$transaction((tx) => this.attempt(tx, connectionId, true, rejected), {
          // The lock is held while the token endpoint answers; waiters queue behind it.
          timeout: this.timeoutMs + 10_000,
          maxWait: this.timeoutMs + 10_000,
        })
      : await this.attempt(prisma, connectionId, false, rejected);
    if (attempt.failed) {
      this.options.logger.warn({ connectionId, reason: attempt.failed.reason }, 'OAuth2 token refresh failed; connection set to ERROR');
      await publishConnectionStatus(this.options, attempt.failed.connection);
    }
    return attempt.outcome;
  }

  private async attempt(
    db: Db,
    connectionId: string,
    lock: boolean,
    rejected: Uint8Array | null,
  ): Promise<{ outcome: RefreshOutcome; failed?: { connection: Connection; reason: string } }> {
    const [row] = await db.$queryRaw<Connection[]>`
      SELECT * FROM "Connection" WHERE id = ${connectionId}::uuid ${lock ? Prisma.sql`FOR UPDATE` : Prisma.empty}`;
    if (!row) return { outcome: { ok: false, reason: 'the connection was deleted' } };
    if (row.status !== 'ACTIVE') {
      return { outcome: { ok: false, reason: `connection "${row.displayName}" is in ERROR${row.statusReason ? `: ${row.statusReason}` : ''}` } };
    }
    const refused = rejected !== null && row.secretCiphertext !== null && Buffer.from(row.secretCiphertext).equals(rejected);
    if (!needsRefresh(row) && !refused) return { outcome: { ok: true, connection: row, note: 'its access token was refreshed by a concurrent resolution' } };

    const secret = openConnectionSecret(this.options.credentials, row);
    // Connections made through hosted connect refresh with their OAuth app's current client.
    const app = row.oauthAppId ? await db.oAuthApp.findUnique({ where: { id: row.oauthAppId }, omit: WITH_SEALED_COLUMNS }) : null;
    const client = secret.clientId || !app ? { clientId: secret.clientId, clientSecret: secret.clientSecret } : clientCredentialsOf(this.options.credentials, app);
    const tokenUrl = tokenUrlOf(row, app);
    const expired = refused ? 'the provider refused its access token' : `its access token expires at ${row.expiresAt!.toISOString()}`;
    if (!secret.refreshToken || !tokenUrl) {
      const missing = secret.refreshToken ? 'no token URL' : 'no refresh token';
      return { outcome: { ok: true, connection: row, note: `${expired} and cannot be refreshed (${missing})` } };
    }
    const result = await requestTokenRefresh(
      tokenUrl,
      { refreshToken: secret.refreshToken, ...client },
      this.timeoutMs,
    );
    if (!result.ok) {
      const failed = await db.connection.update({ where: { id: row.id }, data: { status: 'ERROR', statusReason: result.reason } });
      return { outcome: { ok: false, reason: result.reason }, failed: { connection: failed, reason: result.reason } };
    }
    const sealed = this.options.credentials.seal(
      { organizationId: row.organizationId, connectionId: row.id },
      { ...secret, accessToken: result.accessToken, refreshToken: result.refreshToken ?? secret.refreshToken },
    );
    // The caller opens the refreshed secret: read back with it.
    const refreshed = await db.connection.update({ where: { id: row.id }, data: { ...sealed, expiresAt: result.expiresAt }, omit: WITH_SEALED_COLUMNS });
    return { outcome: { ok: true, connection: refreshed, note: `${expired}: refreshed` } };
  }
}
