// Authenticated principals kept in process, so that a credential seen recently
// costs no database statement. Keyed by the SHA-256 of the bearer token, never
// the token. An entry is dropped
// - when a change names it: revocations (access-revoked) and other changes of
//   what it was read from (principal-changed) reach every instance over the
//   pub/sub, and the instance that made the change drops it before answering;
// - when its credential expires (checked on every hit);
// - HEDDLE_AUTH_CACHE_TTL_MS after it was read, whatever happens: what a missed
//   message (Redis down, instances without Redis) leaves stale lasts no longer;
// - when the pub/sub resubscribes after a lost connection (messages were missed).
import { LRUCache } from 'lru-cache';
import { followTopics, revokedEndUsers, type AccessRevokedMessage, type PrincipalChangedMessage, type PubSubHandle } from '../platform/pubsub.js';
import type { Principal, PrincipalStore } from './principal.js';

export type AuthenticatedPrincipal = Exclude<Principal, { kind: 'anonymous' }>;

/** Every change that makes cached principals stale: a revocation, or another change of what they were read from. */
export type PrincipalChange = { topic: 'access-revoked'; message: AccessRevokedMessage } | { topic: 'principal-changed'; message: PrincipalChangedMessage };

/** Credentials kept at most; the least recently used goes first. */
const MAX_ENTRIES = 10_000;

/** Whether `change` makes the cached `principal` stale. */
export function isStaleAfter(change: PrincipalChange, principal: AuthenticatedPrincipal): boolean {
  return change.topic === 'access-revoked' ? revokes(change.message, principal) : changes(change.message, principal);
}

function revokes(message: AccessRevokedMessage, principal: AuthenticatedPrincipal): boolean {
  switch (message.kind) {
    case 'apiKey':
      return principal.kind === 'apiKey' && principal.apiKeyId === message.apiKeyId;
    case 'member':
      return principal.kind === 'member' && principal.userId === message.userId;
    case 'endUsers':
      return principal.kind === 'endUser' && revokedEndUsers(message).has(principal.endUserId);
    case 'organization':
      return principal.kind === 'member' ? principal.roles.has(message.organizationId) : principal.organizationId === message.organizationId;
    case 'workspace':
      // A key restricted to the workspace loses it from its list; an end user of it is gone.
      if (principal.kind === 'apiKey') return principal.workspaceIds?.includes(message.workspaceId) ?? false;
      return principal.kind === 'endUser' && principal.workspaceId === message.workspaceId;
    case 'mcpServer':
      return false; // MCP server tokens are no principals of the authenticator
  }
}

function changes(message: PrincipalChangedMessage, principal: AuthenticatedPrincipal): boolean {
  switch (message.kind) {
    case 'user':
      return principal.kind === 'member' && principal.userId === message.userId;
    case 'endUser':
      return principal.kind === 'endUser' && principal.endUserId === message.endUserId;
    case 'directory':
      return principal.kind === 'endUser' && principal.directoryId === message.directoryId;
    case 'workspaceEndUsers':
      return principal.kind === 'endUser' && principal.workspaceId === message.workspaceId;
  }
}

/** What a read in flight heard: the changes applied meanwhile, or that everything was dropped. */
type Heard = { changes: PrincipalChange[]; everything: boolean };

export class PrincipalCache implements PrincipalStore {
  private readonly entries: LRUCache<string, AuthenticatedPrincipal>;
  /** Reads in flight: one that a change applied meanwhile names is not cached (it may predate the change). */
  private readonly reading = new Set<Heard>();
  /** Set between start and stop: stops following changes. */
  private stopListening: (() => void) | null = null;

  constructor(
    private readonly pubsub: PubSubHandle,
    private readonly ttlMs: number,
  ) {
    this.entries = new LRUCache({ max: MAX_ENTRIES, ttl: Math.max(ttlMs, 1) });
  }

  /** The principal of the token hashed `tokenHash`: cached, or `load`ed (and cached when no change came meanwhile). */
  async principalOf<P extends Principal>(tokenHash: string, load: () => Promise<P>): Promise<P> {
    const cached = this.entries.get(tokenHash) as (P & AuthenticatedPrincipal) | undefined;
    if (cached && (!cached.expiresAt || cached.expiresAt.getTime() > Date.now())) return cached;
    if (cached) this.entries.delete(tokenHash);
    const heard: Heard = { changes: [], everything: false };
    this.reading.add(heard);
    let principal: P;
    try {
      principal = await load();
    } finally {
      this.reading.delete(heard);
    }
    // Kept only while changes are followed (between start and stop), and when none that names it came during the read.
    const following = this.stopListening !== null;
    if (principal.kind === 'anonymous' || this.ttlMs === 0 || !following || heard.everything) return principal;
    if (!heard.changes.some((change) => isStaleAfter(change, principal as AuthenticatedPrincipal))) this.entries.set(tokenHash, principal);
    return principal;
  }

  /** Drops, on this instance, what `change` makes stale. */
  apply(change: PrincipalChange): void {
    for (const heard of this.reading) heard.changes.push(change);
    const stale: string[] = [];
    this.entries.forEach((principal, tokenHash) => isStaleAfter(change, principal) && stale.push(tokenHash));
    for (const tokenHash of stale) this.entries.delete(tokenHash);
  }

  /**
   * After a change committed, before the mutation answers: drops what it makes
   * stale here, and on every other instance through the pub/sub (delivered
   * before this resolves, so the answer cannot overtake it).
   */
  async announce(message: PrincipalChangedMessage): Promise<void> {
    this.apply({ topic: 'principal-changed', message });
    this.pubsub.pubsub.publish('principal-changed', message);
    await this.pubsub.delivered();
  }

  /** Applies the changes other instances announce, until stop(). */
  start(): void {
    this.stopListening = followTopics(
      this.pubsub,
      {
        'access-revoked': (message) => this.apply({ topic: 'access-revoked', message }),
        'principal-changed': (message) => this.apply({ topic: 'principal-changed', message }),
      },
      { missed: () => this.clear() },
    );
  }

  /** Stops following changes and keeps nothing from now on (call it before the pub/sub closes: it unsubscribes). */
  stop(): void {
    this.stopListening?.();
    this.stopListening = null;
    this.clear();
  }

  private clear(): void {
    for (const heard of this.reading) heard.everything = true;
    this.entries.clear();
  }
}
