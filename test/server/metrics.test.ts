// GET /metrics: bearer-protected Prometheus text, the series an operator needs,
// and label values that never carry an id or unbounded caller input.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_OPERATION_NAMES } from '../../src/platform/metrics.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { unavailable } from '../support/backends.js';
import { startSlackFake, type SlackFake } from '../support/fake-providers/slack.js';
import { seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const backend = { name: 'postgres + redis', database: 'postgres', pubsub: 'redis' } as const;

async function scrape(t: TestApp, authorization?: string): Promise<Response> {
  return fetch(`${t.url}/metrics`, { headers: authorization ? { authorization } : {} });
}

async function metricsText(t: TestApp): Promise<string> {
  const response = await scrape(t, `Bearer ${METRICS_TOKEN}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** Every label value of every sample line. */
function labelValues(text: string): string[] {
  return [...text.matchAll(/^[a-z_:]+\{([^}]*)\}/gm)].flatMap(([, labels]) => [...labels!.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
}

test('without HEDDLE_METRICS_TOKEN the endpoint does not exist', async () => {
  const t = await startTestApp({ database: 'pglite', pubsub: 'memory' });
  try {
    expect((await scrape(t)).status).toBe(404);
    expect((await scrape(t, 'Bearer anything-at-all-here')).status).toBe(404);
  } finally {
    await t.stop();
  }
});

describe.skipIf(unavailable(backend))('GET /metrics (postgres + redis)', () => {
  let t: TestApp;
  let slack: SlackFake;
  let owner: string;
  let workspaceId: string;
  const ids: string[] = [];
  beforeAll(async () => {
    slack = await startSlackFake();
    t = await startTestApp(backend, { env: { HEDDLE_METRICS_TOKEN: METRICS_TOKEN, HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: slack.apiUrl }) } });
    owner = await t.memberToken('metrics-owner@example.com');
    const organizationId = await seedOrganization(t, owner, 'metrics-org');
    workspaceId = await seedWorkspace(t, owner, organizationId, 'metrics-ws');
    const connectionId = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'linear', displayName: 'Linear bot' });
    ids.push(organizationId, workspaceId, connectionId);
    await seedIntegration(t, owner, { workspaceId, integrationName: 'linear', alias: 'tracker', connectionStrategy: 'FIXED', connectionId });
    const slackBot = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack', displayName: 'Slack bot', credentials: { apiKey: 'xoxb-fake-slack-token' } });
    await seedIntegration(t, owner, { workspaceId, integrationName: 'slack', alias: 'chat', connectionStrategy: 'FIXED', connectionId: slackBot });
  });
  afterAll(async () => {
    await t?.stop();
    await slack?.close();
  });

  test('answers 401 without a token and with a wrong one, 200 with it', async () => {
    expect((await scrape(t)).status).toBe(401);
    expect((await scrape(t, `Bearer ${METRICS_TOKEN}x`)).status).toBe(401);
    expect((await scrape(t, `Basic ${METRICS_TOKEN}`)).status).toBe(401);
    expect((await scrape(t, `Bearer ${METRICS_TOKEN}`)).status).toBe(200);
  });

  test('after a query, a mutation, a resolution and errors of each kind, their series appear', async () => {
    expect((await t.requestRaw('query MetricsViewer { viewer { kind } }', {}, owner)).errors).toBeUndefined();
    const resolved = await t.requestRaw<{ resolveConnection: { __typename: string } }>(
      'mutation MetricsResolve($input: ResolveConnectionInput!) { resolveConnection(input: $input) { __typename } }',
      { input: { workspaceId, integration: 'tracker' } },
      owner,
    );
    expect(resolved.data?.resolveConnection.__typename).toBe('ConnectionResolution');
    // A typed error (a result union member): the slug is taken.
    const taken = await t.requestRaw<{ createOrganization: { __typename: string } }>(
      'mutation MetricsTaken { createOrganization(input: { name: "Again", slug: "metrics-org" }) { __typename } }',
      {},
      owner,
    );
    expect(taken.data?.createOrganization.__typename).toMatch(/Error$/);
    // Top-level errors: an anonymous caller, a document that does not validate.
    const anonymous = await t.requestRaw(
      'mutation MetricsAnonymous($input: ResolveConnectionInput!) { resolveConnection(input: $input) { __typename } }',
      { input: { workspaceId, integration: 'tracker' } },
    );
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.requestRaw('query MetricsInvalid { noSuchField }', {}, owner)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // graphql-ws answers count too: a document that does not validate, a bad argument.
    const client = t.wsClient(owner);
    // graphql-ws hands a refused operation's errors to `error`, an executed one's to `next`.
    const overSocket = (query: string) =>
      new Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[] }>((resolve) => {
        client.subscribe({ query }, { next: resolve, error: (errors) => resolve({ errors: errors as never }), complete: () => {} });
      });
    expect((await overSocket('query MetricsWsInvalid { noSuchField }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await overSocket('query MetricsWsBadId { node(id: "not-a-global-id") { id } }')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // An open subscription is counted while it lasts.
    const subscription = client.iterate({ query: `subscription MetricsSub($ws: ID!) { workspaceConfigChanged(workspaceId: $ws) { version } }`, variables: { ws: workspaceId } });
    void subscription.next();
    await expect.poll(async () => await metricsText(t)).toMatch(/^heddle_graphql_active_subscriptions 1$/m);

    const text = await metricsText(t);
    for (const series of [
      /^process_cpu_seconds_total \d/m,
      /^nodejs_eventloop_lag_seconds \d/m,
      /^heddle_graphql_operation_duration_seconds_count\{operation_type="query",operation_name="MetricsViewer"\} 1$/m,
      /^heddle_graphql_operation_duration_seconds_count\{operation_type="mutation",operation_name="MetricsResolve"\} 1$/m,
      /^heddle_graphql_operation_duration_seconds_count\{operation_type="subscription",operation_name="MetricsSub"\} 1$/m,
      /^heddle_resolutions_total\{strategy="FIXED",source="FIXED"\} 1$/m,
      /^heddle_graphql_errors_total\{code="CONFLICT",kind="typed"\} 1$/m,
      /^heddle_graphql_errors_total\{code="UNAUTHENTICATED",kind="request"\} 1$/m,
      /^heddle_graphql_errors_total\{code="GRAPHQL_VALIDATION_FAILED",kind="request"\} 2$/m,
      /^heddle_graphql_errors_total\{code="BAD_USER_INPUT",kind="request"\} 1$/m,
      /^# TYPE heddle_action_executions_total counter$/m,
      /^heddle_mcp_sessions 0$/m,
      /^heddle_outbox_lag_seconds \d/m,
      /^heddle_db_pool_connections\{state="idle"\} \d+$/m,
      /^heddle_db_pool_connections\{state="in_use"\} \d+$/m,
      /^heddle_db_pool_connections\{state="waiting"\} 0$/m,
      /^heddle_redis_connected\{client="publish"\} 1$/m,
      /^heddle_redis_connected\{client="subscribe"\} 1$/m,
    ]) {
      expect(text).toMatch(series);
    }
    // The invalid document was never executed: its name is no label.
    expect(text).not.toContain('MetricsInvalid');
    expect(text).not.toContain('MetricsWsInvalid');

    await subscription.return?.();
    await expect.poll(async () => await metricsText(t)).toMatch(/^heddle_graphql_active_subscriptions 0$/m);
    await client.dispose();
  });

  test('a subscription is timed once, also when its stream ends with an error', async () => {
    const organizationId = await seedOrganization(t, owner, 'metrics-doomed-org');
    const doomed = await seedWorkspace(t, owner, organizationId, 'metrics-doomed');
    const client = t.wsClient(owner);
    try {
      const subscription = client.iterate({ query: `subscription MetricsDoomed($ws: ID!) { workspaceConfigChanged(workspaceId: $ws) { version } }`, variables: { ws: doomed } });
      const ended = subscription.next().then(
        () => null,
        (errors: readonly { extensions?: { code?: string } }[]) => errors[0]?.extensions?.code,
      );
      const timed = /^heddle_graphql_operation_duration_seconds_count\{operation_type="subscription",operation_name="MetricsDoomed"\} 1$/m;
      await expect.poll(async () => await metricsText(t)).toMatch(timed);
      const deleted = await t.requestRaw<{ deleteWorkspace: { __typename: string } }>(
        'mutation MetricsDelete($input: DeleteWorkspaceInput!) { deleteWorkspace(input: $input) { __typename } }',
        { input: { id: doomed } },
        owner,
      );
      expect(deleted.data?.deleteWorkspace.__typename).toBe('Deleted');
      expect(await ended).toBe('UNAUTHENTICATED');
      expect(await metricsText(t)).toMatch(timed);
    } finally {
      await client.dispose();
    }
  });

  test('an action execution counts by integration, action and status', async () => {
    const executed = await t.requestRaw<{ executeAction: { __typename: string; status?: string } }>(
      'mutation MetricsExecute($input: ExecuteActionInput!) { executeAction(input: $input) { __typename ... on ActionExecution { status } } }',
      { input: { workspaceId, integration: 'chat', action: 'send_message', input: { channel: '#general', text: 'metrics' } } },
      owner,
    );
    expect(executed.data?.executeAction).toEqual({ __typename: 'ActionExecution', status: 'SUCCEEDED' });
    const text = await metricsText(t);
    expect(text).toMatch(/^heddle_action_executions_total\{integration="slack",action="send_message",status="SUCCEEDED"\} 1$/m);
    expect(text).toMatch(/^heddle_resolutions_total\{strategy="FIXED",source="FIXED"\} 2$/m);
  });

  test('no label value holds an id, a variable or an operation name beyond the cap', async () => {
    const names = Array.from({ length: MAX_OPERATION_NAMES + 20 }, () => `Random_${randomBytes(6).toString('hex')}`);
    const secretInput = `canary-${randomBytes(6).toString('hex')}`;
    for (const name of names) {
      const result = await t.requestRaw(`query ${name}($id: ID!) { node(id: $id) { id } }`, { id: ids[0] }, owner);
      expect(result.errors).toBeUndefined();
    }
    await t.requestRaw(`query MetricsCanary($id: ID!) { node(id: $id) { id } }`, { id: secretInput }, owner);

    const values = labelValues(await metricsText(t));
    const operationNames = new Set(values.filter((value) => value.startsWith('Random_')));
    expect(operationNames.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES);
    // Names are taken first come: the last ones sent, past the cap, are counted as "other".
    for (const name of names.slice(-20)) expect(values).not.toContain(name);
    expect(values).toContain('other');
    for (const value of values) {
      for (const id of ids) expect(value).not.toContain(id);
      expect(value).not.toContain(secretInput);
      expect(value).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
    }
  });
});
