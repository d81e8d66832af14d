// A redis-server of a test's own on a loopback port, for tests that stop and
// restart Redis under running instances (the shared one must stay up), and a
// Redis Cluster of a test's own.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { vi } from 'vitest';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts redis-server on `port` (no persistence, `extra` arguments); resolves once it accepts connections. */
export function startRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    redis.stdout!.on('data', (chunk: Buffer) => /Ready to accept connections/.test(chunk.toString()) && resolve(redis));
    redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
}

/** Kills `redis` at once (as a crash would) and waits until it is gone. */
export async function killRedis(redis: ChildProcess): Promise<void> {
  if (redis.exitCode !== null || redis.signalCode !== null) return;
  const exited = new Promise((resolve) => redis.once('exit', resolve));
  redis.kill('SIGKILL');
  await exited;
}

export interface RedisCluster {
  /** REDIS_URL naming every master: redis+cluster://127.0.0.1:p1,… */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port > 55535 || taken.includes(port)) continue;
    const bus = createServer();
    const busFree = await new Promise<boolean>((resolve) => {
      bus.once('error', () => resolve(false));
      bus.listen(port + 10000, '127.0.0.1', () => resolve(true));
    });
    if (busFree) {
      await new Promise((resolve) => bus.close(resolve));
      return port;
    }
  }
}

/**
 * A Redis Cluster of `masters` redis-server processes (no replicas) on loopback
 * ports, each in a temporary directory; resolves once every slot is served.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freeClusterPort(ports));
  const dir = mkdtempSync(path.join(tmpdir(), 'heddle-redis-cluster-'));
  const servers = await Promise.all(
    ports.map((port) =>
      startRedis(port, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir]),
    ),
  );
  const stop = async () => {
    await Promise.all(servers.map(killRedis));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    // Every node must agree before clients connect: cluster_state:ok on each.
    await vi.waitFor(
      async () => {
        for (const port of ports) {
          const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(port), 'cluster', 'info']);
          if (!stdout.includes('cluster_state:ok')) throw new Error(`node ${port}: ${stdout.split('\n')[0]}`);
        }
      },
      { timeout: 20_000, interval: 100 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`, ports, stop };
}
