// HTTP load from a separate process: autocannon's CLI, one run per round
// (./load-per-connection.mjs where each connection sends its own request).
// Servers of one workload take turns (alternating rounds, the starting server
// rotating), each after a warm-up run; the figures are the rounds' medians.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const PER_CONNECTION = fileURLToPath(new URL('./load-per-connection.mjs', import.meta.url));

export interface HttpTarget {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Each connection's own headers and body (connection i sends the i-th, modulo their number); `headers` and `body` are the first's. */
  perConnection?: { headers: Record<string, string>; body?: string }[];
}

/** The requests a target sends: one, or one per connection. */
export const requestsOf = (target: HttpTarget): HttpTarget[] =>
  target.perConnection ? target.perConnection.map((request) => ({ ...target, ...request, perConnection: undefined })) : [target];

export interface LoadSettings {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

export interface RoundResult {
  rps: number;
  p50: number;
  p99: number;
  /**
   * CPU time the server process spent per request (user + system, from /proc):
   * unlike req/s it hardly depends on what else runs on the machine.
   */
  cpuMs: number;
}

/** A server's request for one workload, the body it must answer to each of its requests, and its process's CPU clock. */
export interface ServerTarget {
  target: HttpTarget;
  expectBodies: string[];
  cpuSeconds: () => number;
}

export interface LoadResult extends RoundResult {
  rounds: RoundResult[];
}

/** One request; the response body, which every request under load must then match exactly. */
export async function fetchOnce(target: HttpTarget): Promise<string> {
  const response = await fetch(target.url, { method: target.method, headers: target.headers, body: target.body });
  const text = await response.text();
  if (!response.ok) throw new Error(`${target.method} ${target.url}: ${response.status} ${text}`);
  return text;
}

interface AutocannonJson {
  duration: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
}

/** One autocannon run. Any error, timeout, non-2xx answer or body other than the expected one fails the bench. */
async function autocannon({ target, expectBodies, cpuSeconds }: ServerTarget, seconds: number, connections: number): Promise<RoundResult> {
  const args = target.perConnection
    ? [PER_CONNECTION, JSON.stringify({ url: target.url, method: target.method, seconds, connections, requests: requestsOf(target).map((request, i) => ({ headers: request.headers, body: request.body, expectBody: expectBodies[i] })) })]
    : cliArguments(target, expectBodies[0]!, seconds, connections);
  const cpuBefore = cpuSeconds();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const cpu = cpuSeconds() - cpuBefore;
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr}`);
  const result = JSON.parse(stdout) as AutocannonJson;
  const failed = result.errors + result.timeouts + result.non2xx + result.mismatches;
  if (failed > 0) {
    throw new Error(
      `${target.method} ${target.url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx, ${result.mismatches} unexpected bodies of ${result.requests.total}`,
    );
  }
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMs: (cpu * 1000) / result.requests.total,
  };
}

function cliArguments(target: HttpTarget, expectBody: string, seconds: number, connections: number): string[] {
  const args = [AUTOCANNON, '-j', '-n', '-c', String(connections), '-d', String(seconds), '-m', target.method, '-E', expectBody];
  for (const [name, value] of Object.entries(target.headers)) args.push('-H', `${name}=${value}`);
  if (target.body) args.push('-b', target.body);
  args.push(target.url);
  return args;
}

/** Runs every server's target in alternating rounds; returns each server's medians. */
export async function alternate(
  targets: Record<string, ServerTarget>,
  settings: LoadSettings,
  onRound?: (server: string, round: RoundResult) => void,
): Promise<Record<string, LoadResult>> {
  const names = Object.keys(targets);
  const rounds: Record<string, RoundResult[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await autocannon(targets[name]!, settings.warmupSeconds, settings.connections);
  for (let round = 0; round < settings.rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      const result = await autocannon(targets[name]!, settings.seconds, settings.connections);
      rounds[name]!.push(result);
      onRound?.(name, result);
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const results = rounds[name]!;
      return [
        name,
        {
          rps: median(results.map((r) => r.rps)),
          p50: median(results.map((r) => r.p50)),
          p99: median(results.map((r) => r.p99)),
          cpuMs: median(results.map((r) => r.cpuMs)),
          rounds: results,
        },
      ];
    }),
  );
}
