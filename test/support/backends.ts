// The backend matrix every behavioural suite runs on.
import { describe, inject } from 'vitest';

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

/** describe() once per backend; a backend whose service is missing is skipped by name. */
export function describeEachBackend(
  title: string,
  body: (backend: Backend) => void,
  backends: Backend[] = ALL_BACKENDS,
): void {
  for (const backend of backends) {
    const why = unavailable(backend);
    if (why) describe.skip(`${title} [${backend.name}] (skipped: ${why})`, () => body(backend));
    else describe(`${title} [${backend.name}]`, () => body(backend));
  }
}
