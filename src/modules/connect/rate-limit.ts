// Request budgets (the connect endpoints' per client address and per connect
// token, the connect links MCP tools/call hands out per end user): a fixed
// window from a key's first request (rate-limiter-flexible). With Redis
// configured every instance counts in the same Redis key, so the budget holds
// however requests spread over instances; on the in-process default (one
// instance) the count is in memory. While Redis is not ready an instance counts
// in its own memory, so the pages keep working and stay limited per instance.
import type { RedisClient } from '../../platform/redis.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface RateLimiter {
  /** Counts one request for `key`: 0 when allowed, else the seconds until it would be. */
  hit(key: string): Promise<number>;
}

/** `points` requests per key in each window of `seconds`. */
export function createRateLimiter(name: string, { points, seconds }: { points: number; seconds: number }, redis: RedisClient | null): RateLimiter {
  const options = { keyPrefix: `heddle:connect-rate:${name}`, points, duration: seconds };
  const memory = new RateLimiterMemory(options);
  const limiter = redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
  return {
    async hit(key) {
      try {
        await limiter.consume(key);
        return 0;
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      }
    },
  };
}
