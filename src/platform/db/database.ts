// Opens the database: embedded PGlite (default) or PostgreSQL through a pg pool.
// Both are reached through the same Prisma client and the same migrations.
import { existsSync, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { redactUrl, type Config } from '../config.js';
import { PrismaClient } from '../../generated/prisma/client.js';
import { SEALED_COLUMNS_OMITTED } from '../crypto/credential-store.js';
import { preparedStatementName } from './prepared.js';
import { withReadReplicas } from './replicas.js';

/** Plain SQL on one dedicated session: used by migrations and health checks. */
export interface SqlSession {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  release(): Promise<void>;
}

export interface Database {
  kind: 'pglite' | 'postgres';
  /** Reads from DATABASE_REPLICA_URLS' replicas only inside `readFromReplicas` (./replicas.ts); the primary otherwise. */
  prisma: PrismaClient;
  /** Always the primary: authentication and revocation checks, which a lagging replica must not answer. */
  primary: PrismaClient;
  session(): Promise<SqlSession>;
  ping(): Promise<void>;
  /** The pg pool's clients (metrics); null on PGlite, a single connection. */
  poolStats(): { total: number; idle: number; waiting: number } | null;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

export type QueryListener = (event: { query: string; duration: number }) => void;

export async function openDatabase(
  config: Config['database'],
  options: { onQuery?: QueryListener } = {},
): Promise<Database> {
  return config.kind === 'pglite' ? openPglite(config.dataDir, options) : openPostgres(config, options);
}

/**
 * Interactive transactions wait for a connection up to maxWait (Prisma's default
 * is 2 s; DATABASE_TRANSACTION_WAIT_MS on PostgreSQL) and run up to timeout. A
 * large subscription fan-out keeps the event loop busy in slices: a writer
 * queued behind it must wait, not fail.
 */
const DEFAULT_TRANSACTION_WAIT_MS = 10_000;
const TRANSACTION_TIMEOUT_MS = 15_000;

/**
 * Sealed credential columns are read only where a credential read asks for them (credential-store.ts).
 * Minimal errors: any other format captures a stack trace on every query, to
 * point a developer's terminal at the calling line (a tenth of a point query's
 * cost in Prisma); Heddle maps Prisma's errors to its own and logs its own stacks.
 */
function createPrisma(adapter: SqlDriverAdapterFactory, onQuery?: QueryListener, transactionWaitMs = DEFAULT_TRANSACTION_WAIT_MS): PrismaClient {
  const options = { adapter, omit: SEALED_COLUMNS_OMITTED, errorFormat: 'minimal' as const, transactionOptions: { maxWait: transactionWaitMs, timeout: TRANSACTION_TIMEOUT_MS } };
  if (!onQuery) return new PrismaClient(options);
  const prisma = new PrismaClient({ ...options, log: [{ emit: 'event' as const, level: 'query' as const }] });
  prisma.$on('query', (e) => onQuery({ query: e.query, duration: e.duration }));
  return prisma as unknown as PrismaClient;
}

/**
 * Postgres's default shared_buffers (128 MB) lives in PGlite's WebAssembly
 * memory; an embedded, single-connection database needs far less, and the
 * operating system still caches its files.
 */
const PGLITE_OPTIONS = { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] };

/**
 * Creating the cluster (initdb) grows PGlite's WebAssembly memory to about
 * 600 MB, and that memory never shrinks: a worker thread creates it, and its
 * memory goes when it ends.
 */
async function createPgliteCluster(dataDir: string): Promise<void> {
  const script = `const { workerData } = require('node:worker_threads');
import(workerData.pglite).then(({ PGlite }) => new PGlite(workerData.dataDir, workerData.options).close());`;
  const worker = new Worker(script, { eval: true, workerData: { pglite: import.meta.resolve('@electric-sql/pglite'), dataDir, options: PGLITE_OPTIONS } });
  const [code] = (await Promise.race([once(worker, 'exit'), once(worker, 'error').then(([error]) => Promise.reject(error as Error))])) as [number];
  if (code !== 0) throw new Error(`creating the embedded database in ${dataDir} failed (worker exited with ${code})`);
}

/**
 * One process at a time on an embedded database: PGlite has no lock of its
 * own, and a CLI command run beside the server on the same directory would
 * write the same files. The lock is a directory whose time is refreshed while
 * it is held; one left by a process that died goes stale within
 * PGLITE_LOCK.stale, and the retries wait that long, so a restart after a
 * crash still starts.
 */
const PGLITE_LOCK = { stale: 10_000, update: 5_000, retries: { retries: 5, factor: 1, minTimeout: 2_500 } };

async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dataDir, {
      ...PGLITE_LOCK,
      lockfilePath: path.join(dataDir, 'heddle.lock'),
      // Refreshing failed (the event loop stalled past `stale`): the lock is advisory, the process keeps its database.
      onCompromised: () => {},
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new DatabaseUnavailableError(
      `the embedded database in ${dataDir} is in use by another Heddle process (a server or a heddle command): stop it first, or use DATABASE_URL`,
    );
  }
}

async function openPglite(dataDir: string, options: { onQuery?: QueryListener }): Promise<Database> {
  const onDisk = !dataDir.startsWith('memory://');
  if (onDisk) mkdirSync(dataDir, { recursive: true });
  const unlock = onDisk ? await lockDataDir(dataDir) : async () => {};
  let db: PGlite;
  try {
    if (onDisk && !existsSync(path.join(dataDir, 'PG_VERSION'))) await createPgliteCluster(dataDir);
    db = new PGlite(dataDir, PGLITE_OPTIONS);
    await db.waitReady;
  } catch (error) {
    await unlock();
    throw error;
  }
  const prisma = createPrisma(new PrismaPGlite(db), options.onQuery);
  return {
    kind: 'pglite',
    prisma,
    primary: prisma,
    // PGlite is a single connection: a session is the database itself.
    async session() {
      return {
        query: async (sql, params) => (await db.query(sql, params)).rows as never[],
        exec: async (sql) => void (await db.exec(sql)),
        release: async () => {},
      };
    },
    async ping() {
      await db.query('select 1');
    },
    poolStats: () => null,
    async close() {
      await prisma.$disconnect();
      await db.close();
      await unlock();
    },
  };
}

async function openPostgres(
  config: { url: string; poolSize: number; transactionWaitMs?: number; replicaUrls?: string[] },
  options: { onQuery?: QueryListener },
): Promise<Database> {
  const pool = await openPool(config.url, config.poolSize, 'DATABASE_URL');
  const replicaPools: pg.Pool[] = [];
  try {
    for (const url of config.replicaUrls ?? []) replicaPools.push(await openPool(url, config.poolSize, 'DATABASE_REPLICA_URLS'));
  } catch (error) {
    await Promise.all([pool, ...replicaPools].map((p) => p.end().catch(() => {})));
    throw error;
  }
  const adapter = (p: pg.Pool) => new PrismaPg(p, { statementNameGenerator: (query) => preparedStatementName(query.sql) });
  const primary = createPrisma(adapter(pool), options.onQuery, config.transactionWaitMs);
  const replicas = replicaPools.map((p) => createPrisma(adapter(p), options.onQuery));
  const prisma = replicas.length ? withReadReplicas(primary, replicas) : primary;
  return {
    kind: 'postgres',
    prisma,
    primary,
    async session() {
      const client = await pool.connect();
      return {
        query: async (sql, params) => (await client.query(sql, params)).rows,
        exec: async (sql) => void (await client.query(sql)),
        release: async () => client.release(),
      };
    },
    async ping() {
      // A replica that cannot answer fails the queries sent to it: the instance is not ready.
      await Promise.all([pool, ...replicaPools].map((p) => p.query('select 1')));
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await Promise.all([primary, ...replicas].map((client) => client.$disconnect()));
      await Promise.all([pool, ...replicaPools].map((p) => p.end()));
    },
  };
}

/** A pg pool that has answered once; DatabaseUnavailableError naming `variable` otherwise. */
async function openPool(url: string, size: number, variable: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: size, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new DatabaseUnavailableError(`cannot reach ${variable} (${redactUrl(url)}): ${(error as Error).message}`);
  }
  return pool;
}
