// `heddle sync-users` as an operator runs it: a separate process with direct
// database access, against the service's PostgreSQL database, importing
// end users through syncEndUsers' rules in batches, with progress lines when
// stdout is not a terminal.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { decodeId } from '../src/platform/ids.js';
import { graphql } from './generated/index.js';
import { createPostgresDatabase, startTestApp, type TestApp } from './support/app.js';
import { unavailable, type Backend } from './support/backends.js';
import { seedApiKey, seedOrganization, seedWorkspace } from './support/fixtures.js';
import { issueEndUserToken } from './support/mcp.js';
import { CLI, runCli, spawnHeddle } from './support/process.js';
import { TEST_REDIS_URL } from './support/services.js';

let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
let t: TestApp;
let token: string;
let organizationId: string;
let db: pg.Client;
const dir = mkdtempSync(path.join(tmpdir(), 'heddle-sync-users-'));

beforeAll(async () => {
  database = await createPostgresDatabase();
  t = await startTestApp({ database: 'postgres', pubsub: 'memory' }, { databaseUrl: database.url });
  token = await t.memberToken('sync-users@example.com');
  organizationId = await seedOrganization(t, token, `sync-users-${Date.now()}`);
  db = new pg.Client({ connectionString: database.url });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await t?.stop();
  await database?.drop();
});

let workspaces = 0;
const newWorkspace = () => seedWorkspace(t, token, organizationId, `ws-${++workspaces}`);

function jsonlFile(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((line) => line + '\n').join(''));
  return file;
}

const userLine = (i: number) =>
  JSON.stringify({ externalId: `user-${i}`, displayName: `User ${i}`, email: `user${i}@example.com`, metadata: { plan: i % 2 ? 'pro' : 'free' } });

async function endUsersOf(workspaceId: string): Promise<{ rows: number; distinct: number }> {
  const { rows } = await db.query(
    'SELECT count(*)::int AS rows, count(DISTINCT "externalId")::int AS distinct FROM "EndUser" WHERE "workspaceId" = $1',
    [decodeId(workspaceId, 'Workspace')],
  );
  return rows[0];
}

const PROGRESS_LINE = /^(\d+)\/(\d+) lines, (\d+) ok, (\d+) failed$/gm;
const env = () => ({ DATABASE_URL: database.url });

test('imports 10,000 end users with progress lines and a summary, audited as SYSTEM', async () => {
  const workspaceId = await newWorkspace();
  const file = jsonlFile('ten-thousand.jsonl', Array.from({ length: 10_000 }, (_, i) => userLine(i)));
  const started = Date.now();
  const cli = await runCli(['sync-users', '--workspace', workspaceId, '--file', file, '--batch-size', '1000'], env());
  expect(cli.stderr).toBe('');
  expect(cli.code).toBe(0);
  expect(Date.now() - started).toBeLessThan(60_000);

  const progress = [...cli.stdout.matchAll(PROGRESS_LINE)].map((m) => ({ done: Number(m[1]), total: Number(m[2]), ok: Number(m[3]) }));
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(progress[0]!.done).toBeLessThan(10_000);
  expect(progress.at(-1)).toEqual({ done: 10_000, total: 10_000, ok: 10_000 });
  expect(cli.stdout).toContain('sync-users: lines 1-10000: 10000 created, 0 updated, 0 unchanged, 0 failed');
  expect(await endUsersOf(workspaceId)).toEqual({ rows: 10_000, distinct: 10_000 });

  const audit = await db.query(
    `SELECT count(*)::int AS n FROM "AuditEvent" WHERE "action" = 'syncEndUsers' AND "actorType" = 'SYSTEM' AND "outcome" = 'SUCCESS' AND "targetId" = $1`,
    [workspaceId],
  );
  expect(audit.rows[0].n).toBe(10);
}, 90_000);

test('bad lines are reported with their numbers and reasons; the others are imported', async () => {
  const workspaceId = await newWorkspace();
  const file = jsonlFile('bad.jsonl', [
    userLine(1),
    '{"externalId": "user-2",',
    userLine(3),
    JSON.stringify({ externalId: 'user-4', email: 'not an address' }),
    '',
    userLine(5),
  ]);
  const cli = await runCli(['sync-users', '--workspace', workspaceId, '--file', file], env());
  expect(cli.code).toBe(1);
  expect(cli.stdout).toContain('sync-users: lines 1-6: 3 created, 0 updated, 0 unchanged, 2 failed');
  expect(cli.stderr.split('\n')).toEqual([
    expect.stringMatching(/^heddle: line 2: not JSON: /),
    'heddle: line 4: email: must be an email address',
    '',
  ]);
  expect(await endUsersOf(workspaceId)).toEqual({ rows: 3, distinct: 3 });
}, 60_000);

test('a killed run resumed with --from-line leaves no duplicates; running again changes nothing', async () => {
  const workspaceId = await newWorkspace();
  const TOTAL = 3000;
  const file = jsonlFile('interrupted.jsonl', Array.from({ length: TOTAL }, (_, i) => userLine(i)));
  const cli = spawnHeddle(env(), [CLI, 'sync-users', '--workspace', workspaceId, '--file', file, '--batch-size', '50']);
  // Progress lines are printed after their batch committed: what they count is stored.
  await vi.waitFor(() => expect(cli.stdout()).toMatch(PROGRESS_LINE), { timeout: 30_000, interval: 20 });
  cli.child.kill('SIGKILL');
  await cli.exited;
  const done = Math.max(...[...cli.stdout().matchAll(PROGRESS_LINE)].map((m) => Number(m[1])));
  expect(done).toBeLessThan(TOTAL);
  const before = await endUsersOf(workspaceId);
  expect(before.rows).toBeGreaterThanOrEqual(done);
  expect(before.rows).toBeLessThan(TOTAL);

  const resumed = await runCli(['sync-users', '--workspace', workspaceId, '--file', file, '--from-line', String(done + 1)], env());
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
  // Batches committed after the last progress line (before the kill) are found unchanged.
  expect(resumed.stdout).toContain(
    `sync-users: lines ${done + 1}-${TOTAL}: ${TOTAL - before.rows} created, 0 updated, ${before.rows - done} unchanged, 0 failed`,
  );
  expect(await endUsersOf(workspaceId)).toEqual({ rows: TOTAL, distinct: TOTAL });

  const again = await runCli(['sync-users', '--workspace', workspaceId, '--file', file], env());
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`sync-users: lines 1-${TOTAL}: 0 created, 0 updated, ${TOTAL} unchanged, 0 failed`);
  expect(await endUsersOf(workspaceId)).toEqual({ rows: TOTAL, distinct: TOTAL });
}, 90_000);

// util-linux `script` runs the command on a pseudo-terminal.
test.skipIf(!existsSync('/usr/bin/script'))('on a terminal the progress is a bar, then the summary', async () => {
  const workspaceId = await newWorkspace();
  const file = jsonlFile('tty.jsonl', Array.from({ length: 300 }, (_, i) => userLine(i)));
  const command = [process.execPath, CLI, 'sync-users', '--workspace', workspaceId, '--file', file, '--batch-size', '100'];
  const { stdout } = await promisify(execFile)('/usr/bin/script', ['-qec', command.join(' '), '/dev/null'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', HEDDLE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'heddle-proc-')), ...env() },
  });
  expect(stdout).toMatch(/\x1b\[/); // drawn with terminal control sequences
  expect(stdout).toMatch(/=+ 100% \| 300\/300 lines, 300 ok, 0 failed/);
  expect(stdout).not.toMatch(PROGRESS_LINE);
  expect(stdout).toContain('sync-users: lines 1-300: 300 created, 0 updated, 0 unchanged, 0 failed');
}, 60_000);

const SeenEndUser = graphql(`query CliSyncSeenEndUser($id: ID!) { node(id: $id) { id } }`);
const REDIS: Backend = { name: 'postgres + redis', database: 'postgres', pubsub: 'redis' };

test.skipIf(unavailable(REDIS))('with REDIS_URL, running instances drop the cached principals of the end users it changes, as after the mutation', async () => {
  const server = await startTestApp(REDIS, { databaseUrl: database.url });
  try {
    const workspaceId = await newWorkspace();
    const file = jsonlFile('moves.jsonl', [JSON.stringify({ externalId: 'mover', directory: 'north' }), JSON.stringify({ externalId: 'neighbour', directory: 'south' })]);
    expect((await runCli(['sync-users', '--workspace', workspaceId, '--file', file], env())).code).toBe(0);
    const apiKey = await seedApiKey(t, token, { organizationId });
    const mover = await issueEndUserToken(server, apiKey, { workspaceId, externalId: 'mover' });
    const neighbour = await issueEndUserToken(server, apiKey, { workspaceId, externalId: 'neighbour' });
    // The server caches the mover's principal (directory north): the neighbour, in south, is no peer.
    const cachedAt = Date.now();
    expect((await server.request(SeenEndUser, { id: neighbour.endUserId }, mover.token)).data?.node).toBeNull();

    const move = await runCli(['sync-users', '--workspace', workspaceId, '--file', jsonlFile('move.jsonl', [JSON.stringify({ externalId: 'mover', directory: 'south' })])], {
      ...env(),
      REDIS_URL: TEST_REDIS_URL,
    });
    expect(move.stderr).toBe('');
    expect(move.stdout).toContain('0 created, 1 updated');
    // The move reached the server before the command ended: the mover is in south now, next to the neighbour.
    expect((await server.request(SeenEndUser, { id: neighbour.endUserId }, mover.token)).data?.node).toEqual({ id: neighbour.endUserId });
    // Within the cache's lifetime (HEDDLE_AUTH_CACHE_TTL_MS, 5 s): otherwise the answer above proves nothing.
    expect(Date.now() - cachedAt).toBeLessThan(5000);
  } finally {
    await server.stop();
  }
}, 60_000);

describe('usage', () => {
  test('an unknown workspace fails with exit 1 naming it', async () => {
    const file = jsonlFile('one.jsonl', [userLine(1)]);
    const cli = await runCli(['sync-users', '--workspace', '00000000-0000-0000-0000-000000000001', '--file', file], env());
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('heddle: workspace not found');
  }, 30_000);
});
