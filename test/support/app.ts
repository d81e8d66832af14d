// Starts Heddle in-process on an ephemeral port against a fresh database, and
// talks to it the way clients do: HTTP POST, graphql-ws and SSE.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { signMemberToken } from '../../src/auth/principal.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import type { QueryListener } from '../../src/platform/db/database.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildApp, type App } from '../../src/app/app.js';
import type { Backend } from './backends.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './services.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** A fresh, empty PostgreSQL database; dropped by the returned function. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `heddle_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function testConfig(backend: Pick<Backend, 'database' | 'pubsub'>, databaseUrl?: string, env: NodeJS.ProcessEnv = {}): Config {
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    HEDDLE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'heddle-test-')),
    HEDDLE_JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: backend.database === 'postgres' ? databaseUrl : undefined,
    REDIS_URL: backend.pubsub === 'redis' ? TEST_REDIS_URL : undefined,
    // On Redis the per-address connect budget is shared by every test file and run within a
    // minute, all from 127.0.0.1: tests of that limit set their own and use their own addresses.
    HEDDLE_CONNECT_IP_RATE_LIMIT: '10000',
    ...env,
  });
  // In-memory PGlite keeps test files independent and fast.
  return config.database.kind === 'pglite' ? { ...config, database: { kind: 'pglite', dataDir: 'memory://' } } : config;
}

export interface TestApp {
  app: App;
  url: string;
  /** POST /graphql as the holder of `token` (anonymous without one). */
  request<R, V>(document: TypedDocumentNode<R, V>, variables?: V, token?: string): Promise<ExecutionResult<R>>;
  /** The same with a query string, for documents outside the subgraph SDL (federation fields). */
  requestRaw<R>(query: string, variables?: Record<string, unknown>, token?: string): Promise<ExecutionResult<R>>;
  /** A member session token for a new or existing user (default lifetime 12 h, e.g. '2s'). */
  memberToken(email: string, expiresIn?: string): Promise<string>;
  wsClient(token?: string): Client;
  stop(): Promise<void>;
}

export interface StartOptions {
  onQuery?: QueryListener;
  /** Share one database between several apps (several instances). */
  databaseUrl?: string;
  logStream?: NodeJS.WritableStream;
  /** Environment variables on top of the test defaults (keys, limits, NODE_ENV, router secret). */
  env?: NodeJS.ProcessEnv;
}

export async function startTestApp(backend: Pick<Backend, 'database' | 'pubsub'>, options: StartOptions = {}): Promise<TestApp> {
  const ownDatabase = backend.database === 'postgres' && !options.databaseUrl ? await createPostgresDatabase() : null;
  const config = testConfig(backend, options.databaseUrl ?? ownDatabase?.url, options.env);
  const logger = options.logStream ? createLogger('debug', options.logStream) : createLogger('silent');
  const app = await buildApp(config, { logger, onQuery: options.onQuery });
  await app.start();
  const url = app.url;
  const clients: Client[] = [];
  return {
    app,
    url,
    request(document, variables, token) {
      return postGraphql(url, print(document), variables, token);
    },
    requestRaw(query, variables, token) {
      return postGraphql(url, query, variables, token);
    },
    memberToken: (email, expiresIn) => signMemberToken(TEST_JWT_SECRET, { sub: `test|${email}`, email }, expiresIn),
    wsClient(token) {
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      await ownDatabase?.drop();
    },
  };
}

async function postGraphql<R>(url: string, query: string, variables: unknown, token?: string): Promise<ExecutionResult<R>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return response.json() as Promise<ExecutionResult<R>>;
}

/** Collects the next `count` results of a subscription over graphql-ws. */
export function subscribeWs<R, V>(
  client: Client,
  document: TypedDocumentNode<R, V>,
  variables: V,
): { next(): Promise<ExecutionResult<R>>; stop(): void } {
  const iterator = client.iterate<R>({ query: print(document), variables: variables as Record<string, unknown> });
  return {
    async next() {
      const { value, done } = await iterator.next();
      if (done) throw new Error('subscription ended');
      return value as ExecutionResult<R>;
    },
    stop: () => void iterator.return?.(),
  };
}

/** The next result of a subscription that `wanted` accepts, skipping others (a probe's, heard late). */
export async function nextWhere<R>(
  subscription: { next(): Promise<ExecutionResult<R>> },
  wanted: (result: ExecutionResult<R>) => boolean,
): Promise<ExecutionResult<R>> {
  for (;;) {
    const result = await subscription.next();
    if (wanted(result)) return result;
  }
}

/** A subscription over SSE (HTTP, `Accept: text/event-stream`), parsed by hand. */
export async function subscribeSse<R, V>(
  url: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
  token?: string,
): Promise<{ next(): Promise<ExecutionResult<R>>; stop(): void }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  if (!response.ok || !response.body) throw new Error(`SSE request failed: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (data) return JSON.parse(data) as ExecutionResult<R>;
          continue; // a keep-alive comment or an event without data
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('SSE stream ended');
        buffer += value;
      }
    },
    stop: () => controller.abort(),
  };
}

/** Every row of every table as JSON text: for proving a value was never stored anywhere. */
export async function databaseText(t: TestApp): Promise<string> {
  return Object.values(await databaseTables(t)).join('\n');
}

/** Each table's rows as JSON text, ordered by every column: for proving a step changed nothing (or only what it should). */
export async function databaseTables(t: TestApp): Promise<Record<string, string>> {
  const prisma = t.app.database.prisma;
  const tables = await prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
  expect(tables.length).toBeGreaterThan(10);
  const dumps = await Promise.all(
    tables.map(({ table_name }) =>
      prisma.$queryRawUnsafe<{ rows: unknown }[]>(`SELECT json_agg(t ORDER BY t::text)::text AS rows FROM "${table_name}" t`),
    ),
  );
  return Object.fromEntries(tables.map(({ table_name }, i) => [table_name, String(dumps[i]![0]?.rows ?? '')]));
}

/**
 * The statements of a request without the member session's own lookup (one per
 * request, before the operation runs) and without the outbox relay's poll, which
 * its timer may run at any moment (no read query touches the outbox).
 */
export const withoutAuthentication = (statements: string[]): string[] =>
  statements.filter((sql) => !/FROM "(?:public"\.")?User"/.test(sql) && !sql.includes('"ConfigEvent"'));
