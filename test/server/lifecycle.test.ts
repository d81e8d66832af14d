// The process as an operator runs it: start-up checks, health, shutdown.
import { afterAll, describe, expect, inject, test } from 'vitest';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { signMemberToken } from '../../src/auth/principal.js';
import { createPostgresDatabase, TEST_JWT_SECRET } from '../support/app.js';
import { spawnHeddle, type HeddleProcess } from '../support/process.js';

const started: HeddleProcess[] = [];
afterAll(() => {
  for (const p of started) p.child.kill('SIGKILL');
});
function start(env: NodeJS.ProcessEnv = {}) {
  const p = spawnHeddle(env);
  started.push(p);
  return p;
}

describe('bad configuration stops start-up with one line naming the variable', () => {
  const cases: [string, NodeJS.ProcessEnv, string][] = [
    ['malformed DATABASE_URL', { DATABASE_URL: 'mysql//nope' }, 'DATABASE_URL'],
    ['unreachable DATABASE_URL', { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/heddle' }, 'DATABASE_URL'],
    ['unreachable REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:1' }, 'REDIS_URL'],
    ['malformed PORT', { PORT: 'eighty' }, 'PORT'],
    ['production without a JWT secret', { NODE_ENV: 'production' }, 'HEDDLE_JWT_SECRET'],
  ];
  test.each(cases)('%s', async (_name, env, variable) => {
    const p = start(env);
    const { code } = await p.exited;
    expect(code).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^heddle: /);
    expect(lines[0]).toContain(variable);
    expect(p.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('the embedded default', () => {
  test('serves /healthz, /readyz and GraphQL with no external service', async () => {
    const p = start();
    const url = await p.listening;
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ok', database: 'pglite', pubsub: 'memory' });
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { kind } }' }),
    });
    expect(await response.json()).toEqual({ data: { viewer: { kind: 'ANONYMOUS' } } });
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });

  test('SIGTERM with an open graphql-ws subscription: a close frame, then exit 0 within 5 s', async () => {
    const p = start({ HEDDLE_JWT_SECRET: TEST_JWT_SECRET });
    const url = await p.listening;
    const token = await signMemberToken(TEST_JWT_SECRET, { sub: 'sigterm', email: 'sigterm@example.com' });
    const request = (query: string) =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      }).then((r) => r.json() as Promise<{ data: Record<string, { id: string }> }>);
    const org = await request('mutation { createOrganization(input: {name: "S", slug: "s"}) { ... on Organization { id } } }');
    const ws = await request(
      `mutation { createWorkspace(input: {organizationId: "${org.data.createOrganization!.id}", name: "W", slug: "w"}) { ... on Workspace { id } } }`,
    );
    const client = createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    const closeCode = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
    const workspaceId = ws.data.createWorkspace!.id;
    await request(`mutation { updateWorkspace(input: {id: "${workspaceId}", name: "W1"}) { ... on Workspace { id } } }`);
    // From version 0, the change is replayed: once it arrives, the subscription is open.
    const subscription = client.iterate({ query: `subscription { workspaceConfigChanged(workspaceId: "${workspaceId}", sinceVersion: 0) { version } }` });
    expect((await subscription.next()).value).toEqual({ data: { workspaceConfigChanged: { version: 1 } } });
    const ended = subscription.next().catch((error: unknown) => error);
    const signalledAt = Date.now();
    p.child.kill('SIGTERM');
    expect(await closeCode).toBe(1001);
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    await ended;
    await client.dispose();
  });
});

describe.skipIf(inject('services').postgres !== null)('on PostgreSQL', () => {
  test('two instances started at once against one empty database apply each migration exactly once', async () => {
    const database = await createPostgresDatabase();
    try {
      const env = { DATABASE_URL: database.url, HEDDLE_JWT_SECRET: TEST_JWT_SECRET };
      const [a, b] = [start(env), start(env)];
      await Promise.all([a.listening, b.listening]);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client.query<{ n: number; distinct_names: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT migration_name)::int AS distinct_names FROM "_prisma_migrations"',
      );
      await client.end();
      expect(rows[0]!.n).toBe(rows[0]!.distinct_names);
      expect(rows[0]!.n).toBeGreaterThan(0);
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      // The whole exit status: a signal here would mean the shutdown handler did not run.
      expect(await a.exited).toEqual({ code: 0, signal: null });
      expect(await b.exited).toEqual({ code: 0, signal: null });
    } finally {
      await database.drop();
    }
  });
});
