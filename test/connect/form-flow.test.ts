// Hosted connect, credentials forms (issue #11): SECRET_TEXT, BASIC_AUTH and
// CUSTOM_AUTH pages built from the catalog's fields, posted back with CSRF
// protection; validation that never echoes a secret; reconnecting in place;
// and the ways a post must be refused without writing anything.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { hashToken } from '../../src/platform/crypto/tokens.js';
import { graphql } from '../generated/index.js';
import { databaseTables, startTestApp, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { CreateConnectSession, seedConnectWorld, submitConnectForm, type ConnectWorld } from '../support/connect.js';
import { seedApiKey } from '../support/fixtures.js';
import { CookieJar } from '../support/http-browser.js';

const ResolveCredentials = graphql(`
  mutation CffResolveCredentials($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { source connection { id type scope status } credentials { apiKey username password fields } }
      ...ErrorFields
    }
  }
`);

const SECRET = 'sk_live_canary_5e1c';

describeEachBackend(
  'hosted connect: credentials forms',
  (backend) => {
    let t: TestApp;
    let w: ConnectWorld;
    let reader: string;

    const read = (integration: string, externalId: string) =>
      t.request(ResolveCredentials, { input: { workspaceId: w.workspaceId, integration, externalId } }, reader).then((r) => r.data?.resolveConnection);
    const session = (externalId: string, integration: string, authType?: 'BASIC_AUTH' | 'CUSTOM_AUTH') =>
      t
        .request(CreateConnectSession, { input: { workspaceId: w.workspaceId, externalId, integration, redirectUrl: w.host.redirectUrl, authType } }, w.apiKey)
        .then((r) => {
          const created = r.data?.createConnectSession;
          if (created?.__typename !== 'CreatedConnectSession') throw new Error(JSON.stringify(r));
          return created;
        });

    beforeAll(async () => {
      t = await startTestApp(backend);
      w = await seedConnectWorld(t, { slug: 'forms', clientSecret: 'unused-client-secret' });
      reader = await seedApiKey(t, w.owner, { organizationId: w.orgId, permissions: ['CREDENTIALS_READ'] });
    }, 60_000);
    afterAll(async () => {
      await w?.close();
      await t?.stop();
    });

    test('SECRET_TEXT: the catalog names the field; posting it stores the key and shows the way back with success', async () => {
      const created = await session('alice', 'stripe');
      expect(created.session).toMatchObject({ authType: 'SECRET_TEXT', integrationName: 'stripe' });
      const jar = new CookieJar();
      const page = await (await jar.fetch(created.url)).text();
      expect(page).toContain('<label for="field-apiKey">Secret key (sk_live_… or rk_live_…)</label>');
      expect(page).toContain('type="password"');
      expect(page).toMatch(/<input type="hidden" name="csrf" value="[0-9a-f]{64}">/);

      const done = await submitConnectForm(created.url, { apiKey: `  ${SECRET}\n` }, jar);
      expect(done.status).toBe(200);
      const body = await done.text();
      expect(body).not.toContain(SECRET);
      const back = new URL(/content="0; url=([^"]+)"/.exec(body)![1]!.replaceAll('&amp;', '&'));
      expect(back.origin).toBe(w.host.origin);
      expect(Object.fromEntries(back.searchParams)).toEqual({ from: 'heddle', status: 'success', connectionId: expect.any(String) });
      expect(await read('stripe', 'alice')).toMatchObject({
        source: 'USER',
        connection: { id: back.searchParams.get('connectionId'), type: 'SECRET_TEXT', scope: 'USER', status: 'ACTIVE' },
        // Pasted keys lose surrounding whitespace.
        credentials: { apiKey: SECRET },
      });
      // Used: the page and a second post are refused.
      expect((await jar.fetch(created.url)).status).toBe(410);
      expect((await jar.fetch(created.url, new URLSearchParams({ csrf: 'x', apiKey: 'y' }))).status).toBe(410);
    });

    test('BASIC_AUTH: a missing field is reported next to its label; the username is kept, the password never echoed', async () => {
      const created = await session('bob', 'jira', 'BASIC_AUTH');
      const jar = new CookieJar();
      const page = await (await jar.fetch(created.url)).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
      const before = await databaseTables(t);
      const invalid = await jar.fetch(created.url, new URLSearchParams({ csrf, username: 'bob@acme.test', password: '' }));
      expect(invalid.status).toBe(422);
      const body = await invalid.text();
      expect(body).toContain('role="alert"');
      expect(body).toContain('<a href="#field-password">Password: must not be empty</a>');
      expect(body).toContain('aria-invalid="true" aria-describedby="field-password-error"');
      expect(body).toContain('value="bob@acme.test"');
      expect(await databaseTables(t)).toEqual(before);

      const typo = await jar.fetch(created.url, new URLSearchParams({ csrf, username: 'bob@acme.test', password: ' hunter2 ' }));
      expect(typo.status).toBe(200);
      expect(await typo.text()).not.toContain('hunter2');
      // Passwords are kept exactly as typed.
      expect(await read('jira', 'bob')).toMatchObject({ connection: { type: 'BASIC_AUTH' }, credentials: { username: 'bob@acme.test', password: ' hunter2 ' } });
    });

    test('CUSTOM_AUTH: one field per catalog field; reconnecting replaces the credentials in place', async () => {
      const created = await session('bob', 'jira', 'CUSTOM_AUTH');
      const page = await (await new CookieJar().fetch(created.url)).text();
      expect([...page.matchAll(/<label for="field-(\w+)">/g)].map((m) => m[1])).toEqual(['domain', 'email', 'apiToken']);
      const existing = await read('jira', 'bob');
      await submitConnectForm(created.url, { domain: 'acme.atlassian.net', email: 'bob@acme.test', apiToken: 'atlassian-token' });
      const after = await read('jira', 'bob');
      expect(after).toMatchObject({
        connection: { id: (existing as { connection: { id: string } }).connection.id, type: 'CUSTOM_AUTH', status: 'ACTIVE' },
        credentials: { fields: { domain: 'acme.atlassian.net', email: 'bob@acme.test', apiToken: 'atlassian-token' }, password: null },
      });
      expect(await t.app.database.prisma.connection.count({ where: { endUser: { externalId: 'bob' } } })).toBe(1);
    });

    test('a post without the page’s CSRF token, from another browser, or cross-site is refused with 403 and writes nothing', async () => {
      const created = await session('carol', 'stripe');
      const jar = new CookieJar();
      const csrf = /name="csrf" value="([^"]+)"/.exec(await (await jar.fetch(created.url)).text())![1]!;
      const before = await databaseTables(t);
      const attempts = [
        jar.fetch(created.url, new URLSearchParams({ apiKey: SECRET })),
        jar.fetch(created.url, new URLSearchParams({ csrf: 'f'.repeat(64), apiKey: SECRET })),
        // The token in the page, but not the cookie: another browser, or a cross-site form (SameSite=Lax keeps the cookie home).
        new CookieJar().fetch(created.url, new URLSearchParams({ csrf, apiKey: SECRET })),
      ];
      for (const response of await Promise.all(attempts)) {
        expect(response.status).toBe(403);
        expect(await response.text()).not.toContain(SECRET);
      }
      expect(await databaseTables(t)).toEqual(before);
    });

    test('expired sessions, oversized and non-form bodies, and posts to an OAuth2 session are refused', async () => {
      const expired = await session('dave', 'stripe');
      const jar = new CookieJar();
      const csrf = /name="csrf" value="([^"]+)"/.exec(await (await jar.fetch(expired.url)).text())![1]!;
      await t.app.database.prisma.connectSession.update({ where: { tokenHash: hashToken(expired.token) }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const before = await databaseTables(t);
      expect((await jar.fetch(expired.url, new URLSearchParams({ csrf, apiKey: SECRET }))).status).toBe(410);
      expect(await databaseTables(t)).toEqual(before);

      const open = await session('dave', 'stripe');
      const big = await jar.fetch(open.url, new URLSearchParams({ csrf, apiKey: 'k'.repeat(300_000) }));
      expect(big.status).toBe(413);
      const json = await fetch(open.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(json.status).toBe(400);
      const oauth = await session('dave', 'gmail');
      expect((await fetch(oauth.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' })).status).toBe(405);
      const put = await fetch(open.url, { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, POST');
    });
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'pglite' || backend.pubsub === 'redis'),
);
