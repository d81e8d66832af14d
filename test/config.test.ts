import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { ConfigError, envSchema, loadConfig, redactUrl } from '../src/platform/config.js';
import { parseRedisUrl } from '../src/platform/redis.js';
import { DOCUMENTS, documentedVariables, withEnvironmentTable } from '../scripts/environment-table.js';

const dataDir = () => mkdtempSync(path.join(tmpdir(), 'heddle-config-'));

test('no configuration means the embedded default: PGlite under the data dir, in-process pub/sub', () => {
  const dir = dataDir();
  const config = loadConfig({ HEDDLE_DATA_DIR: dir });
  expect(config.port).toBe(4000);
  expect(config.database).toEqual({ kind: 'pglite', dataDir: path.join(dir, 'pglite') });
  expect(config.pubsub).toEqual({ kind: 'memory' });
  // A development secret is created once and kept.
  expect(config.jwt.isDevelopmentSecret).toBe(true);
  expect(readFileSync(path.join(dir, 'dev-jwt-secret'), 'utf8').trim()).toBe(config.jwt.secret);
  expect(loadConfig({ HEDDLE_DATA_DIR: dir }).jwt.secret).toBe(config.jwt.secret);
});

test('DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis', () => {
  const config = loadConfig({
    HEDDLE_DATA_DIR: dataDir(),
    DATABASE_URL: 'postgresql://u:p@db.internal:5432/heddle',
    DATABASE_POOL_SIZE: '20',
    REDIS_URL: 'redis://cache:6379',
  });
  expect(config.database).toEqual({ kind: 'postgres', url: 'postgresql://u:p@db.internal:5432/heddle', poolSize: 20, transactionWaitMs: 10_000, replicaUrls: [] });
  expect(config.pubsub).toEqual({ kind: 'redis', url: 'redis://cache:6379' });
});

test('DATABASE_REPLICA_URLS: read replicas of the PostgreSQL primary, never of the embedded database', () => {
  const config = loadConfig({
    HEDDLE_DATA_DIR: dataDir(),
    DATABASE_URL: 'postgresql://u:p@db-primary:5432/heddle',
    DATABASE_REPLICA_URLS: 'postgresql://u:p@db-replica-1:5432/heddle, postgres://u:p@db-replica-2/heddle',
  });
  expect(config.database).toMatchObject({ replicaUrls: ['postgresql://u:p@db-replica-1:5432/heddle', 'postgres://u:p@db-replica-2/heddle'] });
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dataDir(), DATABASE_REPLICA_URLS: 'postgresql://db-replica-1:5432/heddle' })).toThrow(
    new ConfigError('DATABASE_REPLICA_URLS needs DATABASE_URL: read replicas are replicas of a PostgreSQL primary, and the embedded PGlite database has none'),
  );
  // A bad entry is named without its password.
  expect(() =>
    loadConfig({ HEDDLE_DATA_DIR: dataDir(), DATABASE_URL: 'postgresql://db-primary/heddle', DATABASE_REPLICA_URLS: 'postgresql://u:secret@db-replica-1/heddle,mysql://u:secret@db-replica-2/heddle' }),
  ).toThrow(/^DATABASE_REPLICA_URLS must be a comma list of postgres:\/\/ or postgresql:\/\/ URLs with a host \("mysql:\/\/u:\*\*\*@db-replica-2\/heddle" is not one\)$/);
});

test('REDIS_URL names one Redis, a Redis Cluster (some of its nodes) or a Sentinel set and its master', () => {
  expect(parseRedisUrl('rediss://u:p@cache:6380/2')).toEqual({ mode: 'single', url: 'rediss://u:p@cache:6380/2' });
  expect(parseRedisUrl('redis+cluster://heddle:s%40cret@10.0.0.1:7000,10.0.0.2:7001')).toEqual({
    mode: 'cluster',
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ],
    auth: { username: 'heddle', password: 's@cret' },
    tls: false,
  });
  expect(parseRedisUrl('rediss+sentinel://:pw@s1:26379,[::1]:26380/main/3')).toEqual({
    mode: 'sentinel',
    sentinels: [
      { host: 's1', port: 26379 },
      { host: '::1', port: 26380 },
    ],
    name: 'main',
    db: 3,
    auth: { password: 'pw' },
    tls: true,
  });
  // The URL is kept as given; the password never reaches a log line or message.
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir(), REDIS_URL: 'redis+cluster://h1:7000,h2:7000' }).pubsub).toEqual({ kind: 'redis', url: 'redis+cluster://h1:7000,h2:7000' });
  expect(redactUrl('redis+cluster://heddle:hunter2@h1:7000,h2:7000')).toBe('redis+cluster://heddle:***@h1:7000,h2:7000');
});

test.each([
  [{ DATABASE_URL: 'localhost:5432/heddle' }, 'DATABASE_URL'],
  [{ REDIS_URL: 'http://cache' }, 'REDIS_URL'],
  [{ REDIS_URL: 'redis+cluster://cache-1:7000,cache-2' }, 'REDIS_URL'],
  [{ REDIS_URL: 'redis+cluster://cache-1:7000/2' }, 'REDIS_URL'],
  [{ REDIS_URL: 'redis+sentinel://sentinel-1:26379,sentinel-2:26379' }, 'REDIS_URL'],
  [{ PORT: '70000' }, 'PORT'],
  [{ HEDDLE_JWT_SECRET: 'short' }, 'HEDDLE_JWT_SECRET'],
  [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
  [{ HEDDLE_ROUTER_SECRET: 'short' }, 'HEDDLE_ROUTER_SECRET'],
  [{ HEDDLE_MAX_DEPTH: '0' }, 'HEDDLE_MAX_DEPTH'],
  [{ HEDDLE_MAX_COST: 'lots' }, 'HEDDLE_MAX_COST'],
  [{ HEDDLE_MAX_BODY_BYTES: '-1' }, 'HEDDLE_MAX_BODY_BYTES'],
  [{ HEDDLE_INTROSPECTION: 'yes' }, 'HEDDLE_INTROSPECTION'],
  [{ HEDDLE_PUBLIC_URL: 'connect.example.com' }, 'HEDDLE_PUBLIC_URL'],
  [{ HEDDLE_PUBLIC_URL: 'https://connect.example.com/?a=1' }, 'HEDDLE_PUBLIC_URL'],
  [{ HEDDLE_CONNECT_IP_RATE_LIMIT: '0' }, 'HEDDLE_CONNECT_IP_RATE_LIMIT'],
  [{ HEDDLE_TRUST_PROXY_HOPS: '11' }, 'HEDDLE_TRUST_PROXY_HOPS'],
  [{ HEDDLE_MCP_ALLOWED_ORIGINS: 'agents.example.com' }, 'HEDDLE_MCP_ALLOWED_ORIGINS'],
  [{ HEDDLE_MCP_ALLOWED_ORIGINS: 'https://agents.example.com, https://agents.example.com/app' }, 'HEDDLE_MCP_ALLOWED_ORIGINS'],
  [{ HEDDLE_MCP_ALLOWED_ORIGINS: '*' }, 'HEDDLE_MCP_ALLOWED_ORIGINS'],
  [{ HEDDLE_MCP_MAX_SESSIONS: '0' }, 'HEDDLE_MCP_MAX_SESSIONS'],
  [{ HEDDLE_MCP_MAX_SESSIONS_PER_KEY: 'many' }, 'HEDDLE_MCP_MAX_SESSIONS_PER_KEY'],
  [{ HEDDLE_MCP_SESSION_IDLE_S: '0' }, 'HEDDLE_MCP_SESSION_IDLE_S'],
  [{ HEDDLE_AUTH_CACHE_TTL_MS: '5001' }, 'HEDDLE_AUTH_CACHE_TTL_MS'],
  [{ HEDDLE_PROVIDER_BASE_URLS: '{slack: "http://127.0.0.1:9001"}' }, 'HEDDLE_PROVIDER_BASE_URLS'],
  [{ HEDDLE_PROVIDER_BASE_URLS: '["http://127.0.0.1:9001"]' }, 'HEDDLE_PROVIDER_BASE_URLS'],
  [{ HEDDLE_PROVIDER_BASE_URLS: '{"slack":"127.0.0.1:9001"}' }, 'HEDDLE_PROVIDER_BASE_URLS'],
  [{ HEDDLE_PROVIDER_BASE_URLS: '{"slack":"ftp://files.example.com"}' }, 'HEDDLE_PROVIDER_BASE_URLS'],
  [{ HEDDLE_PROVIDER_BASE_URLS: '{"Slack":"https://slack.example.com"}' }, 'HEDDLE_PROVIDER_BASE_URLS'],
])('%o is refused with a message naming %s', (env, variable) => {
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dataDir(), ...env })).toThrow(ConfigError);
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dataDir(), ...env })).toThrow(new RegExp(`^${variable} `));
});

test('HEDDLE_AUTH_CACHE_TTL_MS: 5 s unless lower (0 keeps no principal)', () => {
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir() }).authCacheTtlMs).toBe(5000);
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir(), HEDDLE_AUTH_CACHE_TTL_MS: '0' }).authCacheTtlMs).toBe(0);
});

test('HEDDLE_PROVIDER_BASE_URLS maps integrations to base URLs (trailing slashes dropped); unset, none is replaced', () => {
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir() }).providerBaseUrls).toEqual({});
  const config = loadConfig({
    HEDDLE_DATA_DIR: dataDir(),
    HEDDLE_PROVIDER_BASE_URLS: '{"slack":"http://127.0.0.1:9001/api/","github":"https://github.internal.example.com/api/v3"}',
  });
  expect(config.providerBaseUrls).toEqual({ slack: 'http://127.0.0.1:9001/api', github: 'https://github.internal.example.com/api/v3' });
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dataDir(), HEDDLE_PROVIDER_BASE_URLS: '{"slack":' })).toThrow(/not valid JSON/);
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dataDir(), HEDDLE_PROVIDER_BASE_URLS: '{"slack":"https://u:p@x.example.com"}' })).toThrow(
    /"slack" must be an http\(s\) URL/,
  );
});

test('GraphQL limits have defaults; introspection and suggestions are off in production, error details on in development only', () => {
  const dev = loadConfig({ HEDDLE_DATA_DIR: dataDir(), NODE_ENV: 'development' });
  expect(dev.limits).toEqual({
    maxDepth: 15,
    maxAliases: 15,
    maxTokens: 2000,
    maxDirectives: 50,
    maxCost: 50_000,
    maxBodyBytes: 1024 * 1024,
    websocket: { maxSubscriptions: 100, pingIntervalMs: 15_000, maxBufferedBytes: 4 * 1024 * 1024 },
  });
  expect(dev.graphql).toEqual({ introspection: true, fieldSuggestions: true, exposeErrors: true });
  const production = {
    HEDDLE_DATA_DIR: dataDir(),
    NODE_ENV: 'production',
    HEDDLE_JWT_SECRET: 'a-production-secret-of-sufficient-length-42',
    HEDDLE_ENCRYPTION_KEYS: `1:${Buffer.alloc(32, 7).toString('base64')}`,
  };
  expect(loadConfig(production).graphql).toEqual({ introspection: false, fieldSuggestions: false, exposeErrors: false });
  expect(loadConfig({ ...production, HEDDLE_INTROSPECTION: 'true', HEDDLE_MAX_DEPTH: '8' })).toMatchObject({
    graphql: { introspection: true },
    limits: { maxDepth: 8 },
  });
});

test('hosted connect: public URL (trailing slash dropped; https in production), rate limits and proxy hops', () => {
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir() }).connect).toEqual({ publicUrl: null, ipRatePerMinute: 60, tokenRatePerMinute: 20, trustProxyHops: 0 });
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir(), HEDDLE_PUBLIC_URL: 'https://connect.example.com/heddle/', HEDDLE_TRUST_PROXY_HOPS: '1' }).connect).toMatchObject({
    publicUrl: 'https://connect.example.com/heddle',
    trustProxyHops: 1,
  });
  const production = {
    HEDDLE_DATA_DIR: dataDir(),
    NODE_ENV: 'production',
    HEDDLE_JWT_SECRET: 'a-production-secret-of-sufficient-length-42',
    HEDDLE_ENCRYPTION_KEYS: `1:${Buffer.alloc(32, 7).toString('base64')}`,
  };
  expect(() => loadConfig({ ...production, HEDDLE_PUBLIC_URL: 'http://connect.example.com' })).toThrow(/^HEDDLE_PUBLIC_URL must be https/);
  expect(loadConfig({ ...production, HEDDLE_PUBLIC_URL: 'http://localhost:4000' }).connect.publicUrl).toBe('http://localhost:4000');
});

test('production refuses the development secret', () => {
  const dir = dataDir();
  const devSecret = loadConfig({ HEDDLE_DATA_DIR: dir }).jwt.secret;
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dir, NODE_ENV: 'production' })).toThrow(/HEDDLE_JWT_SECRET is required/);
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dir, NODE_ENV: 'production', HEDDLE_JWT_SECRET: devSecret })).toThrow(
    /development secret/,
  );
  const own = 'a-production-secret-of-sufficient-length-42';
  const keys = `1:${Buffer.alloc(32, 7).toString('base64')}`;
  expect(loadConfig({ HEDDLE_DATA_DIR: dir, NODE_ENV: 'production', HEDDLE_JWT_SECRET: own, HEDDLE_ENCRYPTION_KEYS: keys }).jwt).toEqual({
    secret: own,
    isDevelopmentSecret: false,
  });
});

test('credential encryption: a development key under the data dir; production needs its own key ring', () => {
  const dir = dataDir();
  const dev = loadConfig({ HEDDLE_DATA_DIR: dir }).encryption;
  expect(dev.isDevelopmentKey).toBe(true);
  expect(dev.ring.currentVersion).toBe(1);
  expect(dev.ring.keys.get(1)?.length).toBe(32);
  const devKey = readFileSync(path.join(dir, 'dev-encryption-key'), 'utf8').trim();
  const secret = 'a-production-secret-of-sufficient-length-42';
  const production = { HEDDLE_DATA_DIR: dir, NODE_ENV: 'production', HEDDLE_JWT_SECRET: secret };
  expect(() => loadConfig(production)).toThrow(/^HEDDLE_ENCRYPTION_KEYS is required/);
  expect(() => loadConfig({ ...production, HEDDLE_ENCRYPTION_KEYS: `1:${devKey}` })).toThrow(/development key/);
  expect(() => loadConfig({ ...production, HEDDLE_ENCRYPTION_KEYS: '1:c2hvcnQ=' })).toThrow(/^HEDDLE_ENCRYPTION_KEYS key version 1 must be 32 bytes/);
  const ring = loadConfig({
    ...production,
    HEDDLE_ENCRYPTION_KEYS: `1:${Buffer.alloc(32, 1).toString('base64')},2:${Buffer.alloc(32, 2).toString('base64')}`,
  }).encryption.ring;
  expect(ring.currentVersion).toBe(2);
  expect([...ring.keys.keys()]).toEqual([1, 2]);
});

test('MCP settings: defaults, and allowed origins normalised the way browsers send them', () => {
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir() }).mcp).toEqual({ allowedOrigins: [], maxSessions: 1000, maxSessionsPerKey: 20, sessionIdleMs: 1_800_000 });
  const config = loadConfig({
    HEDDLE_DATA_DIR: dataDir(),
    HEDDLE_MCP_ALLOWED_ORIGINS: 'https://Agents.Example.com, http://localhost:6274/ ,https://app.example.com:443',
    HEDDLE_MCP_MAX_SESSIONS: '50',
    HEDDLE_MCP_MAX_SESSIONS_PER_KEY: '3',
    HEDDLE_MCP_SESSION_IDLE_S: '60',
  });
  expect(config.mcp).toEqual({
    allowedOrigins: ['https://agents.example.com', 'http://localhost:6274', 'https://app.example.com'],
    maxSessions: 50,
    maxSessionsPerKey: 3,
    sessionIdleMs: 60_000,
  });
});

test('docs/operations.md and README list every variable the schema reads, as the schema describes it (else: npm run docs:operations)', () => {
  const variables = Object.keys(envSchema.shape);
  // Every variable has its default and meaning next to its rule.
  expect(documentedVariables().map((v) => v.name)).toEqual(variables);
  for (const document of DOCUMENTS) {
    const text = readFileSync(document, 'utf8');
    for (const name of variables) expect(text, `${document} lacks ${name}`).toContain(`| \`${name}\` |`);
    expect(withEnvironmentTable(text, document), `${document} is out of date: run npm run docs:operations`).toBe(text);
  }
});

test('the metrics token is optional and at least 16 characters', () => {
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir() }).metricsToken).toBeNull();
  expect(loadConfig({ HEDDLE_DATA_DIR: dataDir(), HEDDLE_METRICS_TOKEN: 'a-long-enough-metrics-token' }).metricsToken).toBe('a-long-enough-metrics-token');
  expect(() => loadConfig({ HEDDLE_DATA_DIR: dataDir(), HEDDLE_METRICS_TOKEN: 'short' })).toThrow('HEDDLE_METRICS_TOKEN must be at least 16 characters');
});
