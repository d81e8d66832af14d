// README's walkthrough cannot drift (issue #22): examples/quickstart/walkthrough.ts
// runs against a fresh embedded server started as `npm start` starts it, with a
// token from `heddle token`; its output must be README's, step by step, and
// README's GraphQL must be the script's documents. A renamed field fails the script.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, print } from 'graphql';
import { afterAll, expect, test } from 'vitest';
import { runCli, spawnHeddle, type HeddleProcess } from './support/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = 'examples/quickstart/walkthrough.ts';
/** Where README's walkthrough says Heddle runs. */
const README_URL = 'http://localhost:4000';

/** The fenced blocks of README's walkthrough section, by language. */
function readmeWalkthrough(): { graphql: string[]; output: string[] } {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = /\n## Walkthrough\n([\s\S]*?)(?=\n## )/.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Walkthrough" section');
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, language, body]) => ({ language, body: body!.trimEnd() }));
  return {
    graphql: blocks.filter((block) => block.language === 'graphql').map((block) => block.body),
    output: blocks.filter((block) => block.language === 'text').map((block) => block.body),
  };
}

const normalized = (document: string) => print(parse(document));

let server: HeddleProcess | undefined;
const dataDir = mkdtempSync(path.join(tmpdir(), 'heddle-quickstart-'));
afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  // An embedded database on disk is tens of MB.
  rmSync(dataDir, { recursive: true, force: true });
});

test("README's walkthrough is the script's GraphQL, in order", () => {
  const source = readFileSync(path.join(ROOT, SCRIPT), 'utf8');
  const documents = [...source.matchAll(/graphql\(`([\s\S]*?)`\)/g)].map(([, document]) => normalized(document!));
  expect(documents.length).toBeGreaterThan(10);
  expect(readmeWalkthrough().graphql.map(normalized)).toEqual(documents);
});

test('the walkthrough runs against a fresh embedded server and prints what README shows', async () => {
  // What `npm start` runs, on an empty data directory: PGlite, development secrets.
  server = spawnHeddle({ NODE_ENV: 'development', HEDDLE_DATA_DIR: dataDir });
  const url = await server.listening;
  const token = await runCli(['token', '--email', 'alice@example.com', '--name', 'Alice'], { NODE_ENV: 'development', HEDDLE_DATA_DIR: dataDir });
  expect(token.code).toBe(0);

  const walkthrough = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HEDDLE_URL: url, HEDDLE_TOKEN: token.stdout.trim() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  walkthrough.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  walkthrough.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => walkthrough.once('exit', resolve));
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

  // The server's port is another one here; links are built on http://localhost:{port}.
  const port = new URL(url).port;
  const printed = stdout.replaceAll(url, README_URL).replaceAll(`http://localhost:${port}`, README_URL).trimEnd();
  expect(printed.split('\n\n')).toEqual(readmeWalkthrough().output);
}, 120_000);
