// The ledger (issue #21, scale-out) through a Redis Cluster of three masters
// on loopback ports: REDIS_URL=redis+cluster://…, both processes publish and
// subscribe through the cluster (test/support/ledger.ts).
import { ledgerTest } from '../support/ledger.js';
import { startRedisCluster } from '../support/redis.js';

ledgerTest('through a 3-master Redis Cluster', () => startRedisCluster(3));
