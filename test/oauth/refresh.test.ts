// OAuth2 refresh (RFC 6749 §6) before an expiring token is handed out, once per
// connection however many resolutions ask, also across instances; a failed
// refresh puts the connection in ERROR and says so. The token endpoint is a
// real HTTP server on loopback.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { openConnectionSecret, WITH_SEALED_COLUMNS } from '../../src/platform/crypto/credential-store.js';
import { TokenRefresher, tokenUrlOf } from '../../src/modules/oauth/token-refresher.js';
import type { ConnectionStatusMessage } from '../../src/platform/pubsub.js';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { createPostgresDatabase, startTestApp, type TestApp } from '../support/app.js';
import { seedApiKey, seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { collectEvents } from '../support/events.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

const Resolve = graphql(`
  mutation RfResolve($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution {
        explanation
        connection { id status expiresAt }
        credentials { accessToken refreshToken expiresAt }
      }
      ...ErrorFields
      ... on ConnectionRequiredError { explanation }
    }
  }
`);
const Explain = graphql(`
  query RfExplain($input: ResolveConnectionInput!) {
    explainResolution(input: $input) {
      __typename
      ... on ResolutionExplanation { source strategy wouldRefresh explanation connection { id status expiresAt } }
      ...ErrorFields
    }
  }
`);
const ConnectionStatus = graphql(`
  query RfConnection($id: ID!) { node(id: $id) { ... on Connection { status statusReason expiresAt } } }
`);

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const rowId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

interface Fixture {
  t: TestApp;
  owner: string;
  reader: string;
  orgId: string;
  workspaceId: string;
}

async function seedTenant(t: TestApp, slug: string): Promise<Fixture> {
  const owner = await t.memberToken(`${slug}@example.com`);
  const orgId = await seedOrganization(t, owner, slug);
  const workspaceId = await seedWorkspace(t, owner, orgId, 'main');
  const reader = await seedApiKey(t, owner, { organizationId: orgId, permissions: ['CREDENTIALS_READ'] });
  return { t, owner, reader, orgId, workspaceId };
}

/** An OAuth2 connection with a FIXED integration under `alias`; returns the connection's global id. */
async function seedOAuthIntegration(
  f: Fixture,
  alias: string,
  options: { tokenUrl: string; expiresAt: string; refreshToken?: string | null; type?: 'OAUTH2' | 'PLATFORM_OAUTH2'; scope?: 'WORKSPACE' | 'ORGANIZATION' },
): Promise<string> {
  const scope = options.scope ?? 'WORKSPACE';
  const connectionId = await seedConnection(f.t, f.owner, {
    scope,
    ...(scope === 'WORKSPACE' ? { workspaceId: f.workspaceId } : { organizationId: f.orgId }),
    type: options.type ?? 'OAUTH2',
    integrationName: 'gmail',
    displayName: `${alias} inbox`,
    tokenUrl: options.tokenUrl,
    credentials: {
      accessToken: `${alias}-old-access`,
      ...(options.refreshToken === null ? {} : { refreshToken: options.refreshToken ?? `${alias}-old-refresh` }),
      clientId: `${alias}-client`,
      clientSecret: `${alias}-client-secret`,
      expiresAt: options.expiresAt,
    },
  });
  await seedIntegration(f.t, f.owner, { workspaceId: f.workspaceId, integrationName: 'gmail', alias, connectionStrategy: 'FIXED', connectionId });
  return connectionId;
}

const resolve = (f: Fixture, integration: string, t = f.t) => t.request(Resolve, { input: { workspaceId: f.workspaceId, integration } }, f.reader);

async function storedSecret(t: TestApp, connectionId: string) {
  const row = await t.app.database.prisma.connection.findUniqueOrThrow({ where: { id: rowId(connectionId) }, omit: WITH_SEALED_COLUMNS });
  return { row, secret: openConnectionSecret(t.app.services.credentials, row) };
}

describeEachBackend(
  'OAuth2 refresh',
  (_backend, test) => {
    let t: TestApp;
    let f: Fixture;
    let server: TokenServer;
    let statusEvents: ReturnType<typeof collectEvents<'connection-status'>>;
    let events: ConnectionStatusMessage[];

    test.beforeAll(async ({ t: app, tenant, workspaceId, readerKey }) => {
      t = app;
      f = { t, owner: tenant.token, reader: readerKey, orgId: tenant.organizationId, workspaceId };
      server = await startTokenServer();
      statusEvents = collectEvents(t.app.services.pubsub, 'connection-status');
      events = statusEvents.events;
    });
    afterEach(() => {
      server.calls.length = 0;
      events.length = 0;
    });
    afterAll(async () => {
      statusEvents.stop();
      await server.close();
    });

    test('explainResolution answers the same decision with no side effect: no refresh, no usage, no audit entry, no stored token', async () => {
      const connectionId = await seedOAuthIntegration(f, 'explained', { tokenUrl: server.url, expiresAt: inSeconds(-600) });
      server.reply = () => ({ body: { access_token: 'explained-new-access', token_type: 'Bearer', expires_in: 3600 } });
      const prisma = t.app.database.prisma;
      const counts = () => Promise.all([prisma.auditEvent.count(), prisma.usageCounter.aggregate({ _sum: { resolutions: true } }), storedSecret(t, connectionId)]);
      const [auditBefore, usageBefore, storedBefore] = await counts();

      const explained = await t.request(Explain, { input: { workspaceId: f.workspaceId, integration: 'explained' } }, f.reader);
      expect(explained.errors).toBeUndefined();
      expect(explained.data?.explainResolution).toMatchObject({
        __typename: 'ResolutionExplanation',
        source: 'FIXED',
        strategy: 'FIXED',
        wouldRefresh: true,
        connection: { id: connectionId, status: 'ACTIVE' },
      });
      const explanation = (explained.data!.explainResolution as { explanation: string[] }).explanation;
      expect(explanation.at(-1)).toMatch(/expires soon; resolveConnection refreshes it first/);

      const [auditAfter, usageAfter, storedAfter] = await counts();
      expect(server.calls).toHaveLength(0);
      expect(auditAfter).toBe(auditBefore);
      expect(usageAfter._sum.resolutions).toBe(usageBefore._sum.resolutions);
      expect(storedAfter.row.updatedAt).toEqual(storedBefore.row.updatedAt);
      expect(storedAfter.secret).toEqual(storedBefore.secret);

      // The mutation, by contrast, refreshes, meters and audits.
      const resolved = await resolve(f, 'explained');
      expect(resolved.data?.resolveConnection).toMatchObject({ credentials: { accessToken: 'explained-new-access' } });
      const [auditResolved, usageResolved] = await counts();
      expect(server.calls).toHaveLength(1);
      expect(auditResolved).toBe(auditAfter + 2); // resolveConnection, and the audited credentials read
      expect(usageResolved._sum.resolutions).toBe((usageAfter._sum.resolutions ?? 0) + 1);
    });

    test('50 concurrent resolutions of one expired connection: the token endpoint is called once and all 50 get the new token', async () => {
      const connectionId = await seedOAuthIntegration(f, 'expired', { tokenUrl: server.url, expiresAt: inSeconds(-600) });
      server.reply = () => ({
        delayMs: 300,
        body: { access_token: 'fresh-access-token', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rotated-refresh-token' },
      });
      const results = await Promise.all(Array.from({ length: 50 }, () => resolve(f, 'expired')));
      expect(server.calls).toHaveLength(1);
      expect(Object.fromEntries(server.calls[0]!)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'expired-old-refresh',
        client_id: 'expired-client',
        client_secret: 'expired-client-secret',
      });
      for (const result of results) {
        expect(result.errors).toBeUndefined();
        expect(result.data?.resolveConnection).toMatchObject({
          __typename: 'ConnectionResolution',
          credentials: { accessToken: 'fresh-access-token', refreshToken: 'rotated-refresh-token' },
        });
      }
      const explanation = (results[0]!.data!.resolveConnection as { explanation: string[] }).explanation;
      expect(explanation.some((line) => /refreshed/.test(line))).toBe(true);

      // Stored sealed, with the rotated refresh token and the new expiry.
      const { row, secret } = await storedSecret(t, connectionId);
      expect(secret).toMatchObject({ accessToken: 'fresh-access-token', refreshToken: 'rotated-refresh-token', clientSecret: 'expired-client-secret' });
      expect(row.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 3500_000);
      expect(Buffer.from(row.secretCiphertext!).toString('latin1')).not.toContain('fresh-access-token');

      // The fresh token is handed out as it is.
      expect((await resolve(f, 'expired')).data?.resolveConnection).toMatchObject({ credentials: { accessToken: 'fresh-access-token' } });
      expect(server.calls).toHaveLength(1);
    });

    test('a token that expires within 60 s is refreshed (also PLATFORM_OAUTH2); one that expires later is not', async () => {
      await seedOAuthIntegration(f, 'soon', { tokenUrl: server.url, expiresAt: inSeconds(30), type: 'PLATFORM_OAUTH2' });
      await seedOAuthIntegration(f, 'later', { tokenUrl: server.url, expiresAt: inSeconds(600) });
      server.reply = () => ({ body: { access_token: 'soon-new-access', expires_in: '7200' } });
      expect((await resolve(f, 'later')).data?.resolveConnection).toMatchObject({ credentials: { accessToken: 'later-old-access' } });
      expect(server.calls).toHaveLength(0);
      const soon = await resolve(f, 'soon');
      // No rotated refresh token in the answer: the old one stays.
      expect(soon.data?.resolveConnection).toMatchObject({ credentials: { accessToken: 'soon-new-access', refreshToken: 'soon-old-refresh' } });
      expect(server.calls).toHaveLength(1);
    });

    test('an expired token without a refresh token is handed out as it is, and the explanation says why', async () => {
      await seedOAuthIntegration(f, 'norefresh', { tokenUrl: server.url, expiresAt: inSeconds(-60), refreshToken: null });
      const result = await resolve(f, 'norefresh');
      expect(result.data?.resolveConnection).toMatchObject({ credentials: { accessToken: 'norefresh-old-access' } });
      expect((result.data?.resolveConnection as { explanation: string[] }).explanation.at(-1)).toMatch(/cannot be refreshed \(no refresh token\)/);
      expect(server.calls).toHaveLength(0);
    });

    test('a refused refresh (invalid_grant) sets ERROR with a reason, announces the status change and returns CONNECTION_REQUIRED', async () => {
      const connectionId = await seedOAuthIntegration(f, 'revoked', { tokenUrl: server.url, expiresAt: inSeconds(-60) });
      server.reply = () => ({ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } });
      const result = await resolve(f, 'revoked');
      expect(result.data?.resolveConnection).toMatchObject({
        __typename: 'ConnectionRequiredError',
        code: 'CONNECTION_REQUIRED',
        message: expect.stringContaining('invalid_grant'),
      });
      const status = await t.request(ConnectionStatus, { id: connectionId }, f.owner);
      expect(status.data?.node).toMatchObject({ status: 'ERROR', statusReason: 'token refresh failed: HTTP 400 (invalid_grant)' });
      // Other test files share the Redis: this connection's messages.
      await expect.poll(() => events.filter((e) => e.connectionId === rowId(connectionId))).toEqual([{ workspaceId: rowId(f.workspaceId), connectionId: rowId(connectionId) }]);

      // From now on the rule skips it, without asking the token endpoint again.
      const again = await resolve(f, 'revoked');
      expect(again.data?.resolveConnection).toMatchObject({ code: 'CONNECTION_REQUIRED' });
      expect((again.data?.resolveConnection as { explanation: string[] }).explanation.join('\n')).toMatch(/skipped: it is ERROR \(token refresh failed: HTTP 400 \(invalid_grant\)\)/);
      expect(server.calls).toHaveLength(1);
    });

    test('an organization connection’s failure is announced to every workspace that uses it', async () => {
      const second = await seedWorkspace(t, f.owner, f.orgId, 'second');
      const connectionId = await seedOAuthIntegration(f, 'shared', { tokenUrl: server.url, expiresAt: inSeconds(-60), scope: 'ORGANIZATION' });
      await seedIntegration(t, f.owner, { workspaceId: second, integrationName: 'gmail', alias: 'shared', connectionStrategy: 'FIXED', connectionId });
      server.reply = () => ({ status: 200, body: { ok: false, error: 'invalid_refresh_token' } });
      expect((await resolve(f, 'shared')).data?.resolveConnection).toMatchObject({ code: 'CONNECTION_REQUIRED' });
      const announced = () => events.filter((e) => e.connectionId === rowId(connectionId)).map((e) => e.workspaceId);
      await expect.poll(() => announced().sort()).toEqual([rowId(f.workspaceId), rowId(second)].sort());
    });

    test('an unreachable token endpoint and one that does not answer in time both end in ERROR', async () => {
      const unreachable = await seedOAuthIntegration(f, 'unreachable', { tokenUrl: `http://127.0.0.1:${await closedPort()}/token`, expiresAt: inSeconds(-60) });
      expect((await resolve(f, 'unreachable')).data?.resolveConnection).toMatchObject({ code: 'CONNECTION_REQUIRED' });
      expect((await storedSecret(t, unreachable)).row).toMatchObject({ status: 'ERROR', statusReason: 'token refresh failed: network error (ECONNREFUSED)' });

      // The service waits ~10 s; a refresher with a short timeout shows the same path quickly.
      const slow = await seedOAuthIntegration(f, 'slow', { tokenUrl: server.url, expiresAt: inSeconds(-60) });
      server.reply = () => ({ delayMs: 2000, body: { access_token: 'too-late' } });
      const refresher = new TokenRefresher({ ...t.app.services, lockRows: t.app.database.kind === 'postgres', timeoutMs: 200 });
      expect(await refresher.refresh(rowId(slow))).toEqual({ ok: false, reason: 'token refresh failed: no answer within 200 ms' });
      expect((await storedSecret(t, slow)).row.status).toBe('ERROR');
    });

    test('an answer without an access token is a failure, not a blank credential', async () => {
      const id = await seedOAuthIntegration(f, 'blank', { tokenUrl: server.url, expiresAt: inSeconds(-60) });
      server.reply = () => ({ body: { token_type: 'Bearer' } });
      expect((await resolve(f, 'blank')).data?.resolveConnection).toMatchObject({ code: 'CONNECTION_REQUIRED' });
      expect((await storedSecret(t, id)).row.statusReason).toBe('token refresh failed: the response has no access_token');
    });
  },
  // Both databases (row lock or in-process only), both pub/subs.
  ALL_BACKENDS.filter((backend) => backend.database === 'pglite' || backend.pubsub === 'redis'),
);

describeEachBackend(
  'OAuth2 refresh across instances',
  (backend) => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    let first: TestApp;
    let second: TestApp;
    let server: TokenServer;
    beforeAll(async () => {
      database = await createPostgresDatabase();
      // Instances of one service share its key ring.
      const env = { HEDDLE_ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}` };
      first = await startTestApp(backend, { databaseUrl: database.url, env });
      second = await startTestApp(backend, { databaseUrl: database.url, env });
      server = await startTokenServer();
    });
    afterAll(async () => {
      await server.close();
      await Promise.all([first.stop(), second.stop()]);
      await database.drop();
    });

    test('two instances on one database resolving one expired connection concurrently: one refresh, everyone gets its token', async () => {
      const f = await seedTenant(first, 'instances');
      await seedOAuthIntegration(f, 'both', { tokenUrl: server.url, expiresAt: inSeconds(-600) });
      server.reply = () => ({ delayMs: 300, body: { access_token: 'one-fresh-token', expires_in: 3600 } });
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => resolve(f, 'both', i % 2 === 0 ? first : second)),
      );
      expect(server.calls).toHaveLength(1);
      for (const result of results) {
        expect(result.data?.resolveConnection, JSON.stringify(result)).toMatchObject({ credentials: { accessToken: 'one-fresh-token' } });
      }
    });
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'postgres' && backend.pubsub === 'memory'),
);

describe('token URL', () => {
  test("the connection's own token URL wins over the catalog's", () => {
    expect(tokenUrlOf({ tokenUrl: 'https://login.example.com/token', integrationName: 'gmail' })).toBe('https://login.example.com/token');
    expect(tokenUrlOf({ tokenUrl: null, integrationName: 'gmail' })).toBe('https://oauth2.googleapis.com/token');
    expect(tokenUrlOf({ tokenUrl: null, integrationName: 'stripe' })).toBeNull();
  });
});
