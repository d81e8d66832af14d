// The connect pages' request budgets hold across instances when Redis is
// configured: two apps sharing one Redis answer from one budget per client
// address and per token, however the requests spread over them. Without Redis
// ready, an instance still limits from its own count.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRateLimiter } from '../../src/modules/connect/rate-limit.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { unavailable, type Backend } from '../support/backends.js';

const SHARED: Backend = { name: 'pglite + redis', database: 'pglite', pubsub: 'redis' };
const LIMITS = { HEDDLE_CONNECT_TOKEN_RATE_LIMIT: '3', HEDDLE_CONNECT_IP_RATE_LIMIT: '8', HEDDLE_TRUST_PROXY_HOPS: '1' };

const why = unavailable(SHARED);
describe.skipIf(why)(`two instances sharing Redis${why ? ` (skipped: ${why})` : ''}`, () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(SHARED, { env: LIMITS }), startTestApp(SHARED, { env: LIMITS })]);
  });
  afterAll(() => Promise.all([a?.stop(), b?.stop()]));

  // Fresh addresses and tokens each run: Redis outlives the test, and other files share it.
  const address = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;
  const token = () => `hcs_${randomBytes(32).toString('base64url').slice(0, 43)}`;
  const get = (app: TestApp, path: string, from: string) => fetch(`${app.url}/connect/${path}`, { headers: { 'x-forwarded-for': from } });

  test('one budget per connect token: requests alternating between the instances are limited together', async () => {
    const link = token();
    const statuses: number[] = [];
    // Each instance sees at most 3 of these 5; on its own it would allow them all.
    for (const app of [a, b, a, b, a]) statuses.push((await get(app, link, address())).status);
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    const refused = await get(b, link, address());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await refused.text()).toContain('Too many requests');
    expect((await get(a, token(), address())).status).toBe(404); // another link has its own budget
  });

  test('one budget per client address: 8 requests spread over both instances, the 9th refused on either', async () => {
    const client = address();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(i % 2 ? b : a, token(), client)).status);
    expect(statuses).toEqual(Array(8).fill(404));
    expect((await get(a, token(), client)).status).toBe(429);
    expect((await get(b, 'callback', client)).status).toBe(429);
    expect((await get(b, token(), address())).status).toBe(404); // another address has its own budget
  });
});

test('while Redis is not ready, each instance limits from its own count', async () => {
  // Nothing listens on port 1; lazyConnect: the client never becomes ready.
  const away = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
  try {
    const limiter = createRateLimiter('test', { points: 2, seconds: 60 }, away);
    const key = randomBytes(8).toString('hex');
    const waits = [await limiter.hit(key), await limiter.hit(key), await limiter.hit(key)];
    expect(waits.slice(0, 2)).toEqual([0, 0]);
    expect(waits[2]).toBeGreaterThan(0);
    expect(waits[2]).toBeLessThanOrEqual(60);
  } finally {
    away.disconnect();
  }
});
