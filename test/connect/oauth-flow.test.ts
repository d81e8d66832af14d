// Hosted connect, OAuth2 (issue #11), over HTTP against a real authorization
// server on loopback (oidc-provider): the code flow with PKCE and a single-use
// state, the end user and connection it stores, reconnecting in place, and
// every way it must fail without changing the tenant's data (acceptance 3),
// with no secret anywhere but the sealed columns (acceptance 5).
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hashToken } from '../../src/platform/crypto/tokens.js';
import { decodeId } from '../../src/platform/ids.js';
import { graphql } from '../generated/index.js';
import { databaseTables, nextWhere, startTestApp, subscribeWs, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { seedConnectWorld, UpdateWorkspace, type ConnectWorld } from '../support/connect.js';
import { collectEvents, repeatUntilHeard } from '../support/events.js';
import { seedApiKey, seedConnectionStatus } from '../support/fixtures.js';
import { CookieJar } from '../support/http-browser.js';

const CLIENT_SECRET = 'canary-7f3a-client-secret';

const Resolve = graphql(`
  mutation CfResolve($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { source connection { id type scope status expiresAt } endUser { externalId } }
      ...ErrorFields
    }
  }
`);
const ResolveCredentials = graphql(`
  mutation CfResolveCredentials($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { connection { id } credentials { accessToken refreshToken clientId clientSecret } }
      ...ErrorFields
    }
  }
`);
const Explain = graphql(`
  mutation CfExplain($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) { ... on ConnectionResolution { explanation } ...ErrorFields }
  }
`);
const Session = graphql(`
  query CfSession($id: ID!) {
    node(id: $id) { ... on ConnectSession { status error externalId connection { id } endUser { externalId } completedAt } }
  }
`);
const OAuthApps = graphql(`
  query CfOAuthApps($org: ID!) { organization(id: $org) { oauthApps { id integrationName clientId scopes redirectUri } } }
`);
const SessionCompleted = graphql(`
  subscription CfCompleted($ws: ID!) { connectSessionCompleted(workspaceId: $ws) { status error externalId connection { id status } } }
`);
const UpdateOrganization = graphql(`
  mutation CfUpdateOrg($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename } }
`);

/** The tables a connect step may change: the session itself and the audit log. */
const BOOKKEEPING = ['ConnectSession', 'AuditEvent'];

describeEachBackend(
  'hosted connect: OAuth2',
  (backend) => {
    let t: TestApp;
    let w: ConnectWorld;
    let reader: string;
    let logText = '';
    const responses: unknown[] = [];
    const pages: string[] = [];
    let sessionEvents: ReturnType<typeof collectEvents<'connect-session'>>;
    let statusEvents: ReturnType<typeof collectEvents<'connection-status'>>;

    /** GraphQL calls whose responses must never carry a secret. */
    const request: TestApp['request'] = async (document, variables, token) => {
      const response = await t.request(document, variables, token);
      responses.push(response);
      return response;
    };
    /** Fetches through a jar, keeping every body Heddle served. */
    const visit = async (jar: CookieJar, url: string) => {
      const response = await jar.fetch(url);
      pages.push(await response.clone().text());
      return response;
    };

    /** Opens the page, follows "Continue" to the provider; returns the authorization URL. */
    async function start(jar: CookieJar, url: string): Promise<string> {
      const page = await visit(jar, url);
      expect(page.status).toBe(200);
      const href = /href="([^"]+\/authorize)"/.exec(await page.text())![1]!;
      return jar.redirectOf(new URL(href, url).toString());
    }

    /** The whole flow for one end user: the URL the browser ends on. */
    async function connect(externalId: string, options: { refuse?: boolean } = {}) {
      const session = await w.session({ externalId, integration: 'gmail' });
      const jar = new CookieJar();
      const callback = await w.provider.approve(await start(jar, session.url), options);
      const landed = new URL(await jar.redirectOf(callback));
      return { ...session, jar, callback, landed };
    }

    const resolve = (externalId: string) =>
      request(Resolve, { input: { workspaceId: w.workspaceId, integration: 'gmail', externalId } }, w.apiKey);

    beforeAll(async () => {
      const logs = new PassThrough();
      logs.on('data', (chunk: Buffer) => (logText += chunk.toString()));
      t = await startTestApp(backend, { logStream: logs });
      w = await seedConnectWorld(t, { slug: 'oauth', clientSecret: CLIENT_SECRET });
      reader = await seedApiKey(t, w.owner, { organizationId: w.orgId, permissions: ['CREDENTIALS_READ'] });
      sessionEvents = collectEvents(t.app.services.pubsub, 'connect-session');
      statusEvents = collectEvents(t.app.services.pubsub, 'connection-status');
    }, 60_000);
    afterAll(async () => {
      sessionEvents?.stop();
      statusEvents?.stop();
      await w?.close();
      await t?.stop();
    });

    test('approving at the provider stores a USER connection for a new end user and sends the browser back with success', async () => {
      // Other test files share the Redis: count this workspace's sessions.
      const workspaceRow = decodeId(w.workspaceId, 'Workspace');
      const sessionsEnded = () => sessionEvents.events.filter((e) => e.workspaceId === workspaceRow).length;
      const before = sessionsEnded();
      const subscriber = subscribeWs(t.wsClient(w.apiKey), SessionCompleted, { ws: w.workspaceId });
      // It replays nothing: probe sessions complete until it hears one, so it is in place.
      let probes = 0;
      await repeatUntilHeard(subscriber.next(), () => w.completeProbeSession().then(() => probes++));
      const { landed, sessionId, url } = await connect('alice');

      expect(landed.origin).toBe(w.host.origin);
      expect(landed.pathname).toBe('/integrations/connected');
      expect(Object.fromEntries(landed.searchParams)).toEqual({ from: 'heddle', status: 'success', connectionId: expect.any(String) });
      const connectionId = landed.searchParams.get('connectionId')!;

      const resolved = (await resolve('alice')).data?.resolveConnection;
      expect(resolved).toMatchObject({
        __typename: 'ConnectionResolution',
        source: 'USER',
        endUser: { externalId: 'alice' },
        connection: { id: connectionId, type: 'OAUTH2', scope: 'USER', status: 'ACTIVE', expiresAt: expect.any(String) },
      });
      // The tokens are the provider's, readable only through the audited credentials read.
      const read = await t.request(ResolveCredentials, { input: { workspaceId: w.workspaceId, integration: 'gmail', externalId: 'alice' } }, reader);
      expect(read.data?.resolveConnection).toMatchObject({
        credentials: { accessToken: w.provider.issued.at(-1)!.accessToken, refreshToken: w.provider.issued.at(-1)!.refreshToken, clientSecret: null },
      });

      expect((await request(Session, { id: sessionId }, w.apiKey)).data?.node).toMatchObject({
        status: 'SUCCEEDED', error: null, externalId: 'alice', connection: { id: connectionId }, endUser: { externalId: 'alice' },
      });
      expect((await nextWhere(subscriber, (result) => result.data?.connectSessionCompleted.externalId !== 'probe')).data?.connectSessionCompleted).toEqual({
        status: 'SUCCEEDED', error: null, externalId: 'alice', connection: { id: connectionId, status: 'ACTIVE' },
      });
      subscriber.stop();
      await expect.poll(sessionsEnded).toBe(before + probes + 1);
      expect(statusEvents.events.map((e) => e.connectionId)).toContain(Buffer.from(connectionId, 'base64').toString().split(':')[1]);
      const audit = await t.app.database.prisma.auditEvent.findFirst({ where: { action: 'connect.succeeded' }, orderBy: { occurredAt: 'desc' } });
      expect(audit).toMatchObject({ actorType: 'END_USER', outcome: 'SUCCESS', targetId: connectionId });

      // The token worked once: the page and the flow's start now say so.
      const again = new CookieJar();
      for (const path of [url, `${url}/authorize`]) {
        const response = await visit(again, path);
        expect(response.status).toBe(410);
        expect(await response.text()).toContain('already been used');
      }
    });

    test('a second session for the same end user reconnects in place: same connection, new tokens, ACTIVE again', async () => {
      const first = await connect('bob');
      const id = first.landed.searchParams.get('connectionId')!;
      await seedConnectionStatus(t, w.owner, id, 'ERROR', 'token revoked at the provider');
      const tokensBefore = w.provider.issued.length;

      const second = await connect('bob');
      expect(second.landed.searchParams.get('connectionId')).toBe(id);
      expect(w.provider.issued.length).toBe(tokensBefore + 1);
      const rows = await t.app.database.prisma.connection.findMany({ where: { endUser: { externalId: 'bob' } } });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'ACTIVE', statusReason: null });
      const read = await t.request(ResolveCredentials, { input: { workspaceId: w.workspaceId, integration: 'gmail', externalId: 'bob' } }, reader);
      expect(read.data?.resolveConnection).toMatchObject({ connection: { id }, credentials: { accessToken: w.provider.issued.at(-1)!.accessToken } });
    });

    test('expiring tokens refresh at the provider with the OAuth app’s client (the connection holds no client secret)', async () => {
      const { landed } = await connect('liam');
      const id = Buffer.from(landed.searchParams.get('connectionId')!, 'base64').toString().split(':')[1]!;
      await t.app.database.prisma.connection.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const issued = w.provider.issued.length;
      const resolved = await t.request(Explain, { input: { workspaceId: w.workspaceId, integration: 'gmail', externalId: 'liam' } }, w.apiKey);
      expect(resolved.data?.resolveConnection).toMatchObject({ explanation: expect.arrayContaining([expect.stringMatching(/: refreshed$/)]) });
      expect(w.provider.issued.length).toBe(issued + 1);
      const read = await t.request(ResolveCredentials, { input: { workspaceId: w.workspaceId, integration: 'gmail', externalId: 'liam' } }, reader);
      expect(read.data?.resolveConnection).toMatchObject({ credentials: { accessToken: w.provider.issued.at(-1)!.accessToken, clientSecret: null } });
    });

    describe('each failure ends clearly and changes nothing', () => {
      test('the end user refusing at the provider: back to redirectUrl with access_denied, no end user, no connection', async () => {
        const before = await databaseTables(t);
        const { landed, sessionId } = await connect('carol', { refuse: true });
        expect(Object.fromEntries(landed.searchParams)).toEqual({ from: 'heddle', status: 'error', error: 'access_denied' });
        await expectOnlyBookkeepingChanged(before);
        expect((await request(Session, { id: sessionId }, w.apiKey)).data?.node).toMatchObject({ status: 'FAILED', error: 'access_denied', connection: null, endUser: null });
        expect((await resolve('carol')).data?.resolveConnection).toMatchObject({ code: 'CONNECTION_REQUIRED' });
      });

      test('a replayed state (the callback URL again) is refused with 410 and redeems no second code', async () => {
        const { jar, callback } = await connect('dave');
        const issued = w.provider.issued.length;
        const before = await databaseTables(t);
        for (const replay of [jar, new CookieJar()]) {
          const response = await replay.fetch(callback);
          expect(response.status).toBe(410);
          pages.push(await response.text());
        }
        expect(await databaseTables(t)).toEqual(before);
        expect(w.provider.issued.length).toBe(issued);
      });

      test('a reused connect token is refused with 410, page and flow start alike', async () => {
        const { url } = await connect('erin');
        const before = await databaseTables(t);
        const jar = new CookieJar();
        expect((await visit(jar, url)).status).toBe(410);
        expect((await visit(jar, `${url}/authorize`)).status).toBe(410);
        expect(await databaseTables(t)).toEqual(before);
      });

      test('an expired connect token gets 410, before and after the flow started', async () => {
        const fresh = await w.session({ externalId: 'frank', integration: 'gmail' });
        await t.app.database.prisma.connectSession.update({ where: { tokenHash: hashToken(fresh.token) }, data: { expiresAt: new Date(Date.now() - 1000) } });
        const before = await databaseTables(t);
        const page = await visit(new CookieJar(), fresh.url);
        expect(page.status).toBe(410);
        expect(pages.at(-1)).toContain('expired');
        expect(await databaseTables(t)).toEqual(before);

        // Started in time, back after the state's ten minutes: the session ends with session_expired.
        const late = await w.session({ externalId: 'frank', integration: 'gmail' });
        const jar = new CookieJar();
        const callback = await w.provider.approve(await start(jar, late.url));
        await t.app.database.prisma.connectSession.update({ where: { tokenHash: hashToken(late.token) }, data: { stateExpiresAt: new Date(Date.now() - 1000) } });
        const lateBefore = await databaseTables(t);
        const landed = new URL(await jar.redirectOf(callback));
        expect(landed.searchParams.get('error')).toBe('session_expired');
        await expectOnlyBookkeepingChanged(lateBefore);
      });

      test('a wrong PKCE verifier: the provider refuses the code, the browser returns with token_exchange_failed', async () => {
        const session = await w.session({ externalId: 'grace', integration: 'gmail' });
        const jar = new CookieJar();
        const callback = await w.provider.approve(await start(jar, session.url));
        // Swap the sealed verifier for another one (as if the code had been redeemed by someone else's client).
        const row = await t.app.database.prisma.connectSession.findUniqueOrThrow({ where: { tokenHash: hashToken(session.token) } });
        const wrong = t.app.services.credentials.seal({ organizationId: row.organizationId, connectSessionId: row.id }, { codeVerifier: 'x'.repeat(43) });
        await t.app.database.prisma.connectSession.update({ where: { id: row.id }, data: wrong });
        const issued = w.provider.issued.length;
        const before = await databaseTables(t);

        const landed = new URL(await jar.redirectOf(callback));
        expect(Object.fromEntries(landed.searchParams)).toMatchObject({ status: 'error', error: 'token_exchange_failed' });
        expect(w.provider.issued.length).toBe(issued);
        expect(logText).toContain('authorization code exchange failed: HTTP 400 (invalid_grant)');
        await expectOnlyBookkeepingChanged(before);
      });

      test('the provider itself checks the verifier: a code redeemed without the right one gets invalid_grant', async () => {
        const session = await w.session({ externalId: 'heidi', integration: 'gmail' });
        const callback = new URL(await w.provider.approve(await start(new CookieJar(), session.url)));
        const redeem = (verifier?: string) =>
          fetch(w.provider.tokenUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'authorization_code',
              code: callback.searchParams.get('code')!,
              redirect_uri: `${t.app.services.publicUrl()}/connect/callback`,
              client_id: w.provider.clientId,
              client_secret: CLIENT_SECRET,
              ...(verifier ? { code_verifier: verifier } : {}),
            }),
          }).then((r) => r.json());
        expect(await redeem()).toMatchObject({ error: 'invalid_grant' });
        expect(await redeem('y'.repeat(43))).toMatchObject({ error: 'invalid_grant' });
      });

      test('a callback in another browser is refused with 403 and leaves the state usable by the right one', async () => {
        const session = await w.session({ externalId: 'ivan', integration: 'gmail' });
        const jar = new CookieJar();
        const callback = await w.provider.approve(await start(jar, session.url));
        const before = await databaseTables(t);
        const stranger = await new CookieJar().fetch(callback);
        expect(stranger.status).toBe(403);
        expect(await databaseTables(t)).toEqual(before);
        expect(new URL(await jar.redirectOf(callback)).searchParams.get('status')).toBe('success');
      });

      test('unknown links and malformed callbacks get plain 404 and 400 pages, never a stack trace', async () => {
        const base = t.app.services.publicUrl();
        const cases: [string, number][] = [
          [`${base}/connect/hcs_${'A'.repeat(43)}`, 404],
          [`${base}/connect/not-a-token`, 404],
          [`${base}/connect/callback?state=${'s'.repeat(43)}&code=c`, 404],
          [`${base}/connect/callback?code=c`, 400],
          [`${base}/connect/callback`, 400],
          [`${base}/connect`, 404],
          [`${base}/connect/hcs_x/authorize/more`, 404],
        ];
        for (const [url, status] of cases) {
          const response = await fetch(url);
          const body = await response.text();
          expect(response.status, url).toBe(status);
          expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
          expect(body).toMatch(/<h1>[^<]+<\/h1>/);
          expect(body).not.toMatch(/\bat \S+ \(|Error:|node_modules|prisma/i);
        }
      });
    });

    test('a redirectUrl whose origin the workspace stopped allowing is not followed: the flow ends on Heddle’s page', async () => {
      const session = await w.session({ externalId: 'kim', integration: 'gmail' });
      const jar = new CookieJar();
      const callback = await w.provider.approve(await start(jar, session.url));
      await request(UpdateWorkspace, { input: { id: w.workspaceId, allowedRedirectOrigins: ['https://elsewhere.example.com'] } }, w.owner);
      try {
        const end = await jar.fetch(callback);
        expect(end.status).toBe(200);
        expect(end.headers.get('location')).toBeNull();
        const body = await end.text();
        pages.push(body);
        expect(body).toContain('<h1>Gmail is connected</h1>');
        expect(body).toContain('You can close this window');
        expect(body).not.toContain(w.host.origin);
      } finally {
        await request(UpdateWorkspace, { input: { id: w.workspaceId, allowedRedirectOrigins: [w.host.origin] } }, w.owner);
      }
    });

    test('pages: strict CSP without other origins, frame-ancestors from the workspace setting, no referrer, escaped names', async () => {
      await request(UpdateOrganization, { input: { id: w.orgId, name: '<script>alert("x")</script> & Co' } }, w.owner);
      const session = await w.session({ externalId: 'judy', integration: 'gmail' });
      const jar = new CookieJar();
      const page = await visit(jar, session.url);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[\w+/=]+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
      expect(csp).not.toMatch(/https?:/);
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('cache-control')).toBe('no-store');
      const body = pages.at(-1)!;
      expect(body).not.toContain('<script');
      expect(body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');

      const start = await jar.fetch(`${session.url}/authorize`);
      expect(start.status).toBe(303);
      expect(start.headers.get('referrer-policy')).toBe('no-referrer');
      const authorize = new URL(start.headers.get('location')!);
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
      expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
      expect(authorize.searchParams.get('redirect_uri')).toBe(`${t.app.services.publicUrl()}/connect/callback`);
      expect(start.headers.get('set-cookie')).toMatch(/^heddle_connect=[\w-]{43}; Path=\/connect; HttpOnly; SameSite=Lax; Max-Age=86400$/);

      const framed = await request(UpdateWorkspace, { input: { id: w.workspaceId, connectFrameAncestors: ['https://app.example.com', 'http://localhost:3000'] } }, w.owner);
      expect(framed.data?.updateWorkspace).toMatchObject({ connectFrameAncestors: ['https://app.example.com', 'http://localhost:3000'] });
      const framedPage = await visit(new CookieJar(), (await w.session({ externalId: 'judy', integration: 'gmail' })).url);
      expect(framedPage.headers.get('content-security-policy')).toContain('frame-ancestors https://app.example.com http://localhost:3000;');
      expect(framedPage.headers.get('x-frame-options')).toBeNull();
      await request(UpdateWorkspace, { input: { id: w.workspaceId, connectFrameAncestors: [] } }, w.owner);
    });

    test('no client secret, state, code or token in the database (outside ciphertext), the logs, an event, a page or a GraphQL response', async () => {
      expect((await request(OAuthApps, { org: w.orgId }, w.owner)).data?.organization?.oauthApps).toEqual([
        expect.objectContaining({ integrationName: 'gmail', clientId: w.provider.clientId, redirectUri: `${t.app.services.publicUrl()}/connect/callback` }),
      ]);
      await resolve('alice');
      const canaries = [CLIENT_SECRET, ...w.provider.issued.flatMap((tokens) => [tokens.accessToken, tokens.refreshToken!])];
      expect(canaries.length).toBeGreaterThan(10);
      const places = {
        database: Object.values(await databaseTables(t)).join('\n'),
        logs: logText,
        events: JSON.stringify([sessionEvents.events, statusEvents.events]),
        responses: JSON.stringify(responses),
        pages: pages.join('\n'),
      };
      // None is empty, or the check would pass vacuously.
      expect(places.database).toContain('"secretCiphertext"');
      expect(places.logs).toContain('connect session succeeded');
      expect(places.events).toContain('sessionId');
      for (const [place, text] of Object.entries(places)) {
        for (const canary of canaries) {
          for (const form of [canary, Buffer.from(canary).toString('hex'), Buffer.from(canary).toString('base64')]) {
            expect(text.includes(form), `${place} contains a secret`).toBe(false);
          }
        }
      }
      // The audited read is the one way out, and it does return them.
      const read = await t.request(ResolveCredentials, { input: { workspaceId: w.workspaceId, integration: 'gmail', externalId: 'alice' } }, reader);
      expect(canaries).toContain((read.data?.resolveConnection as { credentials: { accessToken: string } }).credentials.accessToken);
    });

    async function expectOnlyBookkeepingChanged(before: Record<string, string>): Promise<void> {
      const after = await databaseTables(t);
      const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
      expect(changed.filter((table) => !BOOKKEEPING.includes(table))).toEqual([]);
    }
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'pglite' || backend.pubsub === 'redis'),
);
