// A PostgreSQL primary and its streaming replica of the test's own, on loopback
// ports in a temporary directory: the local server's pg_hba.conf has no
// `replication` entry (Debian's stock one asks a password for it), so
// pg_basebackup cannot copy it; a cluster made by initdb trusts local
// replication connections. Needs the server binaries (Debian's postgresql
// package); as root they run as the `postgres` user, since postgres refuses root.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { vi } from 'vitest';
import { freePort } from './redis.js';

const run = promisify(execFile);

export interface Replication {
  primaryUrl: string;
  replicaUrl: string;
  /** Plain SQL on the primary or the replica (one short-lived connection). */
  sql<Row = Record<string, unknown>>(on: 'primary' | 'replica', text: string): Promise<Row[]>;
  /** Stops applying WAL on the replica (it keeps receiving it): its data stays as it is now. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Resolves once the replica has applied everything the primary had written when called. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** The directory of initdb, pg_ctl and pg_basebackup: PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinaries(): string | null {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_basebackup')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : null;
}

/** Small, unsynced clusters: test data needs no durability. */
const SERVER_OPTIONS = "-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=40";

export async function startReplication(bin: string): Promise<Replication> {
  const asRoot = process.getuid?.() === 0;
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, name), ...args]) : run(path.join(bin, name), args);
  const dir = mkdtempSync(path.join(tmpdir(), 'heddle-replication-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    chownSync(dir, Number(stdout.trim()), statSync(dir).gid);
  }
  const primaryDir = path.join(dir, 'primary');
  const replicaDir = path.join(dir, 'replica');
  const started: string[] = [];
  const stopAll = async () => {
    for (const data of started.reverse()) await tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    started.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  const start = async (data: string, port: number) => {
    await tool('pg_ctl', ['-D', data, '-l', `${data}.log`, '-w', '-o', `-p ${port} ${SERVER_OPTIONS}`, 'start']);
    started.push(data);
  };
  try {
    await tool('initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions']);
    const primaryPort = await freePort();
    await start(primaryDir, primaryPort);
    // -R writes standby.signal and primary_conninfo: the copy starts as a streaming replica.
    await tool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast']);
    const replicaPort = await freePort();
    await start(replicaDir, replicaPort);
    const urls = {
      primary: `postgresql://postgres@127.0.0.1:${primaryPort}/postgres`,
      replica: `postgresql://postgres@127.0.0.1:${replicaPort}/postgres`,
    };
    const sql = async <Row>(on: 'primary' | 'replica', text: string): Promise<Row[]> => {
      const client = new pg.Client({ connectionString: urls[on] });
      await client.connect();
      try {
        return (await client.query(text)).rows as Row[];
      } finally {
        await client.end();
      }
    };
    const replication: Replication = {
      primaryUrl: urls.primary,
      replicaUrl: urls.replica,
      sql,
      async pauseReplay() {
        await sql('replica', 'SELECT pg_wal_replay_pause()');
        // Pausing is requested; it holds once the startup process has seen the request.
        await until(async () => (await sql<{ state: string }>('replica', 'SELECT pg_get_wal_replay_pause_state() AS state'))[0]!.state === 'paused');
      },
      async resumeReplay() {
        await sql('replica', 'SELECT pg_wal_replay_resume()');
      },
      async caughtUp() {
        const [{ lsn }] = (await sql<{ lsn: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
        await until(
          async () =>
            (await sql<{ behind: boolean }>('replica', `SELECT pg_last_wal_replay_lsn() < '${lsn}'::pg_lsn AS behind`))[0]!.behind === false,
        );
      },
      stop: stopAll,
    };
    // The replica answers once it has connected and replayed to a consistent state.
    await until(async () => (await sql<{ n: number }>('replica', 'SELECT 1 AS n').catch(() => []))[0]?.n === 1);
    return replication;
  } catch (error) {
    const logs = started.map((data) => `${data}.log:\n${readFileSync(`${data}.log`, 'utf8').slice(-2000)}`).join('\n');
    await stopAll();
    throw new Error(`starting a primary and its replica failed: ${(error as Error).message}\n${logs}`);
  }
}

/** Polls `condition` until it holds. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  await vi.waitFor(async () => {
    if (!(await condition())) throw new Error('the replica has not reached the awaited state');
  }, { timeout: 10_000, interval: 20 });
}
