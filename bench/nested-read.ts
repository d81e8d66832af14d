// W2's nested read (workloads.ts NESTED_QUERY: organization → workspaces →
// integrations with their connection, end users with their connections) timed
// in process against PostgreSQL, with the statements each request runs: for choosing how Prisma loads relations (issue #25, item 2), not a
// benchmark of record (bench/run.ts is).
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx bench/nested-read.ts [requests] [rounds]
// A database of its own is created on that server and dropped at the end.
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

const requests = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 3);
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
  const times: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < requests; i++) await nested();
    const used = process.cpuUsage(cpuBefore);
    times.push((performance.now() - started) / requests);
    cpu.push((used.user + used.system) / 1000 / requests);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        requests,
        rounds,
        msPerRequest: { best: round2(times[0]!), median: round2(times[Math.floor(times.length / 2)]!) },
        // Client and server share this process: its CPU per request, the database's not included.
        cpuMsPerRequest: { best: round2(cpu[0]!), median: round2(cpu[Math.floor(cpu.length / 2)]!) },
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
