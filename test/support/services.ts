// Which backends the suite can use on this machine. Tests always run on the
// embedded default (PGlite + in-process pub/sub); PostgreSQL and Redis add
// their own runs when reachable. HEDDLE_TEST_REQUIRE_SERVICES=1 (set by .ci/run)
// turns a missing service into a failure instead of a skip.
import pg from 'pg';
import { Redis } from 'ioredis';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REQUIRE_SERVICES = process.env.HEDDLE_TEST_REQUIRE_SERVICES === '1';

export interface ServiceAvailability {
  postgres: string | null; // null when reachable, else why not
  redis: string | null;
}

export async function probeServices(): Promise<ServiceAvailability> {
  const postgres = await (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return `${TEST_DATABASE_URL}: ${(error as Error).message}`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  const redis = await (async () => {
    const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return null;
    } catch (error) {
      return `${TEST_REDIS_URL}: ${(error as Error).message}`;
    } finally {
      client.disconnect();
    }
  })();
  return { postgres, redis };
}
