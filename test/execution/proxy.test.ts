// The proxy `ANY /proxy/{integration}/{path}` (issue #24 item 8) against
// loopback fakes: the credential injected and the caller's Authorization and
// cookies stripped, path, query and body passed through, the provider's status
// and body returned, every path that leaves the base URL refused (sent as raw
// HTTP, since fetch would normalise it), PROXY permission, timeout, metering
// and audit.
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { startGitHubFake, type GitHubFake } from '../support/fake-providers/github.js';
import { startFakeServer, type FakeServer } from '../support/fake-providers/server.js';
import { startSlackFake, type SlackFake } from '../support/fake-providers/slack.js';
import { seedApiKey, seedConnection, seedIntegration } from '../support/fixtures.js';
import { issueEndUserToken } from '../support/mcp.js';
import { test as world } from '../support/world.js';

const CANARY = 'xoxb-proxy-canary-3b9e0d21';

const Usage = graphql(`query PxUsage($org: ID!, $month: String!) { organization(id: $org) { usage(month: $month) { executions } } }`);
const Audit = graphql(`
  query PxAudit($org: ID!) { organization(id: $org) { auditEvents(action: "proxy", first: 50) { edges { node { outcome targetType details } } } } }
`);

/** One HTTP request with the path exactly as given (fetch would resolve dot segments first). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
    const url = new URL(base);
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The world with loopback fakes for the proxied providers (Linear's never answers), started before the app that calls them. */
const proxyTest = world
  .extend('fakes', { scope: 'file' }, async ({ teardown }) => {
    const fakes = {
      slack: await startSlackFake({ token: CANARY }),
      github: await startGitHubFake({ token: 'gho_proxy-token' }),
      silent: await startFakeServer(() => new Promise(() => {})),
    };
    teardown.add(() => Promise.all([fakes.slack.close(), fakes.github.close(), fakes.silent.close()]).then(() => {}));
    return fakes;
  })
  .extend('appOptions', { scope: 'file' }, ({ fakes }) => ({
    env: {
      HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: fakes.slack.apiUrl, github: fakes.github.url, linear: fakes.silent.url }),
      HEDDLE_ACTION_TIMEOUT_MS: '500',
    },
  }));

describeEachBackend(
  'the proxy',
  (_backend, test) => {
    let t: TestApp;
    let slack: SlackFake;
    let github: GitHubFake;
    let silent: FakeServer;
    let owner: string;
    let orgId: string;
    let ws: string;
    let proxyKey: string;
    let plainKey: string;
    const answers: string[] = [];

    const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
      const answer = await raw(t.url, method, path, { authorization: `Bearer ${proxyKey}`, 'heddle-workspace-id': ws, ...headers }, body);
      answers.push(JSON.stringify(answer));
      return answer;
    };

    test.beforeAll(async ({ t: app, fakes, tenant, workspaceId }) => {
      [t, { slack, github, silent }, owner, orgId, ws] = [app, fakes, tenant.token, tenant.organizationId, workspaceId];
      const bot = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'slack', credentials: { apiKey: CANARY } });
      await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'slack', alias: 'chat', connectionStrategy: 'FIXED', connectionId: bot });
      const gh = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'github', credentials: { apiKey: 'gho_proxy-token' } });
      await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'github', alias: 'code', connectionStrategy: 'FIXED', connectionId: gh });
      const lin = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'linear', credentials: { apiKey: 'lin_api_slow' } });
      await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'linear', alias: 'tracker', connectionStrategy: 'FIXED', connectionId: lin });
      proxyKey = await seedApiKey(t, owner, { organizationId: orgId, permissions: ['PROXY'] });
      plainKey = await seedApiKey(t, owner, { organizationId: orgId, permissions: ['EXECUTE'] });
    }, 60_000);

    test('injects the credential, strips the caller’s Authorization and cookies, passes path, query and headers, returns the answer', async () => {
      const answer = await call('GET', '/proxy/chat/conversations.list?limit=1&types=public_channel,private_channel', {
        cookie: 'session=caller-cookie',
        'x-trace-id': 'trace-1',
        connection: 'keep-alive, x-hop',
        'x-hop': 'dropped',
      });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      const body = JSON.parse(answer.text);
      expect(body).toMatchObject({ ok: true, channels: [expect.objectContaining({ id: 'C0GENERAL' })] });
      const sent = slack.api.requests.at(-1)!;
      expect(sent.method).toBe('GET');
      expect(sent.path).toBe('/api/conversations.list');
      expect(sent.query.get('types')).toBe('public_channel,private_channel');
      expect(sent.headers.authorization).toBe(`Bearer ${CANARY}`);
      expect(sent.headers.cookie).toBeUndefined();
      expect(sent.headers['heddle-workspace-id']).toBeUndefined();
      expect(sent.headers['x-hop']).toBeUndefined();
      expect(sent.headers['x-trace-id']).toBe('trace-1');
    });

    test('a body is passed through; the provider’s own error status and body come back', async () => {
      const posted = await call('POST', '/proxy/chat/chat.postMessage', { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ channel: '#general', text: 'via proxy' }));
      expect(posted.status).toBe(200);
      expect(JSON.parse(posted.text)).toMatchObject({ ok: true, channel: 'C0GENERAL' });
      expect(JSON.parse(slack.api.requests.at(-1)!.text)).toEqual({ channel: '#general', text: 'via proxy' });

      const missing = await call('GET', '/proxy/code/repos/heddle/nope', { accept: 'application/vnd.github+json' });
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.text)).toMatchObject({ message: 'Not Found', documentation_url: expect.any(String) });
      expect(github.server.requests.at(-1)!.headers.authorization).toBe('Bearer gho_proxy-token');
    });

    test('every path that leaves the base URL is refused before anything is sent', async () => {
      const before = slack.api.requests.length + github.server.requests.length;
      for (const path of [
        '/proxy/chat/../../graphql',
        '/proxy/chat/%2e%2e/%2E%2E/graphql',
        '/proxy/chat/.%2e/x',
        '/proxy/chat/https://evil.example/steal',
        '/proxy/chat//evil.example/steal',
        '/proxy/chat/users%2f..%2f..%2fadmin',
        '/proxy/chat/a\\..\\b',
      ]) {
        const answer = await call('GET', path);
        expect(answer.status, path).toBe(400);
        expect(JSON.parse(answer.text), path).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
      }
      expect(slack.api.requests.length + github.server.requests.length).toBe(before);
    });

    test('who may use it: PROXY keys and members; a key without PROXY and end users get 403, no credential 401', async () => {
      const path = '/proxy/chat/conversations.list';
      expect((await call('GET', path, { authorization: `Bearer ${plainKey}` })).status).toBe(403);
      expect(JSON.parse((await call('GET', path, { authorization: `Bearer ${plainKey}` })).text)).toMatchObject({ error: { code: 'FORBIDDEN' } });
      const { token } = await issueEndUserToken(t, proxyKey, { workspaceId: ws, externalId: 'ada' });
      expect((await call('GET', path, { authorization: `Bearer ${token}` })).status).toBe(403);
      expect((await raw(t.url, 'GET', path, { 'heddle-workspace-id': ws })).status).toBe(401);
      expect((await call('GET', path, { authorization: `Bearer ${owner}` })).status).toBe(200);
      expect((await call('GET', path, { 'heddle-workspace-id': 'nope' })).status).toBe(400);
      const stranger = await t.memberToken('stranger@proxy.test');
      expect(JSON.parse((await call('GET', path, { authorization: `Bearer ${stranger}` })).text)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    });

    test('a provider that does not answer in time is 504 PROVIDER_TIMEOUT', async () => {
      const answer = await call('POST', '/proxy/tracker/graphql', { 'content-type': 'application/json' }, '{"query":"{ viewer { id } }"}');
      expect(answer.status).toBe(504);
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'PROVIDER_TIMEOUT' } });
      expect(silent.requests.at(-1)!.headers.authorization).toBe('lin_api_slow');
    });

    test('each proxied call counts as usage and is audited without its payload; the canary is in no answer', async () => {
      const usage = await t.request(Usage, { org: orgId, month: new Date().toISOString().slice(0, 7) }, owner);
      expect(usage.data!.organization!.usage.executions).toBe(5);
      const audit = await t.request(Audit, { org: orgId }, owner);
      const entries = audit.data!.organization!.auditEvents.edges.map((e) => e.node);
      expect(entries).toHaveLength(5);
      expect(entries[0]).toMatchObject({ outcome: 'FAILURE', targetType: 'Connection', details: { method: 'POST', path: '/graphql', code: 'PROVIDER_TIMEOUT' } });
      expect(entries.find((e) => (e.details as { status?: number }).status === 404)).toMatchObject({ outcome: 'SUCCESS', details: { path: '/repos/heddle/nope' } });
      expect(JSON.stringify(entries)).not.toContain('via proxy');
      expect(answers.join('\n')).not.toContain(CANARY);
    });
  },
  ALL_BACKENDS.slice(0, 2),
  proxyTest,
);
