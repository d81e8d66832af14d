// Configuration is read from the environment once, at start-up. A bad value
// stops start-up with one line naming the variable (ConfigError).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseKeyRing, type KeyRing } from './crypto/credential-store.js';
import { parseRedisUrl } from './redis.js';
import { isLoopbackHost } from './urls.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const postgresUrl = z
  .string()
  .refine((v) => {
    try {
      const url = new URL(v);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be a postgres:// or postgresql:// URL with a host');

/** A comma list of PostgreSQL URLs. */
const postgresUrlList = z.string().transform((value, ctx) => {
  const urls = value.split(',').map((part) => part.trim()).filter(Boolean);
  const bad = urls.find((url) => !postgresUrl.safeParse(url).success);
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a comma list of postgres:// or postgresql:// URLs with a host ("${redactUrl(bad)}" is not one)` });
    return z.NEVER;
  }
  return urls;
});

const redisUrl = z.string().superRefine((value, ctx) => {
  try {
    parseRedisUrl(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const publicUrl = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash && !url.username && !url.password;
  } catch {
    return false;
  }
}, 'must be an http(s) URL without query, fragment or credentials');

const integer = (message: string, min: number, max: number) =>
  z.string().regex(/^\d+$/, message).transform(Number).pipe(z.number().min(min, message).max(max, message));
const port = integer('must be an integer from 0 to 65535', 0, 65535);
const positiveInt = integer('must be a positive integer', 1, Number.MAX_SAFE_INTEGER);
const count = integer('must be a non-negative integer', 0, Number.MAX_SAFE_INTEGER);
/** A comma list of browser origins (scheme://host[:port]), normalised the way browsers send them. */
const originList = z.string().transform((value, ctx) => {
  const origins: string[] = [];
  for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      // reported below
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
      ctx.addIssue({ code: 'custom', message: `must be a comma list of origins such as https://app.example.com ("${entry}" is not one)` });
      return z.NEVER;
    }
    origins.push(url.origin);
  }
  return origins;
});
/** A JSON object from integration name to the base URL that replaces the provider's public host. */
const providerBaseUrls = z.string().transform((value, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"slack":"http://127.0.0.1:9001"} (it is not valid JSON)' });
    return z.NEVER;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object from integration name to base URL' });
    return z.NEVER;
  }
  const urls: Record<string, string> = {};
  for (const [name, url] of Object.entries(parsed)) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
      ctx.addIssue({ code: 'custom', message: `has "${name}", which is not an integration name` });
      return z.NEVER;
    }
    if (typeof url !== 'string' || !publicUrl.safeParse(url).success) {
      ctx.addIssue({ code: 'custom', message: `"${name}" must be an http(s) URL without query, fragment or credentials` });
      return z.NEVER;
    }
    urls[name] = url.replace(/\/+$/, '');
  }
  return urls;
});
/** The longest a cached principal is trusted without reading the database again (src/auth/principal-cache.ts). */
export const MAX_AUTH_CACHE_TTL_MS = 5000;

const flag = z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

/** Every variable Heddle reads; each one's meta is its row in docs/operations.md and README (npm run docs:operations). */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').meta({
    shownDefault: "`development`",
    description: "`production` disables GraphiQL and refuses development secrets",
  }),
  HOST: z.string().min(1).default('0.0.0.0').meta({
    shownDefault: "`0.0.0.0`",
    description: "interface to listen on",
  }),
  PORT: port.default(4000).meta({
    shownDefault: "`4000`",
    description: "HTTP port: GraphQL over HTTP and SSE, graphql-ws, `/healthz`, `/readyz`, `/metrics`",
  }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').meta({
    shownDefault: "`info`",
    description: "pino level (`silent` … `trace`); logs are JSON lines, or pino-pretty's readable lines when stdout is a terminal and `NODE_ENV` is not `production`; every line written while a request is handled carries its `requestId` (the caller's `X-Request-Id` when well-formed, else a new one, echoed in the response's `X-Request-Id`)",
  }),
  HEDDLE_DATA_DIR: z.string().min(1).default('.heddle').meta({
    shownDefault: "`./.heddle`",
    description: "embedded PGlite database, the development JWT secret and encryption key",
  }),
  DATABASE_URL: postgresUrl.optional().meta({
    shownDefault: "(unset: PGlite)",
    description: "`postgresql://…`: use PostgreSQL through a `pg` pool instead",
  }),
  DATABASE_POOL_SIZE: integer('must be an integer from 1 to 1000', 1, 1000).default(10).meta({
    shownDefault: "`10`",
    description: "connections in that pool",
  }),
  DATABASE_TRANSACTION_WAIT_MS: positiveInt.default(10_000).meta({
    shownDefault: "`10000`",
    description: "how long a write waits for a connection of that pool before it fails with `SERVICE_UNAVAILABLE` (Prisma's `maxWait`)",
  }),
  DATABASE_REPLICA_URLS: postgresUrlList.optional().meta({
    shownDefault: "(unset: none)",
    description: "comma list of `postgresql://…` URLs of read replicas of `DATABASE_URL` (streaming replicas; PostgreSQL only): GraphQL queries read from them, one picked at random per read, each through a pool of `DATABASE_POOL_SIZE`; mutations, subscriptions, authentication and whatever follows a request's own write read the primary (see \"Read replicas\")",
  }),
  DATABASE_REPLICA_MAX_LAG_MS: integer('must be an integer from 0 to 60000', 0, 60_000).default(1000).meta({
    shownDefault: "`1000`",
    description: "with `DATABASE_REPLICA_URLS`: how far the replicas may lag behind the primary; for this long after a write, the response cache stores no answer in the written organization, since a replica may not have applied it yet (see \"Read replicas\")",
  }),
  REDIS_URL: redisUrl.optional().meta({
    shownDefault: "(unset: in-process)",
    description: "Redis pub/sub, so several instances share events, and the `/connect` rate limits' counters: `redis://[user:password@]host:port[/db]` (`rediss://` for TLS); a Redis Cluster, `redis+cluster://[user:password@]host:port,host:port,…` (some of its nodes, the others are discovered); a Sentinel set, `redis+sentinel://[user:password@]host:port,host:port,…/<master name>[/db]` (the credentials are the data nodes'); `rediss+cluster://`, `rediss+sentinel://` for TLS (see \"Running several instances\")",
  }),
  HEDDLE_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional().meta({
    shownDefault: "(dev secret)",
    description: "HS256 secret for member sessions, at least 32 characters; required in production",
  }),
  HEDDLE_ENCRYPTION_KEYS: z.string().optional().meta({
    shownDefault: "(dev key)",
    description: "master key ring for credentials: `1:<base64 32 bytes>,2:<…>`; the highest version encrypts new secrets; required in production",
  }),
  HEDDLE_JWKS_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional().meta({
    shownDefault: "(unset)",
    description: "http(s) URL of a JWKS: member sessions are verified against its keys instead of `HEDDLE_JWT_SECRET` (an identity provider's tokens); needs `HEDDLE_JWT_ISSUER` and `HEDDLE_JWT_AUDIENCE`",
  }),
  HEDDLE_JWT_ISSUER: z.string().min(1).optional().meta({
    shownDefault: "(unset)",
    description: "the `iss` member session tokens must carry; required with `HEDDLE_JWKS_URL`",
  }),
  HEDDLE_JWT_AUDIENCE: z.string().min(1).optional().meta({
    shownDefault: "(unset)",
    description: "the `aud` member session tokens must carry; required with `HEDDLE_JWKS_URL`",
  }),
  HEDDLE_SHUTDOWN_TIMEOUT_MS: positiveInt.default(4000).meta({
    shownDefault: "`4000`",
    description: "how long shutdown waits for in-flight requests",
  }),
  HEDDLE_EVENT_RETENTION_HOURS: positiveInt.default(24 * 7).meta({
    shownDefault: "`168`",
    description: "how long config events stay replayable; an older `sinceVersion` fails with `SINCE_VERSION_EXPIRED` (refetch, then resume)",
  }),
  HEDDLE_ROUTER_SECRET: z.string().min(16, 'must be at least 16 characters').optional().meta({
    shownDefault: "(unset)",
    description: "at least 16 characters: GraphQL (HTTP, SSE, graphql-ws) answers only requests with this value in `x-heddle-router-secret`, others get 401; health endpoints and `/connect` stay open (docs/federation.md, \"Router secret\")",
  }),
  HEDDLE_PUBLIC_URL: publicUrl.optional().meta({
    shownDefault: "`http://localhost:{PORT}`",
    description: "where browsers reach Heddle: connect links and the OAuth2 `redirect_uri` (`{HEDDLE_PUBLIC_URL}/connect/callback`); https in production (http only to localhost); may have a path prefix",
  }),
  HEDDLE_CONNECT_IP_RATE_LIMIT: positiveInt.default(60).meta({
    shownDefault: "`60`",
    description: "requests per minute to `/connect` from one client address (with `REDIS_URL`, one budget across all instances; else per instance)",
  }),
  HEDDLE_CONNECT_TOKEN_RATE_LIMIT: positiveInt.default(20).meta({
    shownDefault: "`20`",
    description: "requests per minute for one connect token (with `REDIS_URL`, one budget across all instances; else per instance)",
  }),
  HEDDLE_TRUST_PROXY_HOPS: integer('must be an integer from 0 to 10', 0, 10).default(0).meta({
    shownDefault: "`0`",
    description: "proxies in front of Heddle: the client address for rate limits is that many entries from the right of `X-Forwarded-For`",
  }),
  HEDDLE_MAX_DEPTH: positiveInt.default(15).meta({
    shownDefault: "`15`",
    description: "deepest field nesting in an operation (fragments do not count)",
  }),
  HEDDLE_MAX_ALIASES: count.default(15).meta({
    shownDefault: "`15`",
    description: "aliases in an operation",
  }),
  HEDDLE_MAX_TOKENS: positiveInt.default(2000).meta({
    shownDefault: "`2000`",
    description: "lexical tokens in a document",
  }),
  HEDDLE_MAX_DIRECTIVES: count.default(50).meta({
    shownDefault: "`50`",
    description: "directives in an operation",
  }),
  HEDDLE_MAX_COST: positiveInt.default(50_000).meta({
    shownDefault: "`50000`",
    description: "operation cost: each field 1; what is under a list or connection counts once per item (`first`/`last`, a list argument's length, else 20)",
  }),
  HEDDLE_MAX_BODY_BYTES: positiveInt.default(1024 * 1024).meta({
    shownDefault: "`1048576`",
    description: "request body (413 past it) and graphql-ws message (socket closed with 1009)",
  }),
  HEDDLE_WS_MAX_SUBSCRIPTIONS: positiveInt.default(100).meta({
    shownDefault: "`100`",
    description: "open subscriptions per graphql-ws connection (the next one fails with `SUBSCRIPTION_LIMIT`)",
  }),
  HEDDLE_WS_PING_INTERVAL_MS: positiveInt.default(15_000).meta({
    shownDefault: "`15000`",
    description: "graphql-ws's keepalive: a ping each interval; a socket that has not answered within the next interval is dropped, including a peer that stopped reading (it resumes with `sinceVersion`)",
  }),
  HEDDLE_WS_MAX_BUFFERED_BYTES: positiveInt.default(4 * 1024 * 1024).meta({
    shownDefault: "`4194304`",
    description: "bytes of events a graphql-ws socket may have waiting to be sent; past it the subscriber is too slow and the socket is closed with code 4429 (it reconnects and resumes with `sinceVersion`, losing nothing)",
  }),
  HEDDLE_MCP_ALLOWED_ORIGINS: originList.default([]).meta({
    shownDefault: "(none)",
    description: "comma list of browser origins (`https://app.example.com`) allowed to call `/mcp/…` besides Heddle's own; a request with any other `Origin` gets 403, one without `Origin` is not affected",
  }),
  HEDDLE_MCP_MAX_SESSIONS: positiveInt.default(1000).meta({
    shownDefault: "`1000`",
    description: "open MCP sessions per instance; a new one past it gets 503 `QUOTA_EXCEEDED`",
  }),
  HEDDLE_MCP_MAX_SESSIONS_PER_KEY: positiveInt.default(20).meta({
    shownDefault: "`20`",
    description: "open MCP sessions per credential (a server token, or one end user's tokens) per instance; a new one past it gets 429 `QUOTA_EXCEEDED`",
  }),
  HEDDLE_MCP_SESSION_IDLE_S: positiveInt.default(1800).meta({
    shownDefault: "`1800`",
    description: "an MCP session without a request for this many seconds is closed",
  }),
  HEDDLE_ACTION_TIMEOUT_MS: integer('must be an integer from 100 to 600000', 100, 600_000).default(30_000).meta({
    shownDefault: "`30000`",
    description: "one action execution or proxied call, retries and a token refresh included; the provider request is aborted then (`PROVIDER_TIMEOUT`)",
  }),
  HEDDLE_EXECUTION_RETENTION_DAYS: integer('must be an integer from 1 to 3650', 1, 3650).default(30).meta({
    shownDefault: "`30`",
    description: "how long action executions stay in the history; older ones are pruned hourly",
  }),
  HEDDLE_AUTH_CACHE_TTL_MS: integer('must be an integer from 0 to 5000', 0, MAX_AUTH_CACHE_TTL_MS).default(MAX_AUTH_CACHE_TTL_MS).meta({
    shownDefault: "`5000`",
    description: "how long an authenticated credential (API key, member session, end-user token) is cached per instance, at most 5000 (0: not cached); revocations and role changes reach every instance at once over Redis, this bounds what a lost message leaves",
  }),
  HEDDLE_PROVIDER_BASE_URLS: providerBaseUrls.default({}).meta({
    shownDefault: "(none)",
    description: "JSON object from integration name to the base URL that replaces the provider's public host, e.g. `{\"slack\":\"http://127.0.0.1:9001\"}` (tests, staging, on-premises providers); bad JSON or a bad URL stops start-up",
  }),
  HEDDLE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional().meta({
    shownDefault: "(unset: no `/metrics`)",
    description: "at least 16 characters: `GET /metrics` answers Prometheus text to `Authorization: Bearer <token>` (401 otherwise); unset, the endpoint answers 404, so nothing leaks by default (see \"Metrics\")",
  }),
  HEDDLE_RESPONSE_CACHE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on').meta({
    shownDefault: "`on`",
    description: "`on`/`off`: the response cache of read queries (README, \"Response cache\")",
  }),
  HEDDLE_RESPONSE_CACHE_TTL_MS: integer('must be an integer from 100 to 300000', 100, 300_000).default(10_000).meta({
    shownDefault: "`10000`",
    description: "the longest a cached answer lives (100 to 300000): what bounds staleness when Redis is unreachable",
  }),
  HEDDLE_INTROSPECTION: flag.optional().meta({
    shownDefault: "on, off in production",
    description: "`true`/`false`: `__schema` and `__type` queries (GraphiQL needs them)",
  }),
  HEDDLE_FIELD_SUGGESTIONS: flag.optional().meta({
    shownDefault: "on, off in production",
    description: "`true`/`false`: \"Did you mean …\" in validation errors",
  }),
  HEDDLE_EXPOSE_ERRORS: flag.optional().meta({
    shownDefault: "on in development only",
    description: "`true`/`false`: unexpected errors carry their original message and stack in `extensions` (their message stays \"Unexpected error.\")",
  }),
});

export type Config = {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  dataDir: string;
  database:
    | { kind: 'pglite'; dataDir: string }
    | { kind: 'postgres'; url: string; poolSize: number; transactionWaitMs?: number; /** Read replicas of `url`: none when empty. */ replicaUrls?: string[] };
  pubsub: { kind: 'memory' } | { kind: 'redis'; url: string };
  jwt: {
    secret: string;
    isDevelopmentSecret: boolean;
    /** Member sessions are verified against this JWKS instead of the secret when set. */
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
  };
  encryption: { ring: KeyRing; isDevelopmentKey: boolean };
  shutdownTimeoutMs: number;
  eventRetentionHours: number;
  /** When set, only callers sending it in ROUTER_SECRET_HEADER (a gateway) are served. */
  routerSecret?: string;
  limits: GraphqlLimits;
  graphql: { introspection: boolean; fieldSuggestions: boolean; exposeErrors: boolean };
  connect: ConnectConfig;
  mcp: McpConfig;
  execution: ExecutionConfig;
  /** Authenticated principals kept in process: each is read again from the database at least this often; 0: never kept. */
  authCacheTtlMs: number;
  /** Integration name → base URL replacing the provider's public host (tests, staging, on-premises providers). */
  providerBaseUrls: Record<string, string>;
  /** Bearer token for GET /metrics; unset: the endpoint answers 404. */
  metricsToken: string | null;
  /**
   * Read queries' answers kept per principal (src/app/response-cache.ts); null: off. replicaLagMs:
   * how long after a write no answer of its organization is stored (0 without replicas).
   */
  responseCache: { ttlMs: number; replicaLagMs: number } | null;
};

/** Action execution (src/modules/execution): how long a call may take, and how long its record is kept. */
export interface ExecutionConfig {
  /** One execution, retries and a token refresh included; the provider request is aborted then. */
  timeoutMs: number;
  retentionDays: number;
}

/** The MCP endpoint (src/modules/mcp/endpoint.ts): who may call it from a browser, and how many sessions it keeps. */
export interface McpConfig {
  /** Browser origins allowed besides Heddle's own (HEDDLE_PUBLIC_URL); a request with any other Origin gets 403. */
  allowedOrigins: string[];
  /** Open sessions on this instance, in all, and per credential (a server token, or one end user's tokens). */
  maxSessions: number;
  maxSessionsPerKey: number;
  /** A session without a request for this long is closed. */
  sessionIdleMs: number;
}

/** Hosted connect (src/connect): where browsers reach Heddle, and its abuse limits. */
export interface ConnectConfig {
  /** HEDDLE_PUBLIC_URL without a trailing slash; null: http://localhost:{bound port}. */
  publicUrl: string | null;
  /** Requests per minute to /connect from one client address, and for one connect token. */
  ipRatePerMinute: number;
  tokenRatePerMinute: number;
  /** Proxies in front of Heddle: the client address is this many entries from the right of X-Forwarded-For. */
  trustProxyHops: number;
}

/** Abuse limits on every GraphQL request, HTTP and graphql-ws alike (src/app/limits.ts). */
export interface GraphqlLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  maxBodyBytes: number;
  websocket: {
    /** Open subscriptions per graphql-ws connection. */
    maxSubscriptions: number;
    /** A socket that does not answer a ping within one interval is dropped. */
    pingIntervalMs: number;
    /** Unsent bytes a socket may queue before it is closed as a slow consumer (close code 4429). */
    maxBufferedBytes: number;
  };
}

const DEV_SECRET_FILE = 'dev-jwt-secret';
const DEV_KEY_FILE = 'dev-encryption-key';

/** Parses the environment into a Config, or throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, the way shells and .env files usually mean them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')} ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.HEDDLE_DATA_DIR);
  const production = e.NODE_ENV === 'production';

  let jwt: Config['jwt'];
  if (e.HEDDLE_JWT_SECRET) {
    jwt = { secret: e.HEDDLE_JWT_SECRET, isDevelopmentSecret: false };
  } else if (production) {
    throw new ConfigError('HEDDLE_JWT_SECRET is required when NODE_ENV=production');
  } else {
    jwt = { secret: developmentSecret(dataDir, DEV_SECRET_FILE), isDevelopmentSecret: true };
  }
  if (e.HEDDLE_JWKS_URL) {
    if (!e.HEDDLE_JWT_ISSUER) throw new ConfigError('HEDDLE_JWT_ISSUER is required with HEDDLE_JWKS_URL');
    if (!e.HEDDLE_JWT_AUDIENCE) throw new ConfigError('HEDDLE_JWT_AUDIENCE is required with HEDDLE_JWKS_URL');
  }
  jwt = { ...jwt, jwksUrl: e.HEDDLE_JWKS_URL, issuer: e.HEDDLE_JWT_ISSUER, audience: e.HEDDLE_JWT_AUDIENCE };
  if (production && jwt.secret === readExistingSecret(dataDir, DEV_SECRET_FILE)) {
    throw new ConfigError('HEDDLE_JWT_SECRET is the development secret; production needs its own');
  }

  let encryption: Config['encryption'];
  if (e.HEDDLE_ENCRYPTION_KEYS) {
    try {
      encryption = { ring: parseKeyRing(e.HEDDLE_ENCRYPTION_KEYS), isDevelopmentKey: false };
    } catch (error) {
      throw new ConfigError(`HEDDLE_ENCRYPTION_KEYS ${(error as Error).message}`);
    }
  } else if (production) {
    throw new ConfigError('HEDDLE_ENCRYPTION_KEYS is required when NODE_ENV=production');
  } else {
    const key = developmentSecret(dataDir, DEV_KEY_FILE, () => randomBytes(32).toString('base64'));
    encryption = { ring: parseKeyRing(`1:${key}`), isDevelopmentKey: true };
  }
  if (production && readExistingSecret(dataDir, DEV_KEY_FILE) !== undefined) {
    const devKey = Buffer.from(readExistingSecret(dataDir, DEV_KEY_FILE)!, 'base64');
    if ([...encryption.ring.keys.values()].some((k) => k.equals(devKey))) {
      throw new ConfigError('HEDDLE_ENCRYPTION_KEYS contains the development key; production needs its own');
    }
  }

  if (e.DATABASE_REPLICA_URLS?.length && !e.DATABASE_URL) {
    throw new ConfigError('DATABASE_REPLICA_URLS needs DATABASE_URL: read replicas are replicas of a PostgreSQL primary, and the embedded PGlite database has none');
  }

  const publicBase = e.HEDDLE_PUBLIC_URL ? e.HEDDLE_PUBLIC_URL.replace(/\/+$/, '') : null;
  if (production && publicBase && new URL(publicBase).protocol !== 'https:' && !isLoopbackHost(new URL(publicBase).hostname)) {
    throw new ConfigError('HEDDLE_PUBLIC_URL must be https in production (connect pages carry credentials)');
  }

  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    dataDir,
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          transactionWaitMs: e.DATABASE_TRANSACTION_WAIT_MS,
          replicaUrls: e.DATABASE_REPLICA_URLS ?? [],
        }
      : { kind: 'pglite', dataDir: path.join(dataDir, 'pglite') },
    pubsub: e.REDIS_URL ? { kind: 'redis', url: e.REDIS_URL } : { kind: 'memory' },
    jwt,
    encryption,
    shutdownTimeoutMs: e.HEDDLE_SHUTDOWN_TIMEOUT_MS,
    eventRetentionHours: e.HEDDLE_EVENT_RETENTION_HOURS,
    routerSecret: e.HEDDLE_ROUTER_SECRET,
    limits: {
      maxDepth: e.HEDDLE_MAX_DEPTH,
      maxAliases: e.HEDDLE_MAX_ALIASES,
      maxTokens: e.HEDDLE_MAX_TOKENS,
      maxDirectives: e.HEDDLE_MAX_DIRECTIVES,
      maxCost: e.HEDDLE_MAX_COST,
      maxBodyBytes: e.HEDDLE_MAX_BODY_BYTES,
      websocket: {
        maxSubscriptions: e.HEDDLE_WS_MAX_SUBSCRIPTIONS,
        pingIntervalMs: e.HEDDLE_WS_PING_INTERVAL_MS,
        maxBufferedBytes: e.HEDDLE_WS_MAX_BUFFERED_BYTES,
      },
    },
    graphql: {
      introspection: e.HEDDLE_INTROSPECTION ?? !production,
      fieldSuggestions: e.HEDDLE_FIELD_SUGGESTIONS ?? !production,
      exposeErrors: e.HEDDLE_EXPOSE_ERRORS ?? e.NODE_ENV === 'development',
    },
    connect: {
      publicUrl: publicBase,
      ipRatePerMinute: e.HEDDLE_CONNECT_IP_RATE_LIMIT,
      tokenRatePerMinute: e.HEDDLE_CONNECT_TOKEN_RATE_LIMIT,
      trustProxyHops: e.HEDDLE_TRUST_PROXY_HOPS,
    },
    mcp: {
      allowedOrigins: e.HEDDLE_MCP_ALLOWED_ORIGINS,
      maxSessions: e.HEDDLE_MCP_MAX_SESSIONS,
      maxSessionsPerKey: e.HEDDLE_MCP_MAX_SESSIONS_PER_KEY,
      sessionIdleMs: e.HEDDLE_MCP_SESSION_IDLE_S * 1000,
    },
    execution: {
      timeoutMs: e.HEDDLE_ACTION_TIMEOUT_MS,
      retentionDays: e.HEDDLE_EXECUTION_RETENTION_DAYS,
    },
    authCacheTtlMs: e.HEDDLE_AUTH_CACHE_TTL_MS,
    providerBaseUrls: e.HEDDLE_PROVIDER_BASE_URLS,
    metricsToken: e.HEDDLE_METRICS_TOKEN ?? null,
    responseCache:
      e.HEDDLE_RESPONSE_CACHE === 'on'
        ? { ttlMs: e.HEDDLE_RESPONSE_CACHE_TTL_MS, replicaLagMs: e.DATABASE_REPLICA_URLS?.length ? e.DATABASE_REPLICA_MAX_LAG_MS : 0 }
        : null,
  };
}

function readExistingSecret(dataDir: string, file: string): string | undefined {
  try {
    return readFileSync(path.join(dataDir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A per-machine development secret, created once under the data directory. */
function developmentSecret(dataDir: string, file: string, generate = () => randomBytes(32).toString('base64url')): string {
  const existing = readExistingSecret(dataDir, file);
  if (existing) return existing;
  const secret = generate();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path.join(dataDir, file), secret + '\n', { mode: 0o600 });
  return secret;
}

/** A URL with its password hidden, for log lines and error messages. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // A redis+cluster:// or redis+sentinel:// list of hosts is no WHATWG URL.
    return /^[a-z+]+:\/\//.test(value) ? value.replace(/^([a-z+]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@') : '<unparseable>';
  }
}
