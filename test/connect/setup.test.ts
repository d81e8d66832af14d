// Hosted connect, what a backend sets up (issue #11): the organization's OAuth
// apps, the workspace's allowed origins, and createConnectSession's rules (no
// open redirect, the resolveConnection matching, single-use hashed tokens);
// HEDDLE_PUBLIC_URL in links; rate limits; key rotation of OAuth app secrets.
import { randomBytes } from 'node:crypto';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createCredentialStore, parseKeyRing, WITH_SEALED_COLUMNS } from '../../src/platform/crypto/credential-store.js';
import { rewrapDataKeys } from '../../src/platform/crypto/rewrap.js';
import { hashToken } from '../../src/platform/crypto/tokens.js';
import { clientCredentialsOf } from '../../src/modules/oauth/oauth-app.rules.js';
import { graphql } from '../generated/index.js';
import { databaseTables, databaseText, startTestApp, type TestApp } from '../support/app.js';
import { CreateConnectSession, SetOAuthApp, UpdateWorkspace } from '../support/connect.js';
import { seedApiKey, seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';

const ConfigEvents = graphql(`
  subscription CsConfig($ws: ID!, $since: Int) { workspaceConfigChanged(workspaceId: $ws, sinceVersion: $since) { version kind } }
`);
const Integration = graphql(`query CsIntegration { integration(name: "gmail") { oauth2 { authorizationUrl tokenUrl defaultScopes pkce } } }`);

const K1 = randomBytes(32).toString('base64');
const PUBLIC_URL = 'https://connect.example.com/heddle';
const CLIENT_SECRET = 'canary-client-secret-90b2';

let t: TestApp;
let owner: string;
let key: string;
let orgId: string;
let ws: string;

const create = (input: Record<string, unknown>, token = key) =>
  t
    .request(CreateConnectSession, { input: { workspaceId: ws, externalId: 'alice', integration: 'stripe', redirectUrl: 'https://app.acme.test/done', ...input } as never }, token)
    .then((r) => r.data?.createConnectSession as Record<string, any>);
const setApp = (input: Record<string, unknown>) =>
  t
    .request(SetOAuthApp, { input: { organizationId: orgId, integrationName: 'gmail', clientId: 'acme-gmail', clientSecret: CLIENT_SECRET, ...input } as never }, owner)
    .then((r) => r.data?.setOAuthApp as Record<string, any>);
const updateWorkspace = (input: Record<string, unknown>) =>
  t.request(UpdateWorkspace, { input: { id: ws, ...input } }, owner).then((r) => r.data?.updateWorkspace as Record<string, any>);

beforeAll(async () => {
  t = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { env: { HEDDLE_PUBLIC_URL: `${PUBLIC_URL}/`, HEDDLE_ENCRYPTION_KEYS: `1:${K1}` } });
  owner = await t.memberToken('owner@setup.test');
  orgId = await seedOrganization(t, owner, 'setup');
  ws = await seedWorkspace(t, owner, orgId, 'main');
  key = await seedApiKey(t, owner, { organizationId: orgId });
  for (const [integrationName, alias, connectionStrategy] of [
    ['stripe', 'stripe', 'PER_USER'],
    ['gmail', 'gmail', 'PER_USER'],
    ['jira', 'jira', 'PER_USER'],
    ['slack', 'slack-team-a', 'PER_USER'],
    ['slack', 'slack-team-b', 'PER_USER'],
  ]) {
    await seedIntegration(t, owner, { workspaceId: ws, integrationName, alias, connectionStrategy });
  }
  const fixed = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'github', credentials: { apiKey: 'ghp' } });
  await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'github', alias: 'github', connectionStrategy: 'FIXED', connectionId: fixed });
}, 60_000);
afterAll(() => t?.stop());

describe('OAuth apps', () => {
  test('the catalog carries each OAuth2 integration’s endpoints, default scopes and PKCE support', async () => {
    expect((await t.request(Integration, {})).data?.integration?.oauth2).toEqual({
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      defaultScopes: expect.arrayContaining(['https://www.googleapis.com/auth/gmail.send']),
      pkce: true,
    });
  });

  test('setOAuthApp stores the client secret sealed, never returns it, and uses the catalog unless overridden', async () => {
    const app = await setApp({});
    expect(app).toEqual({
      __typename: 'OAuthApp',
      id: expect.any(String),
      integrationName: 'gmail',
      clientId: 'acme-gmail',
      scopes: expect.arrayContaining(['https://www.googleapis.com/auth/gmail.readonly']),
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      redirectUri: `${PUBLIC_URL}/connect/callback`,
    });
    const replaced = await setApp({ scopes: ['email'], authorizationUrl: 'https://idp.acme.test/authorize', tokenUrl: 'http://127.0.0.1:9/token' });
    expect(replaced).toMatchObject({ id: app.id, scopes: ['email'], authorizationUrl: 'https://idp.acme.test/authorize', tokenUrl: 'http://127.0.0.1:9/token' });
    expect(await setApp({ scopes: null })).toMatchObject({ id: app.id, scopes: app.scopes });
    for (const form of [CLIENT_SECRET, Buffer.from(CLIENT_SECRET).toString('hex'), Buffer.from(CLIENT_SECRET).toString('base64')]) {
      expect(await databaseText(t)).not.toContain(form);
    }
    const row = await t.app.database.prisma.oAuthApp.findFirstOrThrow({ where: { integrationName: 'gmail' }, omit: WITH_SEALED_COLUMNS });
    expect(clientCredentialsOf(t.app.services.credentials, row)).toEqual({ clientId: 'acme-gmail', clientSecret: CLIENT_SECRET });
  });

  test.each([
    [{ integrationName: 'stripe' }, 'integrationName', 'accepts OAUTH2'],
    [{ integrationName: 'nope' }, 'integrationName', 'accepts OAUTH2'],
    [{ clientId: ' ' }, 'clientId', 'must not be empty'],
    [{ clientSecret: '' }, 'clientSecret', 'must not be empty'],
    [{ scopes: ['two words'] }, 'scopes.0', 'whitespace'],
    [{ tokenUrl: 'http://idp.acme.test/token' }, 'tokenUrl', 'https'],
    [{ authorizationUrl: 'javascript:alert(1)' }, 'authorizationUrl', 'https'],
  ])('setOAuthApp refuses %j', async (input, field, message) => {
    const result = await setApp(input);
    expect(result).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(result.fieldErrors).toEqual([{ path: ['input', ...field.split('.')], message: expect.stringContaining(message) }]);
  });

  test('key rotation re-wraps OAuth app secrets too: the new key alone opens them', async () => {
    const K2 = randomBytes(32).toString('base64');
    const report = await rewrapDataKeys(t.app.database.prisma, createCredentialStore(parseKeyRing(`1:${K1},2:${K2}`)));
    expect(report).toMatchObject({ keyVersion: 2, failed: [], remaining: 0 });
    const row = await t.app.database.prisma.oAuthApp.findFirstOrThrow({ where: { integrationName: 'gmail' }, omit: WITH_SEALED_COLUMNS });
    expect(row.keyVersion).toBe(2);
    expect(clientCredentialsOf(createCredentialStore(parseKeyRing(`2:${K2}`)), row).clientSecret).toBe(CLIENT_SECRET);
  });
});

describe('workspace settings', () => {
  test('allowedRedirectOrigins and connectFrameAncestors are config changes, de-duplicated', async () => {
    const before = await updateWorkspace({});
    const updated = await updateWorkspace({
      allowedRedirectOrigins: ['https://app.acme.test', 'http://localhost:3000', 'https://app.acme.test'],
      connectFrameAncestors: ['https://app.acme.test'],
    });
    expect(updated).toMatchObject({
      configVersion: before.configVersion + 1,
      allowedRedirectOrigins: ['https://app.acme.test', 'http://localhost:3000'],
      connectFrameAncestors: ['https://app.acme.test'],
    });
    const events = t.wsClient(owner).iterate({ query: print(ConfigEvents), variables: { ws, since: before.configVersion } });
    expect((await events.next()).value).toMatchObject({ data: { workspaceConfigChanged: { version: updated.configVersion, kind: 'WORKSPACE_UPDATED' } } });
    await events.return?.();
  });

  test.each([
    'https://app.acme.test/',
    'https://app.acme.test/path',
    'http://app.acme.test',
    'https://*.acme.test',
    'HTTPS://APP.ACME.TEST',
    'app.acme.test',
  ])('refuses %s as an origin', async (origin) => {
    const result = await updateWorkspace({ allowedRedirectOrigins: [origin] });
    expect(result).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'allowedRedirectOrigins', '0'] }] });
  });
});

describe('createConnectSession', () => {
  test('returns a single-use link under HEDDLE_PUBLIC_URL; only the token’s hash is stored', async () => {
    const created = await create({});
    expect(created).toMatchObject({ __typename: 'CreatedConnectSession', session: { authType: 'SECRET_TEXT', integrationName: 'stripe' } });
    expect(created.token).toMatch(/^hcs_[\w-]{43}$/);
    expect(created.url).toBe(`${PUBLIC_URL}/connect/${created.token}`);
    const minutes = (Date.parse(created.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);
    expect(await databaseText(t)).not.toContain(created.token);
    expect(await t.app.database.prisma.connectSession.count({ where: { tokenHash: hashToken(created.token) } })).toBe(1);
  });

  test('a redirectUrl outside the workspace’s allowed origins is a VALIDATION_ERROR and stores nothing', async () => {
    const before = await databaseTables(t);
    for (const redirectUrl of ['https://evil.test/done', 'https://app.acme.test.evil.test/done', 'https://evil.test@app.acme.test.evil.test/', 'http://127.0.0.1:3000/done', 'javascript:alert(1)']) {
      const result = await create({ redirectUrl });
      expect(result, redirectUrl).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'redirectUrl'] }] });
    }
    expect(await databaseTables(t)).toEqual(
      Object.fromEntries(Object.entries(before).map(([table, rows]) => [table, table === 'AuditEvent' ? expect.any(String) : rows])),
    );
    expect(await create({ redirectUrl: 'http://localhost:3000/settings?tab=integrations' })).toMatchObject({ __typename: 'CreatedConnectSession' });
  });

  test('integration: alias first, else a name; ambiguous names, unknown ones and FIXED integrations are refused', async () => {
    expect(await create({ integration: 'slack-team-a' })).toMatchObject({ session: { integrationName: 'slack' } });
    expect(await create({ integration: 'slack' })).toMatchObject({ code: 'AMBIGUOUS_INTEGRATION', aliases: ['slack-team-a', 'slack-team-b'] });
    expect(await create({ integration: 'notion' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await create({ integration: 'github' })).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('FIXED') });
  });

  test('auth type: OAuth2 when the app is set, else the first form type; an explicit one must be supported', async () => {
    expect(await create({ integration: 'gmail' })).toMatchObject({ session: { authType: 'OAUTH2' } });
    expect(await create({ integration: 'jira' })).toMatchObject({ session: { authType: 'BASIC_AUTH' } });
    expect(await create({ integration: 'jira', authType: 'CUSTOM_AUTH' })).toMatchObject({ session: { authType: 'CUSTOM_AUTH' } });
    expect(await create({ integration: 'jira', authType: 'OAUTH2' })).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('setOAuthApp') });
    expect(await create({ integration: 'stripe', authType: 'OAUTH2' })).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('SECRET_TEXT') });
  });

  test.each([
    [{ expiresIn: 59 }, 'expiresIn'],
    [{ expiresIn: 86_401 }, 'expiresIn'],
    [{ externalId: '256' }, 'externalId'],
    [{ externalId: 'a b' }, 'externalId'],
    [{ integration: '' }, 'integration'],
  ])('refuses %j', async (input, field) => {
    expect(await create(input)).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', field] }] });
  });

  test('deleteOAuthApp: new OAuth2 sessions are refused, pending ones end on a 410 page', async () => {
    const app = await setApp({});
    const pending = await create({ integration: 'gmail' });
    expect(pending).toMatchObject({ session: { authType: 'OAUTH2' } });
    const deleted = await t.requestRaw<{ deleteOAuthApp: { __typename: string } }>(
      'mutation($id: ID!) { deleteOAuthApp(input: { id: $id }) { __typename } }',
      { id: app.id },
      owner,
    );
    expect(deleted.data?.deleteOAuthApp.__typename).toBe('Deleted');
    expect(await create({ integration: 'gmail' })).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('setOAuthApp') });
    // Behind the proxy that strips /heddle: the server itself serves /connect.
    const page = await fetch(pending.url.replace(PUBLIC_URL, t.url));
    expect(page.status).toBe(410);
    await setApp({});
  });

  test('sessions live from one minute to 24 hours', async () => {
    const day = await create({ expiresIn: 86_400 });
    expect(Date.parse(day.expiresAt) - Date.now()).toBeGreaterThan(86_390_000);
  });
});

test('connect endpoints are rate limited per token and per client address, with Retry-After', async () => {
  const limited = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { env: { HEDDLE_CONNECT_TOKEN_RATE_LIMIT: '3', HEDDLE_CONNECT_IP_RATE_LIMIT: '8' } });
  try {
    const base = limited.app.services.publicUrl();
    const statuses = async (url: string, times: number) => {
      const out: number[] = [];
      for (let i = 0; i < times; i++) out.push((await fetch(url)).status);
      return out;
    };
    const token = `${base}/connect/hcs_${'a'.repeat(43)}`;
    expect(await statuses(token, 4)).toEqual([404, 404, 404, 429]);
    const other = await fetch(`${base}/connect/hcs_${'b'.repeat(43)}`);
    expect(other.status).toBe(404);
    expect(await statuses(`${base}/connect/callback`, 4)).toEqual([400, 400, 400, 429]);
    const refused = await fetch(`${base}/connect/hcs_${'c'.repeat(43)}`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('Too many requests');
    // GraphQL is not behind these limits.
    expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
  } finally {
    await limited.stop();
  }
});
