// Subscriptions outlive the request that authorised them. When their principal
// loses access (API key revoked, member removed, end user or workspace
// deleted, credential expired) they end with an error. Revocations are
// announced on the pub/sub, so this holds on every instance; expiry is a timer.
import { GraphQLError } from 'graphql';
import type { Principal } from '../../auth/principal.js';
import type { PrincipalCache } from '../../auth/principal-cache.js';
import { followTopics, revokedEndUsers, type AccessRevokedMessage, type PubSubHandle } from '../../platform/pubsub.js';

export class AccessLostError extends GraphQLError {
  constructor(reason: string) {
    super(`subscription ended: ${reason}`, { extensions: { code: 'UNAUTHENTICATED' } });
  }
}

/**
 * Announces, after the change committed, that principals lost access: every
 * instance ends their subscriptions and drops their cached principals; this one
 * at once, the others before the mutation answers (the messages are delivered).
 */
export async function announceAccessRevoked(
  services: { pubsub: PubSubHandle; principals: PrincipalCache },
  revoked: AccessRevokedMessage | readonly AccessRevokedMessage[],
): Promise<void> {
  for (const message of Array.isArray(revoked) ? revoked : [revoked]) {
    services.principals.apply({ topic: 'access-revoked', message });
    services.pubsub.pubsub.publish('access-revoked', message);
  }
  await services.pubsub.delivered();
}

/** What a subscription or an MCP session reaches: its workspace, and an MCP server (mcpToolsChanged, MCP sessions). */
export interface AccessScope {
  organizationId: string;
  workspaceId: string;
  mcpServerId?: string;
}

/** Who holds the access, as far as revocations can name them. */
export interface AccessHolder {
  apiKeyId?: string;
  userId?: string;
  /** The end user acted for: by an end-user token, or by an MCP server token naming one. */
  endUserId?: string;
  /** The MCP server whose own token is the credential: rotating that token ends the access. */
  mcpServerTokenOf?: string;
}

export function holderOf(principal: Principal): AccessHolder {
  switch (principal.kind) {
    case 'apiKey':
      return { apiKeyId: principal.apiKeyId };
    case 'member':
      return { userId: principal.userId };
    case 'endUser':
      return { endUserId: principal.endUserId };
    case 'anonymous':
      return {};
  }
}

/**
 * Why `message` ends the access of `holder` to `scope`, or null when it does
 * not. The one rule for subscriptions and MCP sessions.
 */
export function revocationReason(message: AccessRevokedMessage, holder: AccessHolder, scope: AccessScope): string | null {
  switch (message.kind) {
    case 'apiKey':
      return holder.apiKeyId === message.apiKeyId ? 'the API key was revoked' : null;
    case 'member':
      return holder.userId === message.userId && scope.organizationId === message.organizationId ? 'the member was removed from the organization' : null;
    case 'endUsers':
      return holder.endUserId !== undefined && revokedEndUsers(message).has(holder.endUserId) ? 'the end user was deleted' : null;
    case 'organization':
      return scope.organizationId === message.organizationId ? 'the organization was deleted' : null;
    case 'workspace':
      return scope.workspaceId === message.workspaceId ? 'the workspace was deleted' : null;
    case 'mcpServer':
      if (scope.mcpServerId !== message.mcpServerId) return null;
      if (!message.serverTokenOnly) return 'the MCP server was deleted';
      return holder.mcpServerTokenOf === message.mcpServerId ? 'the MCP server token was rotated' : null;
  }
}

type RevocationListener = (message: AccessRevokedMessage) => void;
/** Per pub/sub: the listeners of its open subscriptions and the one subscription that feeds them. */
const watches = new WeakMap<PubSubHandle, { listeners: Set<RevocationListener>; stop: () => void }>();

/**
 * Calls `listener` with each revocation until the returned function is
 * called. All subscriptions and the MCP endpoint of an instance share one
 * pub/sub subscription (an idle subscriber then holds a set entry, not an
 * iterator of its own), open while any of them listens.
 */
export function onAccessRevoked(pubsub: PubSubHandle, listener: RevocationListener): () => void {
  let watch = watches.get(pubsub);
  if (!watch) {
    const listeners = new Set<RevocationListener>();
    const stop = followTopics(pubsub, { 'access-revoked': (message) => [...listeners].forEach((each) => each(message)) });
    watch = { listeners, stop };
    watches.set(pubsub, watch);
  }
  const current = watch;
  current.listeners.add(listener);
  return () => {
    current.listeners.delete(listener);
    if (current.listeners.size > 0 || watches.get(pubsub) !== current) return;
    watches.delete(pubsub);
    current.stop();
  };
}

/**
 * Runs the stream `open` returns until the principal loses access to the
 * workspace, then throws AccessLostError (the client gets it as the
 * subscription's error). The stream must end when the signal aborts, which it
 * also does when the client unsubscribes.
 */
export function whileAccessHolds<T>(
  deps: { pubsub: PubSubHandle; principal: Principal },
  scope: AccessScope,
  open: (signal: AbortSignal) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const controller = new AbortController();
  const stream = streamWhileAccessHolds(deps, scope, open, controller);
  // An async generator's return() waits for its next yield: a subscriber that
  // unsubscribes from a quiet workspace would keep listening until it changes.
  const finish = stream.return.bind(stream);
  stream.return = (value) => {
    controller.abort();
    return finish(value);
  };
  return stream;
}

async function* streamWhileAccessHolds<T>(
  deps: { pubsub: PubSubHandle; principal: Principal },
  scope: AccessScope,
  open: (signal: AbortSignal) => AsyncIterable<T>,
  controller: AbortController,
): AsyncGenerator<T> {
  const { principal } = deps;
  const holder = holderOf(principal);
  let lost: string | null = null;
  const lose = (reason: string) => {
    lost ??= reason;
    controller.abort();
  };
  const stopWatching = onAccessRevoked(deps.pubsub, (message) => {
    const reason = revocationReason(message, holder, scope);
    if (reason) lose(reason);
  });
  const expiresAt = principal.kind === 'anonymous' ? null : principal.expiresAt;
  // setTimeout holds at most ~24.8 days; longer-lived credentials are not timed.
  const msLeft = expiresAt ? expiresAt.getTime() - Date.now() : Infinity;
  const timer = msLeft < 2 ** 31 ? setTimeout(() => lose('the credential expired'), Math.max(0, msLeft)) : undefined;
  try {
    for await (const value of open(controller.signal)) {
      if (lost) break;
      yield value;
    }
    if (lost) throw new AccessLostError(lost);
  } finally {
    clearTimeout(timer);
    controller.abort();
    stopWatching();
  }
}
