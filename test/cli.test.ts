// `npm run heddle -- …` as an operator types it: usage on stdout with --help,
// usage errors exit 2 and name what was wrong.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { describe, expect, test } from 'vitest';
import { runCli, spawnHeddle } from './support/process.js';

describe('--help prints usage to stdout and exits 0', () => {
  test.each([[['--help']], [['help']], [['token', '--help']], [['help', 'token']], [['rewrap-keys', '--help']], [['sync-users', '--help']]])('heddle %j', async (args) => {
    const { code, stdout, stderr } = await runCli(args, {});
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: heddle/);
  });

  test('the top-level usage lists every command, a command’s usage its options', async () => {
    expect((await runCli(['--help'], {})).stdout).toMatch(/token[\s\S]*rewrap-keys[\s\S]*sync-users/);
    const token = (await runCli(['token', '--help'], {})).stdout;
    for (const option of ['--email', '--name', '--sub', '--expires-in']) expect(token).toContain(option);
    const syncUsers = (await runCli(['sync-users', '--help'], {})).stdout;
    for (const option of ['--workspace', '--file', '--from-line', '--batch-size']) expect(syncUsers).toContain(option);
  });
});

describe('usage errors exit 2 with one line naming the command or option', () => {
  test.each([
    [['token', '--email', 'ops@example.com', '--expires-in', 'forever'], '--expires-in'],
    [['rewrap-keys', '--batch-size', '0'], '--batch-size'],
    [['token', '--email', 'ops@example.com', '--colour'], '--colour'],
    [['token'], '--email'],
    [['frobnicate'], 'frobnicate'],
    [['sync-users', '--file', 'package.json'], '--workspace'],
    [['sync-users', '--workspace', 'w', '--file', 'no-such-file.jsonl'], '--file'],
    [['sync-users', '--workspace', 'w', '--file', 'package.json', '--from-line', '0'], '--from-line'],
    [['sync-users', '--workspace', 'w', '--file', 'package.json', '--batch-size', '1001'], '--batch-size'],
  ])('heddle %j names %s', async (args, named) => {
    const { code, stdout, stderr } = await runCli(args, {});
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const [first] = stderr.split('\n');
    expect(first).toMatch(/^heddle: /);
    expect(first).toContain(named);
  });

  test('no command prints the usage to stderr', async () => {
    const { code, stdout, stderr } = await runCli([], {});
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: heddle');
  });
});

test('token prints a member token with the asked lifetime', async () => {
  const { code, stdout } = await runCli(['token', '--email', 'ops@example.com', '--name', 'Ops', '--expires-in', '30m'], {});
  expect(code).toBe(0);
  const claims = decodeJwt(stdout.trim());
  expect(claims).toMatchObject({ sub: 'dev|ops@example.com', email: 'ops@example.com', name: 'Ops' });
  expect(claims.exp! - claims.iat!).toBe(30 * 60);
});

test('an embedded database opens in one process at a time: a command beside the running server is refused; a crashed server does not keep it', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'heddle-lock-'));
  const crashed = spawnHeddle({ HEDDLE_DATA_DIR: dataDir });
  await crashed.listening;
  const beside = await runCli(['rewrap-keys'], { HEDDLE_DATA_DIR: dataDir });
  expect(beside.code).toBe(1);
  expect(beside.stderr).toMatch(/^heddle: the embedded database in .* is in use by another Heddle process/);
  // Killed without a chance to let go: the next start waits for the lock to go stale.
  crashed.child.kill('SIGKILL');
  await crashed.exited;
  const restarted = spawnHeddle({ HEDDLE_DATA_DIR: dataDir });
  try {
    await restarted.listening;
  } finally {
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  }
  // A clean stop lets go at once.
  const after = await runCli(['rewrap-keys'], { HEDDLE_DATA_DIR: dataDir });
  expect(after.stderr).toBe('');
  expect(after.code).toBe(0);
  expect(after.stdout).toMatch(/^rewrapped 0 data keys/m);
}, 90_000);
