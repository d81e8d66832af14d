// The backend matrix every behavioural suite runs on.
import { describe, inject } from 'vitest';
import { describeWorld, test as world, type WorldTest } from './world.js';

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
 * A body that takes `test` gets the world's (or `base`, the world extended with a
 * file's own fixtures) bound to that backend: file-scoped fixtures are kept per test
 * object, so each backend's tests share one app of their own, started before them and
 * stopped after (describeWorld). Such a body must run at the top level of its file:
 * file-scoped fixtures can be declared nowhere else.
 */
export function describeEachBackend<T = WorldTest>(
  title: string,
  body: (backend: Backend, test: T) => void,
  backends: Backend[] = ALL_BACKENDS,
  base?: T,
): void {
  const usesFixtures = body.length > 1;
  for (const backend of backends) {
    const why = unavailable(backend);
    const name = why ? `${title} [${backend.name}] (skipped: ${why})` : `${title} [${backend.name}]`;
    const suite = why ? describe.skip : describe;
    if (usesFixtures) {
      const test = ((base ?? world) as WorldTest).extend('backend', { scope: 'file' }, backend) as unknown as T;
      describeWorld(name, (bound) => body(backend, bound), test, suite);
    } else {
      suite(name, () => body(backend, base as T));
    }
  }
}
