// The pub/sub that tells subscribers a committed change exists: in-process by
// default, Redis when REDIS_URL is set so that every instance hears every change
// (one Redis, a Cluster or a Sentinel set: redis.ts).
// It is only a doorbell: the outbox in the database is the record (outbox.ts).
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from 'graphql-yoga';
import { redactUrl, type Config } from './config.js';
import type { Logger } from './logger.js';
import { connectRedis, type RedisClient } from './redis.js';

export interface ConfigEventMessage {
  topic: 'WORKSPACE_CONFIG' | 'MCP_TOOLS';
  subjectId: string;
  workspaceId: string;
  version: number;
  kind: string;
  payload: Record<string, unknown>;
  occurredAt: string;
}

/** A connection's status changed; subscribers re-read it. workspaceId null: no workspace uses it. */
export interface ConnectionStatusMessage {
  workspaceId: string | null;
  connectionId: string;
}

/**
 * What end users' connections resolve to may have changed in a workspace (a
 * connection created, deleted or changing status, an end user moved): MCP
 * sessions acting for end users recompute their tools. endUserId null: any.
 */
export interface ConnectionsChangedMessage {
  workspaceId: string;
  endUserId: string | null;
}

/** A hosted connect session ended (succeeded or failed); subscribers re-read it. */
export interface ConnectSessionMessage {
  workspaceId: string;
  sessionId: string;
}

/** A principal lost access: its open subscriptions, on every instance, must end. */
export type AccessRevokedMessage =
  | { kind: 'apiKey'; apiKeyId: string }
  | { kind: 'member'; userId: string; organizationId: string }
  /** End users deleted (one, or a sync's removals in chunks of REVOKED_END_USERS_PER_MESSAGE). */
  | { kind: 'endUsers'; endUserIds: string[] }
  | { kind: 'organization'; organizationId: string }
  | { kind: 'workspace'; workspaceId: string }
  /** An MCP server was deleted, or (serverTokenOnly) its token rotated: its MCP sessions end. */
  | { kind: 'mcpServer'; mcpServerId: string; serverTokenOnly: boolean };

/** End users per access-revoked message: a sync that removes 10,000 sends 10 messages, not 10,000. */
const REVOKED_END_USERS_PER_MESSAGE = 1000;

/** The revocations of deleted end users, REVOKED_END_USERS_PER_MESSAGE to a message. */
export function endUsersRevoked(endUserIds: readonly string[]): AccessRevokedMessage[] {
  const messages: AccessRevokedMessage[] = [];
  for (let i = 0; i < endUserIds.length; i += REVOKED_END_USERS_PER_MESSAGE) {
    messages.push({ kind: 'endUsers', endUserIds: endUserIds.slice(i, i + REVOKED_END_USERS_PER_MESSAGE) });
  }
  return messages;
}

const endUserSets = new WeakMap<object, ReadonlySet<string>>();
/** The end users a revocation names, as a set made once per message: it is checked against every subscription and cached principal. */
export function revokedEndUsers(message: Extract<AccessRevokedMessage, { kind: 'endUsers' }>): ReadonlySet<string> {
  let ids = endUserSets.get(message);
  if (!ids) endUserSets.set(message, (ids = new Set(message.endUserIds)));
  return ids;
}

/** A committed write: every instance purges the cached answers of these organizations and these rows. */
export interface ResponseCacheInvalidation {
  organizationIds: string[];
  entities: { typename: string; id: string }[];
}
/**
 * What an authenticated principal was read from changed, though nobody lost
 * access (that is access-revoked): every instance drops the principals it
 * cached from it (src/auth/principal-cache.ts), which revocations do too.
 */
export type PrincipalChangedMessage =
  /** A user's memberships: a role changed, an organization created or joined, ownership moved. */
  | { kind: 'user'; userId: string }
  /** An end user moved to another directory (its peers changed). */
  | { kind: 'endUser'; endUserId: string }
  /** A directory was deleted: its end users moved to the workspace's default one. */
  | { kind: 'directory'; directoryId: string }
  /** A sync moved or removed end users of the workspace. */
  | { kind: 'workspaceEndUsers'; workspaceId: string };

export type Topics = {
  'workspace-config': [workspaceId: string, event: ConfigEventMessage];
  'mcp-tools': [mcpServerId: string, event: ConfigEventMessage];
  'connections-changed': [message: ConnectionsChangedMessage];
  'access-revoked': [message: AccessRevokedMessage];
  'principal-changed': [message: PrincipalChangedMessage];
  'connection-status': [event: ConnectionStatusMessage];
  'connect-session': [event: ConnectSessionMessage];
  'response-cache': [message: ResponseCacheInvalidation];
};

/** The pub/sub channel that announces an outbox topic's events (keyed by the event's subject). */
export const channelOf = (topic: ConfigEventMessage['topic']) => (topic === 'WORKSPACE_CONFIG' ? 'workspace-config' : 'mcp-tools');

/** Topics whose messages name the workspace they concern. */
export type WorkspaceTopic = 'connection-status' | 'connect-session';

/**
 * The messages of `topic` about one workspace, until `signal` aborts. They
 * carry ids only (readers re-read the row), so a reader that falls behind
 * keeps only the latest unread message per row: memory bounded by the rows,
 * and no queue for the publisher to overflow.
 */
export async function* workspaceMessages<K extends WorkspaceTopic>(
  handle: PubSubHandle,
  topic: K,
  workspaceId: string,
  signal: AbortSignal,
): AsyncGenerator<Topics[K][0]> {
  const unread = new Map<string, Topics[K][0]>();
  // The rows with unread messages, in the order they got their first one (each row id queued once).
  const rows = listen<Topics[K][0], string>(handle, topic, Infinity, (message, push) => {
    if (message.workspaceId !== workspaceId) return;
    const row = rowOf(message);
    if (!unread.has(row)) push(row);
    unread.set(row, message);
  });
  signal.addEventListener('abort', () => void rows.return(), { once: true });
  for await (const row of rows) {
    const message = unread.get(row)!;
    unread.delete(row);
    yield message;
  }
}

const rowOf = (message: Topics[WorkspaceTopic][0]) => ('sessionId' in message ? message.sessionId : message.connectionId);

/** Topics whose messages go to every subscriber, published without a subject id. */
export type BroadcastTopic = { [K in keyof Topics]: Topics[K] extends [unknown] ? K : never }[keyof Topics];

export type TopicHandlers = { [K in BroadcastTopic]?: (message: Topics[K][0]) => void };

/**
 * Follows what every instance announces, for state this instance keeps (the
 * caches of principals and of responses): each message of a topic goes to its
 * handler; `missed` runs each time the subscribing connection is back after
 * it was lost (messages published meanwhile never arrive); `failed` when a
 * topic's subscription breaks (unhandled without it). Until the returned
 * function is called, which unsubscribes: call it before the pub/sub closes.
 */
export function followTopics(
  handle: PubSubHandle,
  handlers: TopicHandlers,
  options: { missed?: () => void; failed?: (error: unknown, topic: BroadcastTopic) => void } = {},
): () => void {
  const stops: (() => void)[] = Object.entries(handlers).map(([topic, handler]) => {
    // Broadcast topics take no id argument; the generic signature cannot see that.
    const subscribe = handle.pubsub.subscribe as (topic: BroadcastTopic) => AsyncIterableIterator<unknown>;
    const messages = subscribe.call(handle.pubsub, topic as BroadcastTopic);
    void (async () => {
      try {
        for await (const message of messages) (handler as (message: unknown) => void)(message);
      } catch (error) {
        if (!options.failed) throw error;
        options.failed(error, topic as BroadcastTopic);
      }
    })();
    return () => void messages.return?.();
  });
  if (options.missed) stops.push(handle.onResubscribed(options.missed));
  return () => stops.forEach((stop) => stop());
}

/** The topics whose messages are about one subject, named by the id they are published with. */
type SubjectTopic = 'workspace-config' | 'mcp-tools';

/**
 * The messages of `topic` about `id`, as `pubsub.subscribe(topic, id)` gives
 * them, except that at most `backlog` unread ones are kept: a reader too slow
 * to keep up loses the oldest. (The pub/sub's own queue is unbounded, and past
 * 1,024 unread messages its publisher throws.) Listens from this call on.
 */
export function subscribeLatest<K extends SubjectTopic>(handle: PubSubHandle, topic: K, id: string, backlog: number): UnreadQueue<Topics[K][1]> {
  // The channel name createPubSub gives a topic and an id.
  return listen<Topics[K][1]>(handle, `${topic}:${id}`, backlog);
}

/**
 * What is published on `channel`, as `onMessage` pushes it, until read: at
 * most `capacity` unread values, the oldest dropped. Listens at once, until
 * return().
 */
function listen<M, T = M>(
  handle: PubSubHandle,
  channel: string,
  capacity: number,
  onMessage: (message: M, push: (value: T) => void) => void = (message, push) => push(message as unknown as T),
): UnreadQueue<T> {
  const listener = (event: Event) => onMessage((event as CustomEvent<M>).detail, (value) => queue.push(value));
  const queue = new UnreadQueue<T>(capacity, () => handle.eventTarget.removeEventListener(channel, listener));
  handle.eventTarget.addEventListener(channel, listener);
  return queue;
}

/**
 * An async iterator of pushed values with at most `capacity` unread, the
 * oldest dropped first. Not @repeaterjs/repeater's SlidingBuffer: a Repeater
 * costs about 10 µs of CPU per value pushed and read, this about 1 µs, and a
 * config change is pushed to every subscriber of the workspace.
 */
export class UnreadQueue<T> implements AsyncIterableIterator<T> {
  private readonly unread: T[] = [];
  private readonly readers: ((result: IteratorResult<T>) => void)[] = [];
  private ended = false;

  constructor(
    private readonly capacity: number,
    private readonly onEnd: () => void,
  ) {}

  push(value: T): void {
    if (this.ended) return;
    const reader = this.readers.shift();
    if (reader) return reader({ value, done: false });
    this.unread.push(value);
    if (this.unread.length > this.capacity) this.unread.shift();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.unread.length) return Promise.resolve({ value: this.unread.shift()!, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.readers.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.ended) {
      this.ended = true;
      this.unread.length = 0;
      this.onEnd();
      for (const reader of this.readers.splice(0)) reader({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

export interface PubSubHandle {
  kind: 'memory' | 'redis';
  pubsub: PubSub<Topics>;
  /** What `pubsub` publishes on and subscribes to (subscribeLatest listens there too). */
  eventTarget: EventTarget;
  /** The publishing connection, also for state every instance shares (connect rate limits); null in-process. */
  redis: RedisClient | null;
  /** Each Redis client and whether it is ready (metrics); empty in-process. */
  redisClients(): { client: string; ready: boolean }[];
  /**
   * Calls `listener` each time the subscribing connection is back after it was
   * lost (its subscriptions restored): messages published meanwhile were missed.
   * Never in-process. Returns the function that removes the listener.
   */
  onResubscribed(listener: () => void): () => void;
  /**
   * Resolves once what this instance published so far has reached every
   * subscribed connection (Redis answers a later PING after it), so that an
   * answer sent next cannot overtake it; at once in-process or while Redis is
   * unreachable, and after DELIVERY_WAIT_MS at the longest. Never rejects.
   */
  delivered(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How long delivered() waits for Redis at the most. */
export const DELIVERY_WAIT_MS = 500;

export class PubSubUnavailableError extends Error {
  override name = 'PubSubUnavailableError';
}

export async function openPubSub(config: Config['pubsub'], logger: Logger): Promise<PubSubHandle> {
  if (config.kind === 'memory') {
    const eventTarget = new EventTarget();
    return {
      kind: 'memory',
      pubsub: createPubSub<Topics>({ eventTarget }),
      eventTarget,
      redis: null,
      redisClients: () => [],
      onResubscribed: () => () => {},
      delivered: async () => {},
      ping: async () => {},
      close: async () => {},
    };
  }
  await probeRedis(config.url);
  const publishClient = connectRedis(config.url, { connectionName: 'heddle-publish' });
  // On a Cluster, plain SUBSCRIBE on one node hears every PUBLISH (the cluster bus forwards it). Not sharded
  // pub/sub: @graphql-yoga/redis-event-target only calls subscribe/publish, and the 'ready' after a lost
  // connection, which onResubscribed relies on, is the Cluster's own, not its per-shard subscribers'.
  const subscribeClient = connectRedis(config.url, { connectionName: 'heddle-subscribe' });
  for (const client of [publishClient, subscribeClient]) {
    // ioredis reconnects by itself; an outage is logged, never fatal.
    client.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection error'));
  }
  const eventTarget = createRedisEventTarget<never>({ publishClient, subscribeClient });
  const resubscribed = new Set<() => void>();
  let lost = false;
  subscribeClient.on('close', () => (lost = true));
  subscribeClient.on('ready', () => {
    if (!lost) return;
    lost = false;
    // ioredis sends the SUBSCRIBEs right after 'ready'; a PING answered after them means they hold.
    void subscribeClient
      .ping()
      .catch(() => {})
      .then(() => resubscribed.forEach((listener) => listener()));
  });
  return {
    kind: 'redis',
    pubsub: createPubSub<Topics>({ eventTarget }),
    eventTarget,
    redis: publishClient,
    redisClients: () => [
      { client: 'publish', ready: publishClient.status === 'ready' },
      { client: 'subscribe', ready: subscribeClient.status === 'ready' },
    ],
    onResubscribed(listener) {
      resubscribed.add(listener);
      return () => resubscribed.delete(listener);
    },
    async delivered() {
      // Offline, ioredis would queue the PING until Redis is back: nothing is delivered meanwhile anyway.
      if (publishClient.status !== 'ready') return;
      let timer: NodeJS.Timeout | undefined;
      const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, DELIVERY_WAIT_MS)));
      await Promise.race([publishClient.ping().catch(() => {}), givenUp]);
      clearTimeout(timer);
    },
    async ping() {
      await publishClient.ping();
    },
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/** Fails fast, with the variable's name, when Redis cannot be reached at start-up. */
async function probeRedis(url: string): Promise<void> {
  const probe = connectRedis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    // ioredis rejects with "Connection is closed"; the 'error' event has the real reason.
    const reason = (cause ?? (error as Error)).message;
    throw new PubSubUnavailableError(`cannot reach REDIS_URL (${redactUrl(url)}): ${reason}`);
  } finally {
    probe.disconnect();
  }
}
