// How `npm start` starts (issue #21): spawn → GET /readyz 200, and the resident
// memory of the whole process tree at ready, after 10 s of W1-style load
// (one authenticated point query, autocannon, 50 connections) and at its peak,
// on the embedded default (PGlite), for each way of starting the server below:
// first on an empty data directory (the database is created), then again on it;
// the last reading is 10 s after the load, idle. Each reading is the whole
// tree's and, `server…`, the server process's own.
// `tsx bench/production-start.ts [rounds]`; prints one JSON line per run and a table.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alternate, fetchOnce, type HttpTarget } from './http-load.js';
import { memberSession, seedPoint } from './seed.js';
import { ROOT } from './services.js';
import { POINT_QUERY } from './workloads.js';

const JWT_SECRET = 'production-start-bench-secret-0123456789';
const STARTS: Record<string, string[]> = {
  'tsx src/main.ts': [path.join(ROOT, 'node_modules/.bin/tsx'), 'src/main.ts'],
  'node dist/main.js': [process.execPath, 'dist/main.js'],
  'npm start (now)': ['npm', 'start', '--silent'],
};

/** The pid's process and all its descendants (tsx and npm run the server in a child). */
function tree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) for (const [child, parent] of parents) if (parent === found[i]) found.push(child);
  return found;
}

/** The server itself: the tree's largest process (npm and tsx run it in a child; tsx's esbuild is another). */
const server = (pid: number) => tree(pid).map((p) => ({ p, mb: memoryMb(p, 'VmRSS', true) })).reduce((a, b) => (b.mb > a.mb ? b : a)).p;

/** Sum over the tree of a /proc/<pid>/status field in kB (VmRSS: now, VmHWM: peak), in MB; `only` reads one process. */
function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM', only = false): number {
  let kb = 0;
  for (const p of only ? [pid] : tree(pid)) {
    try {
      kb += Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return Math.round(kb / 1024);
}

async function measure(name: string, command: string[], dataDir: string, withLoad: boolean) {
  const port = 4300 + Math.floor(Math.random() * 500);
  const url = `http://127.0.0.1:${port}`;
  const startedAt = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.SERVER_NODE_OPTIONS } : {}), ...(process.env.SERVER_MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.SERVER_MALLOC_ARENA_MAX } : {}), NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', HEDDLE_DATA_DIR: dataDir, HEDDLE_JWT_SECRET: JWT_SECRET, HEDDLE_ENCRYPTION_KEYS: `1:${Buffer.alloc(32, 7).toString('base64')}` },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const readyMs = Math.round(performance.now() - startedAt);
    const atReady = memoryMb(child.pid!, 'VmRSS');
    const serverAtReady = memoryMb(server(child.pid!), 'VmRSS', true);
    if (!withLoad) return { name, start: 'empty data directory', readyMs, rssAtReadyMb: atReady, serverRssAtReadyMb: serverAtReady, peakRssMb: memoryMb(child.pid!, 'VmHWM') };
    const member = await memberSession(url, JWT_SECRET);
    const seed = await seedPoint(member);
    const target: HttpTarget = {
      url: `${url}/graphql`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${seed.apiKey}` },
      body: JSON.stringify({ query: POINT_QUERY, variables: { id: seed.workspaceId } }),
    };
    const expectBody = await fetchOnce(target);
    const load = await alternate({ [name]: { target, expectBodies: [expectBody], cpuSeconds: () => 0 } }, { rounds: 1, seconds: 10, warmupSeconds: 1, connections: 50 });
    const afterLoad = memoryMb(child.pid!, 'VmRSS');
    // Idle again: V8 shrinks its heap some seconds after the allocation rate drops.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const idleAfterLoad = memoryMb(child.pid!, 'VmRSS');
    const serverIdleAfterLoad = memoryMb(server(child.pid!), 'VmRSS', true);
    const peak = memoryMb(child.pid!, 'VmHWM');
    return { name, start: 'existing data directory', readyMs, rssAtReadyMb: atReady, serverRssAtReadyMb: serverAtReady, rssAfterW1Mb: afterLoad, rssIdle10sAfterW1Mb: idleAfterLoad, serverRssIdle10sAfterW1Mb: serverIdleAfterLoad, peakRssMb: peak, w1Rps: Math.round(load[name]!.rps), processes: tree(child.pid!).length };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

const rounds = Number(process.argv[2] ?? 1);
for (let round = 0; round < rounds; round++) {
  for (const [name, command] of Object.entries(STARTS).filter(([name]) => !process.env.ONLY || name.includes(process.env.ONLY))) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'heddle-start-bench-'));
    try {
      console.log(JSON.stringify(await measure(name, command, dataDir, false)));
      console.log(JSON.stringify(await measure(name, command, dataDir, true)));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
