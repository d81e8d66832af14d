// executeAction end to end (issue #24) against loopback fakes of Slack and
// GitHub reached through HEDDLE_PROVIDER_BASE_URLS: the request the provider
// gets, the answer mapped and stored, input validation before any request,
// allowed actions, who may execute, retries with Retry-After, 401 → refresh →
// retry, idempotency (also 20 concurrent calls over two instances), history,
// retention, usage, audit, and the canary secret appearing nowhere.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pruneExecutions } from '../../src/modules/execution/execution.service.js';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { createPostgresDatabase, databaseText, startTestApp, type TestApp } from '../support/app.js';
import { issueEndUserToken } from '../support/mcp.js';
import { seedApiKey, seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { startGitHubFake, type GitHubFake } from '../support/fake-providers/github.js';
import { startLinearFake, type LinearFake } from '../support/fake-providers/linear.js';
import { startFakeServer, type FakeServer } from '../support/fake-providers/server.js';
import { startSlackFake, type SlackFake } from '../support/fake-providers/slack.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

const CANARY = 'xoxb-canary-5f2d9c1e7a4b8d3f';

const Execute = graphql(`
  mutation ExExecute($input: ExecuteActionInput!) {
    executeAction(input: $input) {
      __typename
      ... on ActionExecution {
        id
        status
        integration
        alias
        action
        channel
        input
        output
        error { code message providerStatus }
        resolution { source strategy explanation connection { id displayName } endUser { externalId } }
        endUserExternalId
        idempotencyKey
        attempts
        durationMs
        startedAt
      }
      ...ErrorFields
      ... on ActionNotAllowedError { allowedActions }
    }
  }
`);
const History = graphql(`
  query ExHistory($ws: ID!, $filter: ActionExecutionFilter, $first: Int) {
    workspace(id: $ws) {
      actionExecutions(filter: $filter, first: $first) { totalCount edges { node { id status action endUserExternalId } } }
    }
  }
`);
const One = graphql(`
  query ExOne($id: ID!) {
    actionExecution(id: $id) { id status input output error { code } attempts resolution { source explanation } }
  }
`);
const Usage = graphql(`
  query ExUsage($org: ID!, $month: String!) { organization(id: $org) { usage(month: $month) { resolutions executions } } }
`);
const Audit = graphql(`
  query ExAudit($org: ID!) { organization(id: $org) { auditEvents(action: "executeAction", first: 100) { edges { node { actorType outcome targetType details } } } } }
`);

interface ExecuteInput {
  workspaceId: string;
  integration: string;
  action: string;
  input: unknown;
  externalId?: string;
  idempotencyKey?: string;
}

interface World {
  t: TestApp;
  slack: SlackFake;
  github: GitHubFake;
  linear: LinearFake;
  tokens: TokenServer;
  owner: string;
  orgId: string;
  ws: string;
  executeKey: string;
  plainKey: string;
  logs: string[];
  /** Every response body, to look for the canary in. */
  answers: unknown[];
}

const messages = (slack: SlackFake, method: string) => slack.api.requests.filter((r) => r.path === `/api/${method}`);

async function startWorld(backend: (typeof ALL_BACKENDS)[number], databaseUrl?: string): Promise<World> {
  const slack = await startSlackFake({ token: CANARY });
  const github = await startGitHubFake({ token: 'gho_fresh-access-token' });
  const linear = await startLinearFake({ oauthToken: 'lin_oauth_fresh-access-token' });
  const tokens = await startTokenServer();
  tokens.reply = (form) => ({
    body: { access_token: form.get('refresh_token')?.startsWith('lin_') ? linear.oauthToken : 'gho_fresh-access-token', token_type: 'Bearer', expires_in: 3600 },
  });
  const logs: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const t = await startTestApp(backend, {
    databaseUrl,
    logStream,
    env: {
      HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: slack.apiUrl, github: github.url, linear: linear.url }),
      HEDDLE_ACTION_TIMEOUT_MS: '4000',
    },
  });
  return { t, slack, github, linear, tokens, logs, answers: [], owner: '', orgId: '', ws: '', executeKey: '', plainKey: '' };
}

async function seedWorld(w: World, slug: string): Promise<void> {
  const { t } = w;
  w.owner = await t.memberToken(`owner@${slug}.test`);
  w.orgId = await seedOrganization(t, w.owner, slug);
  w.ws = await seedWorkspace(t, w.owner, w.orgId, `${slug}-ws`);
  const bot = await seedConnection(t, w.owner, {
    scope: 'WORKSPACE',
    workspaceId: w.ws,
    integrationName: 'slack',
    displayName: 'Slack bot',
    credentials: { apiKey: CANARY },
  });
  await seedIntegration(t, w.owner, { workspaceId: w.ws, integrationName: 'slack', alias: 'chat', connectionStrategy: 'FIXED', connectionId: bot });
  await seedIntegration(t, w.owner, {
    workspaceId: w.ws,
    integrationName: 'slack',
    alias: 'readonly-chat',
    connectionStrategy: 'FIXED',
    connectionId: bot,
    allowedActions: ['list_channels'],
  });
  const stripe = await seedConnection(t, w.owner, { scope: 'WORKSPACE', workspaceId: w.ws, integrationName: 'stripe', credentials: { apiKey: 'sk_test_x' } });
  await seedIntegration(t, w.owner, { workspaceId: w.ws, integrationName: 'stripe', alias: 'payments', connectionStrategy: 'FIXED', connectionId: stripe });
  w.executeKey = await seedApiKey(t, w.owner, { organizationId: w.orgId, permissions: ['EXECUTE'] });
  w.plainKey = await seedApiKey(t, w.owner, { organizationId: w.orgId });
}

async function execute(w: World, input: ExecuteInput, token = w.owner) {
  const result = await w.t.request(Execute, { input: input as never }, token);
  w.answers.push(result);
  expect(result.errors).toBeUndefined();
  return result.data!.executeAction;
}

const post = (w: World, text: string, extra: Partial<ExecuteInput> = {}): ExecuteInput => ({
  workspaceId: w.ws,
  integration: 'chat',
  action: 'send_message',
  input: { channel: '#general', text },
  ...extra,
});

describeEachBackend('executeAction', (backend) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(backend);
    await seedWorld(w, `exec-${backend.database}-${backend.pubsub}`);
  }, 60_000);
  afterAll(async () => {
    await w?.t.stop();
    await Promise.all([w?.slack.close(), w?.github.close(), w?.linear.close(), w?.tokens.close()]);
  });

  test('send_message reaches Slack as documented, and the execution is answered and stored', async () => {
    const before = messages(w.slack, 'chat.postMessage').length;
    const result = await execute(w, post(w, 'Deploy finished'));
    expect(result).toMatchObject({
      __typename: 'ActionExecution',
      status: 'SUCCEEDED',
      integration: 'slack',
      alias: 'chat',
      action: 'send_message',
      channel: 'GRAPHQL',
      input: { channel: '#general', text: 'Deploy finished' },
      output: { channel: 'C0GENERAL', ts: expect.stringMatching(/^\d+\.\d+$/), threadTs: null },
      error: null,
      attempts: 1,
      resolution: { source: 'FIXED', strategy: 'FIXED', connection: { displayName: 'Slack bot' } },
    });
    const sent = messages(w.slack, 'chat.postMessage');
    expect(sent).toHaveLength(before + 1);
    expect(sent.at(-1)!.method).toBe('POST');
    expect(sent.at(-1)!.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(JSON.parse(sent.at(-1)!.text)).toMatchObject({ channel: '#general', text: 'Deploy finished' });

    if (result.__typename !== 'ActionExecution') throw new Error('unreachable');
    const stored = await w.t.request(One, { id: result.id }, w.owner);
    expect(stored.data?.actionExecution).toMatchObject({ id: result.id, status: 'SUCCEEDED', input: result.input, output: result.output, attempts: 1 });
  });

  test('a Slack ok:false answer is a FAILED execution with PROVIDER_ERROR and Slack’s message', async () => {
    const result = await execute(w, post(w, 'hello', { input: { channel: '#nowhere', text: 'hello' } }));
    expect(result).toMatchObject({
      status: 'FAILED',
      output: null,
      error: { code: 'PROVIDER_ERROR', message: 'channel_not_found', providerStatus: 200 },
    });
  });

  test('an invalid input is a VALIDATION_ERROR naming each field by its JSON pointer, and never reaches Slack', async () => {
    const before = w.slack.api.requests.length;
    const result = await execute(w, post(w, '', { input: { channel: 42, unknown: true } }));
    expect(result.__typename).toBe('ValidationError');
    const fieldErrors = (result as { fieldErrors: { path: string[]; message: string }[] }).fieldErrors;
    expect(fieldErrors.map((e) => e.path.join('.')).sort()).toEqual(['input.input.channel', 'input.input.text', 'input.input.unknown']);
    expect(fieldErrors.find((e) => e.path.at(-1) === 'channel')!.message).toMatch(/^\/channel must be string/);
    expect(w.slack.api.requests.length).toBe(before);
  });

  test('an action the workspace integration does not allow is ACTION_NOT_ALLOWED; one no provider runs is ACTION_NOT_SUPPORTED', async () => {
    const before = w.slack.api.requests.length;
    const refused = await execute(w, post(w, 'x', { integration: 'readonly-chat' }));
    expect(refused).toMatchObject({ code: 'ACTION_NOT_ALLOWED', allowedActions: ['list_channels'] });
    const unsupported = await execute(w, { workspaceId: w.ws, integration: 'payments', action: 'list_payments', input: {} });
    expect(unsupported).toMatchObject({ code: 'ACTION_NOT_SUPPORTED' });
    expect(w.slack.api.requests.length).toBe(before);
  });

  test('API keys need EXECUTE; end users execute for themselves only', async () => {
    const forbidden = await w.t.requestRaw(
      'mutation($input: ExecuteActionInput!) { executeAction(input: $input) { __typename } }',
      { input: post(w, 'from a plain key') },
      w.plainKey,
    );
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await execute(w, post(w, 'from a backend'), w.executeKey)).toMatchObject({ status: 'SUCCEEDED' });

    const { token } = await issueEndUserToken(w.t, w.executeKey, { workspaceId: w.ws, externalId: 'ada-user' });
    expect(await execute(w, post(w, 'from ada'), token)).toMatchObject({ status: 'SUCCEEDED', endUserExternalId: 'ada-user' });
    expect(await execute(w, post(w, 'as bob', { externalId: 'bob-user' }), token)).toMatchObject({ code: 'FORBIDDEN' });
  });

  test('429 with Retry-After: an idempotent action waits as asked and retries; a non-idempotent one only with an idempotencyKey', async () => {
    w.slack.answerNext('conversations.list', { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } });
    const started = Date.now();
    const listed = await execute(w, { workspaceId: w.ws, integration: 'chat', action: 'list_channels', input: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(listed).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });

    w.slack.answerNext('chat.postMessage', { status: 429, headers: { 'retry-after': '0' }, body: { ok: false, error: 'ratelimited' } });
    expect(await execute(w, post(w, 'once'))).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'PROVIDER_RATE_LIMITED', providerStatus: 429 },
    });
    w.slack.answerNext('chat.postMessage', { status: 503, body: 'upstream unavailable' });
    expect(await execute(w, post(w, 'keyed', { idempotencyKey: `retry-${backend.name}` }))).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
  });

  /** A FIXED integration on a workspace OAuth2 connection whose access token the provider rejects, refreshable at the fake token server. */
  async function seedOAuthIntegration(seed: { integrationName: string; alias: string; accessToken: string; refreshToken: string }): Promise<void> {
    const connection = await seedConnection(w.t, w.owner, {
      scope: 'WORKSPACE',
      workspaceId: w.ws,
      type: 'OAUTH2',
      integrationName: seed.integrationName,
      displayName: `${seed.integrationName} app`,
      tokenUrl: w.tokens.url,
      credentials: { accessToken: seed.accessToken, refreshToken: seed.refreshToken, expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    await seedIntegration(w.t, w.owner, { workspaceId: w.ws, integrationName: seed.integrationName, alias: seed.alias, connectionStrategy: 'FIXED', connectionId: connection });
  }

  test('a 401 on an OAuth2 connection refreshes the token once and retries', async () => {
    await seedOAuthIntegration({ integrationName: 'github', alias: 'code', accessToken: 'gho_revoked-token', refreshToken: 'ghr_refresh-token' });
    const before = w.tokens.calls.length;
    const result = await execute(w, { workspaceId: w.ws, integration: 'code', action: 'list_issues', input: { owner: 'heddle', repo: 'api' } });
    expect(result).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(w.tokens.calls.length).toBe(before + 1);
    expect(w.tokens.calls.at(-1)!.get('refresh_token')).toBe('ghr_refresh-token');
    const auth = w.github.server.requests.slice(-2).map((r) => r.headers.authorization);
    expect(auth).toEqual(['Bearer gho_revoked-token', 'Bearer gho_fresh-access-token']);
    // The next call uses the refreshed token at once.
    expect(await execute(w, { workspaceId: w.ws, integration: 'code', action: 'list_issues', input: { owner: 'heddle', repo: 'api' } })).toMatchObject({ attempts: 1 });
  });

  test('Linear’s AUTHENTICATION_ERROR (HTTP 400, no 401) on an OAuth2 connection is a rejected credential: one refresh, one retry', async () => {
    await seedOAuthIntegration({ integrationName: 'linear', alias: 'issues', accessToken: 'lin_oauth_revoked-token', refreshToken: 'lin_refresh-token' });
    const before = w.tokens.calls.length;
    const requests = w.linear.server.requests.length;
    const result = await execute(w, { workspaceId: w.ws, integration: 'issues', action: 'list_issues', input: {} });
    expect(result).toMatchObject({ status: 'SUCCEEDED', attempts: 2, output: { issues: [] } });
    expect(w.tokens.calls.length).toBe(before + 1);
    expect(w.tokens.calls.at(-1)!.get('refresh_token')).toBe('lin_refresh-token');
    expect(w.linear.server.requests.slice(requests).map((r) => r.headers.authorization)).toEqual([
      'Bearer lin_oauth_revoked-token',
      `Bearer ${w.linear.oauthToken}`,
    ]);
  });

  test('an idempotencyKey answers the first execution and never calls Slack twice; another request under it is a CONFLICT', async () => {
    const key = `key-${backend.name}`;
    const before = messages(w.slack, 'chat.postMessage').length;
    const first = await execute(w, post(w, 'only once', { idempotencyKey: key }));
    const again = await execute(w, post(w, 'only once', { idempotencyKey: key }));
    expect(again).toEqual(first);
    expect(messages(w.slack, 'chat.postMessage').length).toBe(before + 1);
    expect(await execute(w, post(w, 'something else', { idempotencyKey: key }))).toMatchObject({ code: 'CONFLICT' });
  });

  test('secrets are redacted from what is stored and answered, truncated above 64 KB', async () => {
    const result = await execute(w, post(w, `leaked ${CANARY} here`));
    expect(result).toMatchObject({ status: 'SUCCEEDED', input: { text: 'leaked [redacted] here' } });
    // Slack got what the caller sent; only Heddle's record and answer are scrubbed.
    expect(messages(w.slack, 'chat.postMessage').at(-1)!.text).toContain(CANARY);
    const big = await execute(w, post(w, 'x'.repeat(39_000), { input: { channel: '#general', text: 'é'.repeat(39_000) } }));
    expect(big).toMatchObject({ status: 'SUCCEEDED', input: { truncated: true, bytes: expect.any(Number), preview: expect.stringContaining('ééé') } });
  });

  test('history: newest first, filtered; usage counts executions; audit entries name the connection and status, never the payload', async () => {
    const all = await w.t.request(History, { ws: w.ws, first: 100 }, w.owner);
    const nodes = all.data!.workspace!.actionExecutions.edges.map((e) => e.node);
    expect(nodes.length).toBeGreaterThanOrEqual(8);
    const failed = await w.t.request(History, { ws: w.ws, filter: { status: 'FAILED', integration: 'slack' }, first: 100 }, w.owner);
    const failedNodes = failed.data!.workspace!.actionExecutions.edges.map((e) => e.node);
    expect(failedNodes.length).toBeGreaterThanOrEqual(2);
    expect(failedNodes.every((n) => n.status === 'FAILED')).toBe(true);
    const ada = await w.t.request(History, { ws: w.ws, filter: { endUserExternalId: 'ada-user', since: new Date(Date.now() - 60_000).toISOString() } }, w.owner);
    expect(ada.data!.workspace!.actionExecutions.edges.map((e) => e.node.endUserExternalId)).toEqual(['ada-user']);

    const usage = await w.t.request(Usage, { org: w.orgId, month: new Date().toISOString().slice(0, 7) }, w.owner);
    expect(usage.data!.organization!.usage.executions).toBe(nodes.length);

    const audit = await w.t.request(Audit, { org: w.orgId }, w.owner);
    // Calls stopped before the provider (validation, not allowed, FORBIDDEN) have the mutation's own entry, without an execution.
    const entries = audit.data!.organization!.auditEvents.edges.map((e) => e.node).filter((e) => (e.details as { execution?: string } | null)?.execution);
    expect(entries.length).toBe(nodes.length);
    expect(entries.filter((e) => e.outcome === 'FAILURE').length).toBe(failedNodes.length);
    for (const entry of entries) {
      expect(entry.targetType).toBe('Connection');
      expect(entry.details).toMatchObject({ action: expect.any(String), status: expect.stringMatching(/SUCCEEDED|FAILED/), channel: 'GRAPHQL' });
      expect(JSON.stringify(entry.details)).not.toMatch(/Deploy finished|leaked/);
    }
  });

  test('the canary secret is in no stored row, log line or answer', async () => {
    expect(await databaseText(w.t)).not.toContain(CANARY);
    expect(w.logs.join('')).not.toContain(CANARY);
    expect(w.logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(w.answers)).not.toContain(CANARY);
  });

  test('executions older than the retention are pruned', async () => {
    const { prisma } = w.t.app.services;
    const count = await prisma.actionExecution.count();
    expect(await pruneExecutions(prisma, 30)).toBe(0);
    expect(await pruneExecutions(prisma, 30, Date.now() + 31 * 86_400_000)).toBe(count);
    expect(await prisma.actionExecution.count()).toBe(0);
  });
}, ALL_BACKENDS.slice(0, 2));

describe('a provider that does not answer in time', () => {
  let t: TestApp;
  let silent: FakeServer;
  let owner: string;
  let ws: string;
  beforeAll(async () => {
    // Accepts requests and never answers them.
    silent = await startFakeServer(() => new Promise(() => {}));
    t = await startTestApp(ALL_BACKENDS[0]!, {
      env: { HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: silent.url }), HEDDLE_ACTION_TIMEOUT_MS: '300' },
    });
    owner = await t.memberToken('owner@slow.test');
    const org = await seedOrganization(t, owner, 'slow');
    ws = await seedWorkspace(t, owner, org, 'slow-ws');
    const bot = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'slack', credentials: { apiKey: CANARY } });
    await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'slack', alias: 'chat', connectionStrategy: 'FIXED', connectionId: bot });
  });
  afterAll(async () => {
    await t?.stop();
    await silent?.close();
  });

  test('is aborted at HEDDLE_ACTION_TIMEOUT_MS: a FAILED execution with PROVIDER_TIMEOUT', async () => {
    const started = Date.now();
    const result = await t.request(Execute, { input: { workspaceId: ws, integration: 'chat', action: 'list_channels', input: {} } }, owner);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.data?.executeAction).toMatchObject({ status: 'FAILED', error: { code: 'PROVIDER_TIMEOUT', providerStatus: null } });
    expect(silent.requests.length).toBeGreaterThanOrEqual(1);
  });
});

describeEachBackend(
  'idempotency across two instances',
  (backend) => {
    let a: World;
    let b: TestApp;
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    beforeAll(async () => {
      database = await createPostgresDatabase();
      a = await startWorld(backend, database.url);
      b = await startTestApp(backend, {
        databaseUrl: database.url,
        env: { HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: a.slack.apiUrl }), HEDDLE_ACTION_TIMEOUT_MS: '4000' },
      });
      await seedWorld(a, 'twin');
    }, 60_000);
    afterAll(async () => {
      await b?.stop();
      await a?.t.stop();
      await Promise.all([a?.slack.close(), a?.github.close(), a?.linear.close(), a?.tokens.close()]);
      await database?.drop();
    });

    test('20 concurrent executeAction calls with one idempotencyKey make one Slack request and get 20 identical answers', async () => {
      const input = post(a, 'exactly once', { idempotencyKey: 'deploy-42' });
      const apps = [a.t, b];
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => apps[i % 2]!.request(Execute, { input: input as never }, a.owner)),
      );
      const first = answers[0]!.data!.executeAction;
      expect(first).toMatchObject({ status: 'SUCCEEDED', idempotencyKey: 'deploy-42' });
      expect(messages(a.slack, 'chat.postMessage')).toHaveLength(1);
      for (const answer of answers) expect(answer.data!.executeAction).toEqual(first);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'redis'),
);
