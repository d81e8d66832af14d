// The project brings its own Node (the `node` dev dependency, Node 24 LTS):
// `npm test` and `npm start` run on it whatever the system's Node is.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { nodeFlags } from '../scripts/node-flags.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const major = (version: string) => version.replace(/^v/, '').split('.')[0];

test('npm test runs on Node 24, the version package.json brings', () => {
  expect(major(process.version)).toBe('24');
  expect(process.version).toBe(`v${manifest.devDependencies.node}`);
});

const children: ReturnType<typeof spawn>[] = [];
// Each child leads its own process group (detached): npm, sh and the server go together, even after a failed expectation.
afterAll(() => {
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

test('npm start runs the server on that Node, even with only the system Node on PATH', async () => {
  // Drop every node_modules/.bin from PATH: npm run must put the project's own first.
  const systemPath = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => !dir.includes('node_modules')).join(path.delimiter);
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: {
      PATH: systemPath,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      HEDDLE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'heddle-runtime-')),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const listening = await new Promise<{ node: string }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('heddle is listening'));
      if (line) resolve(JSON.parse(line) as { node: string });
    });
    child.once('exit', () => reject(new Error(`npm start exited before listening: ${err}`)));
  });
  expect(listening.node).toBe(`v${manifest.devDependencies.node}`);
  // The server is compiled JavaScript (scripts/start.mjs imports dist/main.js), not the sources through tsx.
  const group = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        return pgid === child.pid ? [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')] : [];
      } catch {
        return [];
      }
    });
  const servers = group.filter((command) => command.includes('scripts/start.mjs') && !command.startsWith('sh '));
  expect(servers).toHaveLength(1);
  // scripts/start.mjs re-executed itself with the embedded database's flags (scripts/node-flags.mjs).
  expect(servers[0]).toMatch(/ --liftoff-only --max-semi-space-size=16 \S*scripts\/start\.mjs\s*$/);
  expect(group.filter((command) => command.includes('tsx'))).toEqual([]);
  // npm and the server form one process group: stop them together.
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
});

test('the server keeps V8\'s young generation on PostgreSQL, and a flag the operator gives wins', () => {
  expect(nodeFlags({})).toEqual(['--liftoff-only', '--max-semi-space-size=16']);
  expect(nodeFlags({ DATABASE_URL: ' ' })).toEqual(['--liftoff-only', '--max-semi-space-size=16']);
  expect(nodeFlags({ DATABASE_URL: 'postgresql://heddle@db/heddle' })).toEqual(['--liftoff-only']);
  expect(nodeFlags({ NODE_OPTIONS: '--max-semi-space-size=64 --enable-source-maps' })).toEqual(['--liftoff-only']);
  expect(nodeFlags({}, ['--max-semi-space-size=64'])).toEqual(['--liftoff-only']);
  expect(nodeFlags({}, ['--liftoff-only', '--max-semi-space-size=16'])).toEqual([]);
});
