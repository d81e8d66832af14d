// The ledger (issue #6, acceptance 2 and 3): two real Heddle processes share
// PostgreSQL and a Redis of the test's own; 200 config changes across three
// workspaces go through the first process while subscribers sit on the second.
// Every subscriber must end up with versions 1..N of its workspace: no gap, no
// duplicate. ledgerTest() declares it in the calling file, on the Redis its
// caller starts (one redis-server restarted midway, a Redis Cluster…).
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { signMemberToken } from '../../src/auth/principal.js';
import { createPostgresDatabase, TEST_JWT_SECRET } from './app.js';
import { unavailable } from './backends.js';
import { spawnHeddle, type HeddleProcess } from './process.js';

export interface LedgerRedis {
  /** REDIS_URL for both processes. */
  url: string;
  /** When given, Redis goes down at half the changes and comes back at three quarters. */
  outage?: { down(): Promise<void>; up(): Promise<void> };
  stop(): Promise<void>;
}

const CHANGES = 200;

async function gql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: T; errors?: unknown };
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!;
}

/** A subscriber that keeps every version it receives and resumes from the last one whenever its stream ends. */
function ledger(url: string, token: string, workspaceId: string) {
  const versions: number[] = [];
  let stopped = false;
  const client = createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    shouldRetry: () => !stopped,
    retryWait: () => new Promise((r) => setTimeout(r, 200)),
  });
  const subscribe = (): void => {
    client.subscribe(
      {
        query: 'subscription($ws: ID!, $since: Int) { workspaceConfigChanged(workspaceId: $ws, sinceVersion: $since) { version } }',
        variables: { ws: workspaceId, since: versions.at(-1) ?? 0 },
      },
      {
        next: (message) => {
          const version = (message.data as { workspaceConfigChanged?: { version: number } } | undefined)?.workspaceConfigChanged?.version;
          if (version !== undefined) versions.push(version);
        },
        error: () => !stopped && setTimeout(subscribe, 200),
        complete: () => !stopped && setTimeout(subscribe, 200),
      },
    );
  };
  subscribe();
  return {
    versions,
    stop: async () => {
      stopped = true;
      await client.dispose();
    },
  };
}

/** `title` says what happens to Redis, e.g. "Redis restarted midway". */
export function ledgerTest(title: string, startRedis: () => Promise<LedgerRedis>): void {
  const skip = unavailable({ name: 'postgres + redis', database: 'postgres', pubsub: 'redis' });
  let redis: LedgerRedis | undefined;
  const heddles: HeddleProcess[] = [];
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (skip) return;
    redis = await startRedis();
    const database = await createPostgresDatabase();
    dropDatabase = database.drop;
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, HEDDLE_JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info' };
    // One after the other: the first applies the migrations.
    heddles.push(spawnHeddle(env));
    await heddles[0]!.listening;
    heddles.push(spawnHeddle(env));
    await heddles[1]!.listening;
  }, 120_000);

  afterAll(async () => {
    for (const heddle of heddles) heddle.child.kill('SIGTERM');
    await Promise.all(heddles.map((h) => h.exited));
    await redis?.stop();
    await dropDatabase?.();
  });

  test.skipIf(skip)(
    `${CHANGES} changes across 3 workspaces through one process, ${title}: subscribers on the other process hold 1..N`,
    async () => {
      const [writer, reader] = [await heddles[0]!.listening, await heddles[1]!.listening];
      const token = await signMemberToken(TEST_JWT_SECRET, { sub: 'ledger|1', email: 'ledger@example.com' });
      const org = await gql<{ createOrganization: { id: string } }>(writer, token, 'mutation { createOrganization(input: { name: "Ledger", slug: "ledger" }) { ... on Organization { id } } }');
      const workspaces: string[] = [];
      for (const slug of ['one', 'two', 'three']) {
        const created = await gql<{ createWorkspace: { id: string } }>(
          writer,
          token,
          'mutation($org: ID!, $slug: String!) { createWorkspace(input: { organizationId: $org, name: "W", slug: $slug }) { ... on Workspace { id } } }',
          { org: org.createOrganization.id, slug },
        );
        workspaces.push(created.createWorkspace.id);
      }
      const change = (i: number) =>
        gql(writer, token, 'mutation($id: ID!, $name: String!) { updateWorkspace(input: { id: $id, name: $name }) { __typename } }', {
          id: workspaces[i % 3],
          name: `change ${i}`,
        });
      // Each workspace's first change before its subscriber: the replay of it shows the subscription in place.
      for (let i = 0; i < 3; i++) await change(i);
      const ledgers = workspaces.map((id) => ledger(reader, token, id));
      await expect.poll(() => ledgers.map((l) => l.versions), { timeout: 10_000 }).toEqual([[1], [1], [1]]);

      for (let i = 3; i < CHANGES; i++) {
        if (i === CHANGES / 2) await redis!.outage?.down();
        if (i === (CHANGES * 3) / 4) await redis!.outage?.up();
        await change(i);
      }

      const expected = workspaces.map((_, w) => Array.from({ length: Math.ceil((CHANGES - w) / 3) }, (_, k) => k + 1));
      await expect.poll(() => ledgers.map((l) => l.versions), { timeout: 30_000, interval: 250 }).toEqual(expected);
      // Events reach a subscriber in version order: a late duplicate would come before the next change, so one more change
      // per workspace must be the next event each holds.
      for (let i = CHANGES; i < CHANGES + 3; i++) await change(i);
      const marked = expected.map((versions) => [...versions, versions.length + 1]);
      await expect.poll(() => ledgers.map((l) => l.versions), { timeout: 10_000 }).toEqual(marked);
      await Promise.all(ledgers.map((l) => l.stop()));
      ledgers.forEach((l, w) => expect(l.versions, `workspace ${w + 1}`).toEqual(marked[w]));
    },
    120_000,
  );
}
