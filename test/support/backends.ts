// The backend matrix every behavioural suite runs on.
import { describe, inject } from 'vitest';
import { test as world, type WorldTest } from './world.js';

export type DatabaseKind = 'pglite' | 'postgres';
export type PubSubKind = 'memory' | 'redis';
export interface Backend {
  name: string;
  database: DatabaseKind;
  pubsub: PubSubKind;
}

export const ALL_BACKENDS: Backend[] = [
  { name: 'pglite + in-process pub/sub', database: 'pglite', pubsub: 'memory' },
  { name: 'postgres + in-process pub/sub', database: 'postgres', pubsub: 'memory' },
  { name: 'postgres + redis', database: 'postgres', pubsub: 'redis' },
];

/** Why `backend` cannot run here, or null when it can. */
export function unavailable(backend: Backend): string | null {
  const services = inject('services');
  if (backend.database === 'postgres' && services.postgres) return `PostgreSQL unreachable`;
  if (backend.pubsub === 'redis' && services.redis) return `Redis unreachable`;
  return null;
}

/**
 * describe() once per backend; a backend whose service is missing is skipped by name.
 * `body` gets `test` (the world's, or `base` extended with a file's own fixtures) bound
 * to that backend: file-scoped fixtures are kept per test object, so each backend's
 * tests share one app of their own, started before them and stopped after. Such a body must be called at
 * the top level of its file: file-scoped fixtures can be declared nowhere else.
 */
export function describeEachBackend<T = WorldTest>(
  title: string,
  body: (backend: Backend, test: T) => void,
  backends: Backend[] = ALL_BACKENDS,
  base?: T,
): void {
  // Only a body that takes `test` uses the fixtures (and must be at the top level of its file).
  const fixtures = body.length > 1;
  for (const backend of backends) {
    const test = (fixtures ? ((base ?? world) as WorldTest).extend('backend', { scope: 'file' }, backend) : base) as T;
    const suite = () => {
      if (fixtures) {
        // The app starts under the hook timeout, not the first test's, and stops with the block.
        (test as WorldTest).beforeAll(async ({ t }) => void t);
        (test as WorldTest).afterAll(({ teardown }) => teardown.run());
      }
      body(backend, test);
    };
    const why = unavailable(backend);
    if (why) describe.skip(`${title} [${backend.name}] (skipped: ${why})`, suite);
    else describe(`${title} [${backend.name}]`, suite);
  }
}
