// The store behind the GraphQL response cache (src/app/response-cache.ts): the
// kept in-memory store of @envelop/response-cache, per instance, with two
// additions that make its answers safe to serve:
//
// - Every answer is also tagged with the organizations of the principal it was
//   computed for (they prefix its key). A committed write purges its
//   organization's tag, so whatever the write changed (a row, a list it joined
//   or left, a count) is gone from every answer of that tenant, not only the
//   answers that happen to name the written row.
// - An answer computed while one of its tags or entities was invalidated is
//   not stored: the read may have seen the database before the write. With
//   read replicas, neither is one computed within the replicas' allowed lag
//   after such an invalidation: the replica it read may not have the write yet.
//
// Other instances hear of an invalidation through the pub/sub (Redis when
// configured); the TTL bounds what a lost message can leave behind.
import { createInMemoryCache, type Cache, type CacheEntityRecord } from '@envelop/response-cache';
import type { ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import { encodeGlobalID } from './ids.js';
import type { Logger } from './logger.js';
import { followTopics, type PubSubHandle, type ResponseCacheInvalidation } from './pubsub.js';

const ORGANIZATION = 'Organization';
const KEY_SEPARATOR = '|';
/** How many cached answers an instance keeps (least recently used go first). */
const MAX_ANSWERS = 5000;
/** Keys being computed, and recent invalidations, remembered to refuse answers that raced a write. */
const MAX_TRACKED = 50_000;

const entityKey = (typename: string, id?: string | number) => (id === undefined ? typename : `${typename}:${id}`);

/** A point in the store's history: the generation (raised by every invalidation) and the time. */
type Moment = { generation: number; at: number };

export class ResponseCacheStore implements Cache {
  private readonly answers = createInMemoryCache({ max: MAX_ANSWERS });
  private generation = 0;
  /** Entity or tag → its last invalidation. */
  private readonly invalidatedAt: LRUCache<string, Moment>;
  /** Key of an answer being computed → when its lookup missed. */
  private readonly computing = new LRUCache<string, Moment>({ max: MAX_TRACKED });

  /** replicaLagMs: how long after an invalidation the database read may still miss the write (0: never, no replicas). */
  constructor(
    private readonly ttlMs: number,
    private readonly replicaLagMs = 0,
  ) {
    this.invalidatedAt = new LRUCache({ max: MAX_TRACKED, ttl: ttlMs });
  }

  /** The cache key of an answer for a principal of these organizations. */
  static keyOf(organizationIds: readonly string[], digest: string): string {
    return `${[...organizationIds].sort().join(',')}${KEY_SEPARATOR}${digest}`;
  }

  get(key: string): ExecutionResult | null | undefined {
    const answer = this.answers.get(key) as ExecutionResult | null | undefined;
    if (!answer && !this.computing.has(key)) this.computing.set(key, { generation: this.generation, at: Date.now() });
    return answer;
  }

  set(key: string, result: ExecutionResult, entities: Iterable<CacheEntityRecord>, ttl: number): void {
    const since = this.computing.get(key);
    this.computing.delete(key);
    if (since === undefined) return;
    const tagged = [...entities, ...organizationsOf(key).map((id) => ({ typename: ORGANIZATION, id: encodeGlobalID(ORGANIZATION, id) }))];
    // Invalidated after the lookup, or so shortly before it that a replica may not have had the write.
    const raced = (record: CacheEntityRecord) =>
      [entityKey(record.typename), entityKey(record.typename, record.id)].some((k) => {
        const invalidated = this.invalidatedAt.get(k);
        return invalidated !== undefined && (invalidated.generation > since.generation || invalidated.at > since.at - this.replicaLagMs);
      });
    if (tagged.some(raced)) return;
    this.answers.set(key, result, tagged, Math.min(ttl, this.ttlMs));
  }

  invalidate(entities: Iterable<CacheEntityRecord>): void {
    const list = [...entities];
    if (!list.length) return;
    const now = { generation: ++this.generation, at: Date.now() };
    for (const { typename, id } of list) this.invalidatedAt.set(entityKey(typename, id), now);
    this.answers.invalidate(list);
  }

  /** Purges every answer computed for a principal of these organizations. */
  invalidateOrganizations(organizationIds: Iterable<string>): void {
    this.invalidate([...organizationIds].map((id) => ({ typename: ORGANIZATION, id: encodeGlobalID(ORGANIZATION, id) })));
  }
}

function organizationsOf(key: string): string[] {
  const prefix = key.slice(0, Math.max(0, key.indexOf(KEY_SEPARATOR)));
  return prefix ? prefix.split(',') : [];
}

/** Tells every instance's response cache of a committed write (also from an instance whose own cache is off). */
export function announceWrite(pubsub: PubSubHandle, change: ResponseCacheInvalidation): void {
  pubsub.pubsub.publish('response-cache', change);
}

/**
 * The response cache of this instance and its invalidations: applied here at
 * once, and sent to every other instance through the pub/sub.
 */
export class ResponseCache {
  readonly store: ResponseCacheStore;
  private stopListening = () => {};

  readonly ttlMs: number;

  constructor(
    private readonly pubsub: PubSubHandle,
    settings: { ttlMs: number; replicaLagMs: number },
  ) {
    this.ttlMs = settings.ttlMs;
    this.store = new ResponseCacheStore(settings.ttlMs, settings.replicaLagMs);
  }

  /** A committed write in these organizations (and on these rows): purged here before the caller is answered, then everywhere. */
  written(change: ResponseCacheInvalidation): void {
    this.apply(change);
    announceWrite(this.pubsub, change);
  }

  private apply({ organizationIds, entities }: ResponseCacheInvalidation): void {
    this.store.invalidateOrganizations(organizationIds);
    this.store.invalidate(entities);
  }

  /**
   * Applies what other instances wrote, and the changes that reach the graph
   * without a GraphQL mutation (hosted connect, a connection's status set by a
   * refresh or an action's 401). Config and MCP tool events come from
   * mutations, whose organizations are purged already.
   */
  listen(logger: Logger): void {
    const workspace = (id: string) => ({ typename: 'Workspace', id: encodeGlobalID('Workspace', id) });
    this.stopListening = followTopics(
      this.pubsub,
      {
        'response-cache': (message) => this.apply(message),
        'connections-changed': (message) =>
          this.store.invalidate([
            workspace(message.workspaceId),
            ...(message.endUserId ? [{ typename: 'EndUser', id: encodeGlobalID('EndUser', message.endUserId) }] : []),
          ]),
        'connection-status': (message) =>
          this.store.invalidate([
            { typename: 'Connection', id: encodeGlobalID('Connection', message.connectionId) },
            ...(message.workspaceId ? [workspace(message.workspaceId)] : []),
          ]),
      },
      { failed: (error, topic) => logger.error({ err: error, topic }, 'the response cache stopped hearing invalidations') },
    );
  }

  close(): void {
    this.stopListening();
  }
}
