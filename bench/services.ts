// The processes under test (Heddle and the baselines), each its own Node
// process with an IPC channel for memory readings (memory-probe.ts): Heddle as
// `npm start` runs it, compiled and with its node flags (startHeddle), the
// baselines from their TypeScript through tsx (a loader that costs at
// start-up, not per request).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { nodeFlags } from '../scripts/node-flags.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Heddle's compiled entry (`npm start`'s), built first when stale. */
export function heddleEntry(): string {
  execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: ROOT, stdio: 'inherit' });
  return 'dist/main.js';
}

/**
 * Heddle as `npm start` runs it: the compiled entry with the node flags
 * scripts/start.mjs gives it for `env`'s database, then `extraFlags`.
 */
export function startHeddle(name: string, env: NodeJS.ProcessEnv, extraFlags: string[] = []): Promise<Service> {
  return startService(name, heddleEntry(), env, [...nodeFlags(env), ...extraFlags]);
}

export interface Memory {
  rss: number;
  heapUsed: number;
  /** Memory of V8's objects held outside its heap (Buffers and other ArrayBuffers). */
  external: number;
  /** Open handles: process.getActiveResourcesInfo().length (sockets, timers, the IPC channel…). */
  handles: number;
}

export interface Service {
  name: string;
  /** The process id (its sockets are under /proc/<pid>/fd). */
  pid: number;
  /** http://127.0.0.1:port */
  url: string;
  /** Memory after a full garbage collection, read inside the process. */
  memory(): Promise<Memory>;
  /** CPU time (user + system) the process has used so far, in seconds. */
  cpuSeconds(): number;
  /** The last 20,000 characters the process wrote (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every mainstream kernel). */
const CLOCK_TICKS = 100;

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15, after the parenthesised name). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/**
 * Spawns `script` (relative to the repository) with PORT set, and resolves once
 * GET /readyz answers 200. `flags` go before the script (e.g. --cpu-prof).
 */
export async function startService(name: string, script: string, env: NodeJS.ProcessEnv, flags: string[] = []): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './bench/memory-probe.ts', ...flags, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  // Drained always (a full pipe would block the server); the tail explains a failure.
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    name,
    pid: child.pid!,
    url,
    async memory() {
      const reply = new Promise<Memory>((resolve) => {
        const onMessage = (message: { memory?: Memory }) => {
          if (!message.memory) return;
          child.off('message', onMessage);
          resolve(message.memory);
        };
        child.on('message', onMessage);
      });
      child.send('memory');
      return reply;
    },
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}
