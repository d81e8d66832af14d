// Where REDIS_URL points: one Redis (redis://, rediss://), a Redis Cluster
// (redis+cluster://h1:p1,h2:p2, any reachable nodes: the rest are discovered) or
// a Sentinel set (redis+sentinel://s1:p1,s2:p2/<master name>[/db]; the sentinels
// name the current master and ioredis follows a failover). `rediss+…` uses TLS;
// user and password in the URL are the data nodes' (sentinels are asked without).
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export type RedisTarget =
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; nodes: { host: string; port: number }[]; auth: Auth; tls: boolean }
  | { mode: 'sentinel'; sentinels: { host: string; port: number }[]; name: string; db: number; auth: Auth; tls: boolean };

interface Auth {
  username?: string;
  password?: string;
}

const TOPOLOGY_URL = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^@/]*)@)?([^/?#@]+)(?:\/([^/?#]*)(?:\/(\d+))?)?\/?$/;

/** Parses REDIS_URL; throws an Error whose message completes "REDIS_URL …". */
export function parseRedisUrl(value: string): RedisTarget {
  const topology = TOPOLOGY_URL.exec(value);
  if (!topology) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // reported below
    }
    if (!url || !/^rediss?:$/.test(url.protocol) || !url.hostname) {
      throw new Error('must be a redis:// or rediss:// URL with a host, redis+cluster://host:port,… or redis+sentinel://host:port,…/<master name>');
    }
    return { mode: 'single', url: value };
  }
  const [, scheme, mode, userinfo, hostList, name, db] = topology;
  const nodes = hostList!.split(',').map((entry) => {
    const node = /^([^:,\s]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(entry.trim());
    if (!node || Number(node[2]) > 65535) throw new Error(`has "${entry}", which is not host:port`);
    return { host: node[1]!.replace(/^\[|\]$/g, ''), port: Number(node[2]) };
  });
  const [username, password] = userinfo === undefined ? [] : userinfo.split(/:(.*)/s).map((part) => decodeURIComponent(part));
  const auth: Auth = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  const tls = scheme === 'rediss';
  if (mode === 'cluster') {
    if (name) throw new Error('redis+cluster:// takes no path (the cluster has one database)');
    return { mode: 'cluster', nodes, auth, tls };
  }
  if (!name) throw new Error('redis+sentinel:// needs the master name as its path: redis+sentinel://host:port,…/<master name>');
  return { mode: 'sentinel', sentinels: nodes, name: decodeURIComponent(name), db: Number(db ?? 0), auth, tls };
}

/** A connection to REDIS_URL's target, with `options` for each Redis connection it opens. */
export function connectRedis(value: string, options: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(value);
  if (target.mode === 'single') return new Redis(value, options);
  const tls = target.tls ? { tls: {} } : {};
  if (target.mode === 'sentinel') {
    return new Redis({ ...options, ...target.auth, ...tls, sentinels: target.sentinels, name: target.name, db: target.db });
  }
  const { retryStrategy, ...redisOptions } = options;
  return new Cluster(target.nodes, {
    redisOptions: { ...redisOptions, ...target.auth, ...tls },
    lazyConnect: options.lazyConnect,
    enableOfflineQueue: options.enableOfflineQueue,
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) ?? null } : {}),
    ...(options.maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest: options.maxRetriesPerRequest } : {}),
  });
}
