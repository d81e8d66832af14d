// Prometheus metrics (prom-client), served at GET /metrics by src/app/app.ts.
// One registry per process. Label values are bounded: no ids and no caller
// input, only names from fixed lists (error codes, strategies, sources,
// catalog integrations and actions) and at most MAX_OPERATION_NAMES operation
// names, the first ones seen of operations that validated against the schema.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ERROR_CODES, REQUEST_ERROR_CODES } from './errors.js';

export const metricsRegistry = new Registry();
// Process CPU, memory, handles, GC, and event-loop lag (nodejs_eventloop_lag_*).
collectDefaultMetrics({ register: metricsRegistry });

/** Distinct operation names kept as label values; later names count as "other". */
export const MAX_OPERATION_NAMES = 200;
const operationNames = new Set<string>();

/** The label for an operation name: "anonymous", the name while fewer than the cap are known, else "other". */
export function operationNameLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
  operationNames.add(name);
  return name;
}

const KNOWN_CODES = new Set<string>([...ERROR_CODES, ...REQUEST_ERROR_CODES]);

/** A stable error code, or "other" for anything else (never a message). */
export function errorCodeLabel(code: unknown): string {
  return typeof code === 'string' && KNOWN_CODES.has(code) ? code : 'other';
}

export const graphqlOperationDuration = new Histogram({
  name: 'heddle_graphql_operation_duration_seconds',
  help: 'Executed GraphQL operations (validated), by operation type and name; subscriptions are timed to their first result.',
  labelNames: ['operation_type', 'operation_name'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const graphqlErrors = new Counter({
  name: 'heddle_graphql_errors_total',
  help: 'GraphQL errors by stable code: kind "typed" for a mutation result union member, "request" for a top-level error.',
  labelNames: ['code', 'kind'] as const,
  registers: [metricsRegistry],
});

export const activeSubscriptions = new Gauge({
  name: 'heddle_graphql_active_subscriptions',
  help: 'GraphQL subscriptions open on this instance (graphql-ws and SSE).',
  registers: [metricsRegistry],
});

export const resolutions = new Counter({
  name: 'heddle_resolutions_total',
  help: 'Connections resolved (resolveConnection, action executions, the proxy) by connection strategy and source.',
  labelNames: ['strategy', 'source'] as const,
  registers: [metricsRegistry],
});

export const actionExecutions = new Counter({
  name: 'heddle_action_executions_total',
  help: 'Catalog action executions by integration, action and status.',
  labelNames: ['integration', 'action', 'status'] as const,
  registers: [metricsRegistry],
});

/** What a running Heddle instance reports when scraped. */
export interface InstanceGauges {
  mcpSessions(): number;
  /** When the oldest config event still waiting for its announcement occurred; null: none waits. */
  oldestUnpublishedEvent(): Promise<Date | null>;
  /** The pg pool's clients; null on PGlite (one connection, no pool). */
  databasePool(): { total: number; idle: number; waiting: number } | null;
  /** Each Redis client and whether it is ready; empty with the in-memory pub/sub. */
  redisClients(): { client: string; ready: boolean }[];
}

const instances = new Set<InstanceGauges>();

/** Reports an instance's gauges until the returned function is called (at stop). */
export function watchInstance(instance: InstanceGauges): () => void {
  instances.add(instance);
  return () => void instances.delete(instance);
}

new Gauge({
  name: 'heddle_mcp_sessions',
  help: 'MCP sessions open on this instance.',
  registers: [metricsRegistry],
  collect() {
    this.set([...instances].reduce((sum, instance) => sum + instance.mcpSessions(), 0));
  },
});

new Gauge({
  name: 'heddle_outbox_lag_seconds',
  help: 'Age of the oldest config event not yet announced on the pub/sub (0: none waits).',
  registers: [metricsRegistry],
  async collect() {
    const oldest = await Promise.all([...instances].map((instance) => instance.oldestUnpublishedEvent()));
    const earliest = Math.min(...oldest.map((date) => date?.getTime() ?? Infinity));
    this.set(Number.isFinite(earliest) ? Math.max(0, (Date.now() - earliest) / 1000) : 0);
  },
});

new Gauge({
  name: 'heddle_db_pool_connections',
  help: 'PostgreSQL pool clients by state (in_use, idle) and requests waiting for one (waiting); absent on PGlite.',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const instance of instances) {
      const pool = instance.databasePool();
      if (!pool) continue;
      this.inc({ state: 'in_use' }, pool.total - pool.idle);
      this.inc({ state: 'idle' }, pool.idle);
      this.inc({ state: 'waiting' }, pool.waiting);
    }
  },
});

new Gauge({
  name: 'heddle_redis_connected',
  help: 'Redis clients (publish, subscribe): 1 when ready, 0 otherwise; absent with the in-memory pub/sub.',
  labelNames: ['client'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const instance of instances) {
      for (const { client, ready } of instance.redisClients()) this.set({ client }, ready ? 1 : 0);
    }
  },
});
