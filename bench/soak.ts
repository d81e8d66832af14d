// `npm run soak`: one Heddle under mixed load for SOAK_MINUTES (30 by default):
// queries, resolutions, MCP sessions (tools/list, a tools/call that fails
// validation), a few config changes a second and ~100 graphql-ws subscribers
// of them, some of which close and reopen every sample. Every sample reads the
// process's heap and RSS after a full GC, its open handles, its PostgreSQL and
// Redis connections, and the window's requests, p99 and errors. After the
// warm-up, the end must not exceed the start by more than 5 % (means of 3
// samples each). Any unexpected error, or an event a subscriber missed, fails
// the run. Runs of 30 minutes and more write their table into BENCHMARKS.md.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { adminQuery, createThrowawayDatabase, heddleEnvironment, machine, REDIS_URL, type ThrowawayDatabase } from './environment.js';
import { GraphqlClient, memberSession, seedNested, seedPoint } from './seed.js';
import { ROOT, startHeddle, type Service } from './services.js';
import { percentile } from './stats.js';
import { CONFIG_SUBSCRIPTION_SINCE, NESTED_PAGE, NESTED_QUERY, POINT_QUERY, RESOLUTIONS, RESOLVE_QUERY, TOUCH_WORKSPACE } from './workloads.js';

const env = process.env;
const settings = {
  /** The whole run, warm-up included. */
  minutes: Number(env.SOAK_MINUTES ?? 30),
  // Under this load V8 grows the heap's reserve (RSS) for about 3.5 minutes before it levels off (2-minute warm-ups failed on that rise).
  warmupMinutes: Number(env.SOAK_WARMUP_MINUTES ?? 5),
  sampleSeconds: Number(env.SOAK_SAMPLE_SECONDS ?? 30),
  /** Request loops running at once (queries, resolutions, MCP). */
  workers: Number(env.SOAK_WORKERS ?? 8),
  subscribers: Number(env.SOAK_SUBSCRIBERS ?? 100),
  /** Subscribers closed and reopened after every sample. */
  churn: Number(env.SOAK_CHURN ?? 10),
  changesPerSecond: Number(env.SOAK_CHANGES_PER_SECOND ?? 2),
  /** MCP calls a worker makes in one session before it ends it and opens another. */
  mcpCallsPerSession: Number(env.SOAK_MCP_CALLS_PER_SESSION ?? 25),
  /** Growth allowed from start to end, in %. */
  driftLimit: 5,
  /** p99 passes when under this bound even if it drifted (latency on a shared machine is noisy). */
  p99LimitMs: Number(env.SOAK_P99_LIMIT_MS ?? 500),
};

const startedAt = Date.now();
const elapsed = () => (Date.now() - startedAt) / 1000;
const log = (line: string) => process.stderr.write(`[soak ${elapsed().toFixed(0)} s] ${line}\n`);

// ---------------------------------------------------------------------------
// What the load records: latencies and errors of the current sample window.

/** The operations the workers pick from, by weight. */
const OPERATIONS = [
  { kind: 'point', weight: 35 },
  { kind: 'nested', weight: 5 },
  ...RESOLUTIONS.map((resolution) => ({ kind: `resolve ${resolution.key}`, weight: resolution.key === 'FALLBACK' ? 10 : 15 })),
  { kind: 'mcp', weight: 20 },
] as const;
const TOTAL_WEIGHT = OPERATIONS.reduce((sum, op) => sum + op.weight, 0);

class Window {
  latencies: number[] = [];
  byKind = new Map<string, number[]>();
  errors = 0;
  deliveries = 0;
  changes = 0;

  record(kind: string, ms: number): void {
    this.latencies.push(ms);
    let list = this.byKind.get(kind);
    if (!list) this.byKind.set(kind, (list = []));
    list.push(ms);
  }
}

let current = new Window();
let totalErrors = 0;
/** The first occurrences of each distinct error, for the report. */
const errorExamples = new Map<string, number>();

/** Set on Ctrl-C: Heddle gets the signal too, so the requests under way fail and are not worth a line. */
let interrupted = false;

const describe = (error: unknown) =>
  error instanceof Error
    ? error.message
    : error && typeof error === 'object' && 'code' in error
      ? `socket closed (${String(error.code)}${'reason' in error && error.reason ? ` ${String(error.reason)}` : ''})`
      : JSON.stringify(error);

function unexpected(kind: string, error: unknown): void {
  if (interrupted) return;
  current.errors++;
  totalErrors++;
  const message = `${kind}: ${describe(error)}`.slice(0, 300);
  errorExamples.set(message, (errorExamples.get(message) ?? 0) + 1);
  if (errorExamples.get(message) === 1) log(`unexpected error: ${message}`);
}

/** Runs and times one operation (which throws, e.g. through `check`, when the answer is not the expected one); true when it succeeded. */
async function timed(kind: string, operation: () => Promise<void>): Promise<boolean> {
  const began = performance.now();
  try {
    await operation();
    current.record(kind, performance.now() - began);
    return true;
  } catch (error) {
    unexpected(kind, error);
    return false;
  }
}

function check(condition: boolean, what: string, answer: unknown): void {
  if (!condition) throw new Error(`${what}: ${JSON.stringify(answer).slice(0, 300)}`);
}

// ---------------------------------------------------------------------------
// The load.

interface Seed {
  heddle: Service;
  api: GraphqlClient;
  nestedApi: GraphqlClient;
  workspaceId: string;
  nestedOrganizationId: string;
  apiKey: string;
  mcpUrl: string;
  mcpToken: string;
  /** A tool whose call fails validation before any provider is reached. */
  failingTool: string;
  toolCount: number;
}

const running = new AbortController();

/** An MCP session over Streamable HTTP with the official SDK client, ended (HTTP DELETE) after some calls. */
class McpSession {
  private client: McpClient | undefined;
  private transport: StreamableHTTPClientTransport | undefined;
  private calls = 0;

  constructor(private readonly seed: Seed) {}

  async call(): Promise<void> {
    if (this.client && this.calls >= settings.mcpCallsPerSession) await this.end();
    if (!this.client) {
      const client = new McpClient({ name: 'heddle-soak', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(this.seed.mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${this.seed.mcpToken}` } },
      });
      if (!(await timed('mcp initialize', () => client.connect(transport)))) return;
      [this.client, this.transport, this.calls] = [client, transport, 0];
    }
    const client = this.client;
    this.calls++;
    if (this.calls % 4) {
      await timed('mcp tools/list', async () => {
        const { tools } = await client.listTools();
        check(tools.length === this.seed.toolCount, `tools/list answered ${tools.length} tools, not ${this.seed.toolCount}`, tools.map((t) => t.name));
      });
    } else {
      await timed('mcp tools/call', async () => {
        const result = await client.callTool({ name: this.seed.failingTool, arguments: { channel: 7 } });
        const text = (result.content as { text?: string }[] | undefined)?.[0]?.text ?? '';
        check(result.isError === true && text.startsWith('VALIDATION_ERROR'), 'tools/call did not fail validation', result);
      });
    }
  }

  async end(): Promise<void> {
    const [client, transport] = [this.client, this.transport];
    this.client = this.transport = undefined;
    if (!client || !transport) return;
    await timed('mcp end session', async () => {
      await transport.terminateSession();
      await client.close();
    });
  }
}

async function requestLoop(seed: Seed): Promise<void> {
  const mcp = new McpSession(seed);
  while (!running.signal.aborted) {
    let pick = Math.random() * TOTAL_WEIGHT;
    const { kind } = OPERATIONS.find((op) => (pick -= op.weight) < 0) ?? OPERATIONS[0];
    if (kind === 'point') {
      await timed(kind, async () => {
        const data = await seed.api.request<{ workspace: { id: string } | null }>(POINT_QUERY, { id: seed.workspaceId });
        check(data.workspace?.id === seed.workspaceId, 'point query answered another workspace', data);
      });
    } else if (kind === 'nested') {
      await timed(kind, async () => {
        const data = await seed.nestedApi.request<{ organization: { workspaces: { totalCount: number } } | null }>(NESTED_QUERY, { id: seed.nestedOrganizationId });
        check(data.organization?.workspaces.totalCount === NESTED_PAGE.workspaces, 'nested query answered another tree', data);
      });
    } else if (kind === 'mcp') {
      await mcp.call();
    } else {
      const resolution = RESOLUTIONS.find((r) => kind === `resolve ${r.key}`)!;
      await timed(kind, async () => {
        const data = await seed.api.request<{ resolveConnection: { __typename: string; source?: string } }>(RESOLVE_QUERY, {
          input: { workspaceId: seed.workspaceId, integration: resolution.integration, externalId: resolution.externalId },
        });
        check(data.resolveConnection.source === resolution.source, `resolveConnection did not resolve from ${resolution.source}`, data);
      });
    }
  }
  await mcp.end();
}

/** The workspace's config version after the last change that succeeded. */
let configVersion = 0;

/** Config changes at a steady rate (not flat out): each one is an event for every subscriber. */
async function changeLoop(seed: Seed): Promise<void> {
  const every = 1000 / settings.changesPerSecond;
  let next = performance.now();
  let n = 0;
  while (!running.signal.aborted) {
    await timed('updateWorkspace', async () => {
      const data = await seed.api.request<{ updateWorkspace: { __typename: string; configVersion?: number } }>(TOUCH_WORKSPACE, {
        input: { id: seed.workspaceId, name: `Soak ${++n}` },
      });
      check(data.updateWorkspace.__typename === 'Workspace', 'updateWorkspace failed', data);
      configVersion = Math.max(configVersion, data.updateWorkspace.configVersion!);
      current.changes++;
    });
    next += every;
    await sleep(Math.max(0, next - performance.now()));
  }
}

/**
 * A graphql-ws subscriber of workspaceConfigChanged on a socket of its own,
 * resuming after the last version it saw when reopened: every version must
 * arrive once, in order, across reopenings.
 */
class Subscriber {
  private client: WsClient | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly seed: Seed,
    public lastVersion: number,
  ) {}

  open(): void {
    const isOpen = (): boolean => this.client === client;
    const client: WsClient = createClient({
      url: `${this.seed.heddle.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${this.seed.apiKey}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: (error) => isOpen() && unexpected('subscription socket', error),
    });
    this.client = client;
    this.unsubscribe = client.subscribe<{ workspaceConfigChanged: { version: number } }>(
      { query: CONFIG_SUBSCRIPTION_SINCE, variables: { id: this.seed.workspaceId, since: this.lastVersion } },
      {
        next: ({ data, errors }) => {
          if (!isOpen()) return;
          const version = data?.workspaceConfigChanged.version;
          if (errors || version === undefined) return unexpected('subscription event', errors ?? data);
          if (version !== this.lastVersion + 1) unexpected('subscription event', new Error(`version ${version} after ${this.lastVersion}`));
          this.lastVersion = Math.max(this.lastVersion, version);
          current.deliveries++;
        },
        error: (error) => isOpen() && unexpected('subscription', error),
        complete: () => isOpen() && unexpected('subscription', new Error('completed by the server')),
      },
    );
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.unsubscribe?.();
    await client?.dispose();
  }

  async reopen(): Promise<void> {
    await this.close();
    this.open();
  }
}

// ---------------------------------------------------------------------------
// Readings.

interface Sample {
  seconds: number;
  warmup: boolean;
  heapUsed: number;
  rss: number;
  external: number;
  handles: number;
  pgConnections: number;
  redisClients: number;
  requests: number;
  p99: number;
  errors: number;
  changes: number;
  deliveries: number;
  p99ByKind: Record<string, number>;
}

/** Local ports of `pid`'s TCP sockets connected to `remotePort` (from /proc: the sockets it holds, the kernel's TCP table). */
function localPortsTo(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1)) {
      const [, local, remote, , , , , , , inode] = line.trim().split(/\s+/);
      if (inode && inodes.has(inode) && parseInt(remote!.split(':')[1]!, 16) === remotePort) ports.add(parseInt(local!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Redis's own list of clients, those of Heddle's process only (the server is shared with other programs). */
async function redisClientsOf(redis: Redis, pid: number): Promise<number> {
  const ports = localPortsTo(pid, Number(new URL(REDIS_URL).port || 6379));
  const list = (await redis.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter((line) => {
    const addr = /(?:^| )addr=(\S+)/.exec(line)?.[1];
    return addr !== undefined && ports.has(Number(addr.slice(addr.lastIndexOf(':') + 1)));
  }).length;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what} did not answer within ${ms} ms`)))]);
}

async function takeSample(k: number, heddle: Service, database: ThrowawayDatabase, redis: Redis): Promise<Sample> {
  const done = current;
  current = new Window();
  const memory = await withTimeout(heddle.memory(), 30_000, "Heddle's memory probe");
  const [pgRow] = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database.name]);
  const seconds = k * settings.sampleSeconds;
  return {
    seconds,
    warmup: seconds < settings.warmupMinutes * 60,
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    external: memory.external,
    handles: memory.handles,
    pgConnections: pgRow!.n,
    redisClients: await redisClientsOf(redis, heddle.pid),
    requests: done.latencies.length,
    p99: percentile(done.latencies, 99),
    errors: done.errors,
    changes: done.changes,
    deliveries: done.deliveries,
    p99ByKind: Object.fromEntries([...done.byKind].map(([kind, list]) => [kind, Math.round(percentile(list, 99))])),
  };
}

const MB = 2 ** 20;
const fmt = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

const sampleLine = (s: Sample) =>
  `${s.warmup ? 'warm-up ' : ''}heap ${fmt(s.heapUsed / MB, 1)} MB, RSS ${fmt(s.rss / MB, 1)} MB, external ${fmt(s.external / MB, 1)} MB, ${s.handles} handles, ` +
  `${s.pgConnections} PostgreSQL, ${s.redisClients} Redis | ${fmt(s.requests)} requests, p99 ${fmt(s.p99)} ms, ${s.errors} errors | ` +
  `${s.changes} changes, ${fmt(s.deliveries)} deliveries | p99 by kind ${Object.entries(s.p99ByKind).map(([k, v]) => `${k} ${v}`).join(', ')}`;

// ---------------------------------------------------------------------------
// The verdict.

interface MetricRow {
  metric: string;
  unit: string;
  start: number;
  middle: number;
  end: number;
  drift: number;
  /** undefined: informational. */
  pass: boolean | undefined;
  rule: string;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The means of the 3 samples at the start, around the middle and at the end of the measured samples. */
function points(measured: Sample[], read: (s: Sample) => number): [number, number, number] {
  const around = (center: number) => {
    const from = Math.max(0, Math.min(measured.length - 3, center - 1));
    return mean(measured.slice(from, from + 3).map(read));
  };
  return [around(1), around(Math.floor(measured.length / 2)), around(measured.length - 2)];
}

function verdict(measured: Sample[]): MetricRow[] {
  const growth = `end ≤ start + ${settings.driftLimit} %`;
  const row = (metric: string, unit: string, read: (s: Sample) => number, judge: 'growth' | 'p99' | 'info'): MetricRow => {
    const [start, middle, end] = points(measured, read);
    const drift = start ? ((end - start) / start) * 100 : end ? Infinity : 0;
    const withinDrift = drift <= settings.driftLimit;
    if (judge === 'growth') return { metric, unit, start, middle, end, drift, pass: withinDrift, rule: growth };
    if (judge === 'p99')
      return { metric, unit, start, middle, end, drift, pass: withinDrift || end <= settings.p99LimitMs, rule: `${growth}, or end ≤ ${settings.p99LimitMs} ms` };
    return { metric, unit, start, middle, end, drift, pass: undefined, rule: 'informational' };
  };
  return [
    row('heap used after GC', 'MB', (s) => s.heapUsed / MB, 'growth'),
    row('RSS after GC', 'MB', (s) => s.rss / MB, 'growth'),
    row('external memory (Buffers…) after GC', 'MB', (s) => s.external / MB, 'info'),
    row('open handles', '', (s) => s.handles, 'growth'),
    row('PostgreSQL connections', '', (s) => s.pgConnections, 'growth'),
    row('Redis clients', '', (s) => s.redisClients, 'growth'),
    row('p99 latency', 'ms', (s) => s.p99, 'p99'),
    row('requests per sample', '', (s) => s.requests, 'info'),
  ];
}

function reportTable(rows: MetricRow[]): string[] {
  // MB and the small counts (means of 3) with a decimal; latencies and request counts whole.
  const value = (row: MetricRow, v: number) => fmt(v, row.unit === 'MB' || (row.unit === '' && v < 1000) ? 1 : 0);
  return [
    '| metric | start | middle | end | drift end vs start | rule | |',
    '|---|--:|--:|--:|--:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.metric}${r.unit ? ` (${r.unit})` : ''} | ${value(r, r.start)} | ${value(r, r.middle)} | ${value(r, r.end)} | ` +
        `${r.drift >= 0 ? '+' : ''}${fmt(r.drift, 1)} % | ${r.rule} | ${r.pass === undefined ? '' : r.pass ? 'pass' : '**fail**'} |`,
    ),
  ];
}

const BEGIN = '<!-- soak:results:begin -->';
const END = '<!-- soak:results:end -->';

function writeSoakSection(section: string): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  let text = readFileSync(file, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const block = `${BEGIN}\n${section}\n${END}`;
  text = begin >= 0 && end > begin ? text.slice(0, begin) + block + text.slice(end + END.length) : `${text.trimEnd()}\n\n## Soak\n\n${block}\n`;
  writeFileSync(file, text);
}

// ---------------------------------------------------------------------------

/** Seconds spent starting and seeding: the soak's clock starts after them. */
let setupSeconds = 0;

async function seed(heddle: Service, jwtSecret: string): Promise<Seed> {
  const member = await memberSession(heddle.url, jwtSecret);
  const point = await seedPoint(member);
  const nested = await seedNested(member);
  const created = (await member.mutate(
    'createMcpServer',
    { workspaceId: point.workspaceId, name: 'soak' },
    '... on McpServerWithToken { token server { id endpointPath } }',
  )) as unknown as { token: string; server: { endpointPath: string } };
  const mcpUrl = `${heddle.url}${created.server.endpointPath}`;
  // The tools as an MCP client sees them; the slack send_message tool fails validation with a number for its channel.
  const client = new McpClient({ name: 'heddle-soak', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${created.token}` } } });
  await client.connect(transport);
  const { tools } = await client.listTools();
  await transport.terminateSession();
  await client.close();
  const failingTool = tools.find((tool) => tool.name.endsWith('__send_message'))?.name;
  if (!failingTool) throw new Error(`no send_message tool among ${tools.map((t) => t.name).join(', ')}`);
  return {
    heddle,
    api: new GraphqlClient(heddle.url, `Bearer ${point.apiKey}`),
    nestedApi: new GraphqlClient(heddle.url, `Bearer ${nested.apiKey}`),
    workspaceId: point.workspaceId,
    nestedOrganizationId: nested.organizationId,
    apiKey: point.apiKey,
    mcpUrl,
    mcpToken: created.token,
    failingTool,
    toolCount: tools.length,
  };
}

async function main(): Promise<number> {
  const stop = (signal: string) => {
    // tsx passes the terminal's signal on as well: one Ctrl-C may arrive twice.
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping the load, then Heddle, then dropping the database`);
    running.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const measuredMinutes = settings.minutes - settings.warmupMinutes;
  if (!(measuredMinutes > 0)) throw new Error(`SOAK_MINUTES (${settings.minutes}) must be longer than SOAK_WARMUP_MINUTES (${settings.warmupMinutes})`);
  const host = await machine();
  const database = await createThrowawayDatabase('heddle_soak');
  const { jwtSecret, env: heddleEnv } = heddleEnvironment(database.url);
  const redis = new Redis(REDIS_URL);
  let heddle: Service | undefined;
  const subscribers: Subscriber[] = [];
  const samples: Sample[] = [];
  const loops: Promise<void>[] = [];
  let missed = 0;

  try {
    log(`database ${database.name}; starting Heddle`);
    heddle = await startHeddle('heddle', heddleEnv);
    log('seeding through the API');
    const seeded = await seed(heddle, jwtSecret);
    // The version the subscribers start after.
    const first = await seeded.api.request<{ updateWorkspace: { configVersion: number } }>(TOUCH_WORKSPACE, { input: { id: seeded.workspaceId, name: 'Soak 0' } });
    configVersion = first.updateWorkspace.configVersion;
    for (let i = 0; i < settings.subscribers; i++) subscribers.push(new Subscriber(seeded, configVersion));
    for (const subscriber of subscribers) subscriber.open();
    setupSeconds = elapsed();
    current = new Window();
    log(
      `load: ${settings.workers} workers, ${settings.subscribers} subscribers (${settings.churn} reopened per sample), ` +
        `${settings.changesPerSecond} changes/s; ${settings.minutes} min with ${settings.warmupMinutes} min warm-up, a sample every ${settings.sampleSeconds} s`,
    );
    loops.push(changeLoop(seeded));
    for (let i = 0; i < settings.workers; i++) loops.push(requestLoop(seeded));

    const sampleCount = Math.floor((settings.minutes * 60) / settings.sampleSeconds);
    for (let k = 1; k <= sampleCount && !running.signal.aborted; k++) {
      const due = startedAt + (setupSeconds + k * settings.sampleSeconds) * 1000;
      await sleep(Math.max(0, due - Date.now()), undefined, { signal: running.signal }).catch(() => undefined);
      if (running.signal.aborted) break;
      const sample = await takeSample(k, heddle, database, redis);
      samples.push(sample);
      log(sampleLine(sample));
      // Churn between samples: the next sample finds them reopened.
      const shuffled = [...subscribers].sort(() => Math.random() - 0.5).slice(0, settings.churn);
      await Promise.all(shuffled.map((subscriber) => subscriber.reopen()));
    }
    running.abort();
    await Promise.all(loops);

    // Every subscriber gets every change up to the last one.
    const deadline = Date.now() + 30_000;
    while (subscribers.some((s) => s.lastVersion < configVersion) && Date.now() < deadline) await sleep(100);
    missed = subscribers.filter((s) => s.lastVersion < configVersion).length;
    if (missed) unexpected('subscription', new Error(`${missed} subscribers did not receive the changes up to version ${configVersion} within 30 s`));
  } catch (error) {
    if (heddle) log(`heddle wrote:\n${heddle.output().slice(-3000)}`);
    throw error;
  } finally {
    running.abort();
    await Promise.allSettled(loops);
    await Promise.allSettled(subscribers.map((s) => s.close()));
    await heddle?.stop();
    redis.disconnect();
    await database.drop();
    log(`Heddle stopped, database ${database.name} dropped`);
  }

  if (interrupted) {
    log('interrupted: no verdict');
    return 130;
  }
  const measured = samples.filter((s) => !s.warmup);
  if (measured.length < 3) throw new Error(`only ${measured.length} samples after the warm-up; 3 are needed (lengthen SOAK_MINUTES or shorten SOAK_SAMPLE_SECONDS)`);
  const rows = verdict(measured);
  const failed = rows.filter((r) => r.pass === false);
  const requests = samples.reduce((sum, s) => sum + s.requests, 0);
  const deliveries = samples.reduce((sum, s) => sum + s.deliveries, 0);
  const changes = samples.reduce((sum, s) => sum + s.changes, 0);
  const ok = failed.length === 0 && totalErrors === 0;
  const lines = [
    `Run of ${new Date(startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC on ${host.cpu}, ${host.memoryGb} GB, Node ${host.node}, PostgreSQL ${host.postgres}, Redis ${host.redis}.`,
    `${settings.minutes} min of mixed load on one Heddle (NODE_ENV=production, PostgreSQL, Redis), the first ${settings.warmupMinutes} min warm-up, ` +
      `a sample every ${settings.sampleSeconds} s: ${settings.workers} request loops, ${settings.subscribers} subscribers (${settings.churn} reopened after each sample), ` +
      `${settings.changesPerSecond} config changes/s. Start, middle and end are the means of 3 samples after the warm-up.`,
    '',
    ...reportTable(rows),
    '',
    `${fmt(requests)} requests (${fmt(requests / (samples.length * settings.sampleSeconds))}/s), ${fmt(changes)} config changes, ` +
      `${fmt(deliveries)} subscription events delivered, ${missed} subscribers behind at the end, ${totalErrors} unexpected errors` +
      (errorExamples.size ? `: ${[...errorExamples].map(([message, count]) => `${count} × ${message}`).join('; ')}` : '') +
      `. **${ok ? 'Passed' : 'Failed'}.**`,
  ];
  const samplesTable = [
    '<details><summary>Every sample</summary>',
    '',
    '| s | heap MB | RSS MB | external MB | handles | PostgreSQL | Redis | requests | p99 ms | errors | changes | deliveries |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...samples.map(
      (s) =>
        `| ${s.seconds}${s.warmup ? ' (warm-up)' : ''} | ${fmt(s.heapUsed / MB, 1)} | ${fmt(s.rss / MB, 1)} | ${fmt(s.external / MB, 1)} | ${s.handles} | ${s.pgConnections} | ${s.redisClients} | ` +
        `${fmt(s.requests)} | ${fmt(s.p99)} | ${s.errors} | ${s.changes} | ${fmt(s.deliveries)} |`,
    ),
    '',
    '</details>',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (settings.minutes >= 30) {
    writeSoakSection([...lines, '', ...samplesTable].join('\n'));
    log('BENCHMARKS.md: soak section written');
  } else {
    log(`SOAK_MINUTES < 30: BENCHMARKS.md left as it is`);
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`soak failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
