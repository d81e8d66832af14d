// W2's nested read (workloads.ts NESTED_QUERY: organization → workspaces →
// integrations with their connection, end users with their connections) timed
// in process against PostgreSQL, with the statements each request runs: for choosing how Prisma loads relations (issue #25, item 2), not a
// benchmark of record (bench/run.ts is).
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx bench/nested-read.ts [requests]
// A database of its own is created on that server and dropped at the end.
// Measured for issue #25 (busy 2-core machine, 300 requests per run, runs alternated):
//   sealed columns loaded:  min 12.7–13.0 ms, 17.7–19.1 CPU ms, 6 statements
//   global omit (kept):     min 10.6–11.0 ms, 15.9–17.2 CPU ms, 6 statements
//   relationJoins ("join"): min 17.0–23.7 ms, 14.2–14.4 CPU ms, 1 statement: PostgreSQL's JSON
//   aggregation costs more than the five round trips it saves, so the preview stays off.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildApp } from '../src/app/app.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { GraphqlClient, memberSession, seedNested } from './seed.js';
import { NESTED_QUERY } from './workloads.js';

const requests = Number(process.argv[2] ?? 500);
const server = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const name = `heddle_nested_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;

const jwtSecret = randomBytes(32).toString('base64url');
const config = loadConfig({
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'silent',
  HEDDLE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'heddle-nested-')),
  HEDDLE_JWT_SECRET: jwtSecret,
  DATABASE_URL: url.toString(),
  // The read itself, not the response cache's copy of it.
  HEDDLE_RESPONSE_CACHE: 'off',
});
let statements: string[] = [];
const app = await buildApp(config, { logger: createLogger('silent'), onQuery: (e) => void statements.push(e.query) });
await app.start();
try {
  const { organizationId, apiKey } = await seedNested(await memberSession(app.url, jwtSecret));
  const client = new GraphqlClient(app.url, `Bearer ${apiKey}`);
  const nested = () => client.request(NESTED_QUERY, { id: organizationId });
  for (let i = 0; i < 20; i++) await nested(); // warm-up: prepared plans, JIT, the cached key

  statements = [];
  await nested();
  const sql = statements.slice();
  // Per request: on a busy machine the low percentiles say what the read costs, the mean what the neighbours do.
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await nested();
    times.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  const at = (q: number) => round2(times[Math.min(times.length - 1, Math.floor(q * times.length))]!);
  console.log(
    JSON.stringify(
      {
        requests,
        msPerRequest: { min: at(0), p10: at(0.1), p50: at(0.5), p90: at(0.9) },
        // Client and server share this process: its CPU per request, the database's not included.
        cpuMsPerRequest: round2((used.user + used.system) / 1000 / times.length),
        statementsPerRequest: sql.length,
        sealedColumnsRead: sql.some((s) => /secretCiphertext|wrappedDataKey/.test(s)),
        statements: sql.map((s) => s.slice(0, 400)),
      },
      null,
      2,
    ),
  );
} finally {
  await app.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
