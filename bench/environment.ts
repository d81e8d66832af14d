// What `npm run bench` and `npm run soak` share: the local PostgreSQL and
// Redis, a throwaway database per run, and the environment Heddle runs with.
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Results } from './report.js';

export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One statement on the server's `postgres` database, on a connection of its own. */
export async function adminQuery<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export interface ThrowawayDatabase {
  name: string;
  url: string;
  /** Drops it, connections still open or not. */
  drop(): Promise<void>;
}

/** A fresh, empty database (`<prefix>_<random>`) on the local server; Heddle migrates it when it starts. */
export async function createThrowawayDatabase(prefix: string): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString(),
    drop: async () => void (await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** Heddle's environment for a run: production mode, fresh secrets, the given database and the local Redis. */
export function heddleEnvironment(databaseUrl: string) {
  const jwtSecret = randomBytes(32).toString('base64url');
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HEDDLE_JWT_SECRET: jwtSecret,
    HEDDLE_ENCRYPTION_KEYS: `1:${randomBytes(32).toString('base64')}`,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    // Every Heddle but the bench's heddle-cached computes each answer: the workloads measure the work.
    HEDDLE_RESPONSE_CACHE: 'off',
  };
  return { jwtSecret, env };
}

export async function machine(): Promise<Results['machine']> {
  const [setting] = await adminQuery<{ server_version: string }>('SHOW server_version');
  const redis = new Redis(REDIS_URL);
  const info = await redis.info('server');
  redis.disconnect();
  return {
    cpu: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: setting?.server_version.split(' ')[0] ?? '?',
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
  };
}
