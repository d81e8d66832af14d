// The test world as a vitest fixture chain: an app, its owner's tenant, a
// workspace, API keys and an integration, each built through the public API the
// first time a test (or a `test.beforeAll`) names it, and shared by the tests of
// the file. Fixtures are file-scoped and kept per test object, so each backend
// of describeEachBackend gets its own app, stopped when its describe ends.
import { PassThrough } from 'node:stream';
import { describe, test as base } from 'vitest';
import { createPostgresDatabase, startTestApp, type StartOptions, type TestApp } from './app.js';
import type { Backend } from './backends.js';
import { seedApiKey, seedConnection, seedIntegration, seedOrganization, seedWorkspace } from './fixtures.js';

/** The organization's owner: a member token and the organization it created. */
export interface Tenant {
  email: string;
  token: string;
  organizationId: string;
}

/** A Slack integration on a FIXED workspace connection. */
export interface Integration {
  id: string;
  alias: string;
  connectionId: string;
}

/** Stops what the fixtures started, last first, once: at the end of a describeEachBackend block or of the file. */
export class Teardown {
  private readonly steps: (() => Promise<void>)[] = [];
  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) await step();
  }
}

const EMBEDDED: Pick<Backend, 'database' | 'pubsub'> = { database: 'pglite', pubsub: 'memory' };

const world = base
  /** What the app runs on; describeEachBackend sets it per backend. */
  .extend('backend', { scope: 'file' }, EMBEDDED)
  /** A log stream and everything written to it so far: `appOptions` passes `logs.stream` to capture the app's logs. */
  .extend('logs', { scope: 'file' }, () => {
    const logs = { stream: new PassThrough(), text: '' };
    logs.stream.on('data', (chunk: Buffer) => (logs.text += chunk.toString()));
    return logs;
  })
  /** Start options of the file's app (env, onQuery, logStream). */
  .extend('appOptions', { scope: 'file' }, {} as StartOptions)
  /** The tenant's names: the owner is owner@{slug}.test, the organization `slug`. */
  .extend('slug', { scope: 'file' }, 'acme')
  .extend('teardown', { scope: 'file' }, ({}, { onCleanup }) => {
    const teardown = new Teardown();
    onCleanup(() => teardown.run());
    return teardown;
  })
  /** A database of its own, shared by the file's instances (`t` and `peer`); none on PGlite. */
  .extend('database', { scope: 'file' }, async ({ backend, appOptions, teardown }) => {
    if (backend.database !== 'postgres' || appOptions.databaseUrl) return null;
    const database = await createPostgresDatabase();
    teardown.add(() => database.drop());
    return database;
  })
  .extend('t', { scope: 'file' }, async ({ backend, appOptions, database, teardown }): Promise<TestApp> => {
    const t = await startTestApp(backend, { ...appOptions, databaseUrl: appOptions.databaseUrl ?? database?.url });
    teardown.add(() => t.stop());
    return t;
  })
  /**
   * Another instance on the same database when the pub/sub carries events between
   * processes (Redis); otherwise `t` itself, the only instance in-process pub/sub reaches.
   */
  .extend('peer', { scope: 'file' }, async ({ backend, appOptions, database, teardown, t }): Promise<TestApp> => {
    if (backend.pubsub !== 'redis') return t;
    const peer = await startTestApp(backend, { ...appOptions, databaseUrl: appOptions.databaseUrl ?? database?.url });
    teardown.add(() => peer.stop());
    return peer;
  })
  .extend('tenant', { scope: 'file' }, async ({ t, slug }): Promise<Tenant> => {
    const email = `owner@${slug}.test`;
    const token = await t.memberToken(email);
    return { email, token, organizationId: await seedOrganization(t, token, slug) };
  })
  .extend('workspaceId', { scope: 'file' }, ({ t, tenant }) => seedWorkspace(t, tenant.token, tenant.organizationId, 'main'))
  /** An organization-wide API key's plaintext, as a host product's backend holds it. */
  .extend('apiKey', { scope: 'file' }, ({ t, tenant }) => seedApiKey(t, tenant.token, { organizationId: tenant.organizationId }))
  /** The same with CREDENTIALS_READ: it receives the secrets of a resolved connection. */
  .extend('readerKey', { scope: 'file' }, ({ t, tenant }) =>
    seedApiKey(t, tenant.token, { organizationId: tenant.organizationId, permissions: ['CREDENTIALS_READ'] }),
  )
  .extend('integration', { scope: 'file' }, async ({ t, tenant, workspaceId }): Promise<Integration> => {
    const alias = 'bot';
    const connectionId = await seedConnection(t, tenant.token, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
    const id = await seedIntegration(t, tenant.token, { workspaceId, integrationName: 'slack', alias, connectionStrategy: 'FIXED', connectionId });
    return { id, alias, connectionId };
  });

export const test = world;
export type WorldTest = typeof world;

/**
 * describe() whose tests use the fixtures of `test` (the world's by default): its app
 * starts before them, under the hook timeout rather than the first test's, and stops
 * after them. `test` serves this block only, since the block ends its fixtures' lifetime.
 */
export function describeWorld<T = WorldTest>(
  title: string,
  body: (test: T) => void,
  test?: T,
  suite: (title: string, fn: () => void) => void = describe,
): void {
  const fixtures = (test ?? world) as WorldTest;
  suite(title, () => {
    startAppBeforeAll(fixtures);
    fixtures.afterAll(({ teardown }) => teardown.run());
    body(fixtures as T);
  });
}

/** Starts the app of `test` before the tests that follow, under the hook timeout rather than the first test's. */
export function startAppBeforeAll<T>(test: T): void {
  (test as WorldTest).beforeAll(async ({ t }) => void t);
}
