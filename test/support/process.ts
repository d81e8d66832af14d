// Runs the real entry point as a child process, as `npm start` does: the
// compiled dist/main.js (the global setup compiles dist/ when it is stale).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HeddleProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the base URL once the process logs that it listens. */
  listening: Promise<string>;
}

/** The compiled server and operator commands, as `npm start` and `npm run heddle` run them. */
export const SERVER = 'dist/main.js';
export const CLI = 'dist/cli.js';

/** `command` defaults to the server; CLI with its arguments runs an operator command. */
export function spawnHeddle(env: NodeJS.ProcessEnv, command: string[] = [SERVER]): HeddleProcess {
  const child = spawn(process.execPath, command, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      HEDDLE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'heddle-proc-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', () => reject(new Error(`heddle exited before listening: ${err}`)));
  });
  listening.catch(() => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited, listening };
}

/** Runs `npm run heddle -- <args>` (dist/cli.js) to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnHeddle(env, [CLI, ...args]);
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
