// The ledger (issue #6, acceptance 2 and 3) on a redis-server of the test's
// own, killed at half the changes and restarted at three quarters
// (test/support/ledger.ts).
import type { ChildProcess } from 'node:child_process';
import { ledgerTest } from '../support/ledger.js';
import { freePort, killRedis, startRedis } from '../support/redis.js';

ledgerTest('Redis restarted midway', async () => {
  const port = await freePort();
  let redis: ChildProcess = await startRedis(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    outage: {
      down: () => killRedis(redis),
      up: async () => void (redis = await startRedis(port)),
    },
    stop: () => killRedis(redis),
  };
});
