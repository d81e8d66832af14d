// The GraphQL response cache: Yoga's response-cache plugin over the store of
// src/platform/response-cache.ts. A read query's answer is kept per principal
// and visibility (everything the principal carries: its id, role per
// organization, key permissions and workspaces, end-user directory), so two
// callers share an answer only when they are the same principal with the same
// rights. The caller is authenticated before a cached answer is served: a
// revoked, expired or deleted credential never reads one.
import { createHash, randomUUID } from 'node:crypto';
import { useResponseCache } from '@graphql-yoga/plugin-response-cache';
import type { Plugin } from 'graphql-yoga';
import { organizationsOf, type Authenticator, type Principal } from '../auth/principal.js';
import { ResponseCacheStore, type ResponseCache } from '../platform/response-cache.js';

/**
 * Never served from the cache: secrets, hosted connect, executions, usage and
 * audit (their rows change without a write of the caller's), the viewer (its
 * memberships), resolution decisions, and last-use times.
 */
const UNCACHED: Record<string, number> = Object.fromEntries(
  [
    'ConnectionCredentials',
    'ConnectionResolution',
    'ResolutionExplanation',
    'ConnectSession',
    'CreatedConnectSession',
    'ActionExecution',
    'ActionExecutionResolution',
    'AuditEvent',
    'OrganizationUsage',
    'WorkspaceUsage',
    'Viewer',
    'EndUserToken',
    'Query.viewer',
    'Query.explainResolution',
    'Query.actionExecution',
    'Organization.usage',
    'Organization.auditEvents',
    'Workspace.actionExecutions',
    'ApiKey.lastUsedAt',
  ].map((coordinate) => [coordinate, 0]),
);

interface CacheIdentity {
  /** Who the answer is for, with every right that can change it. */
  session: string;
  organizationIds: string[];
}

/** The principal's cache identity; null for anonymous callers, whose answers are not kept. */
export function cacheIdentity(principal: Principal): CacheIdentity | null {
  if (principal.kind === 'anonymous') return null;
  // Expiry is not a right: an expired credential fails authentication before any lookup.
  const { expiresAt: _expiresAt, ...rights } = principal;
  // Maps (roles) and lists (permissions, workspaces) in a stable order: the same rights, the same session.
  const session = JSON.stringify(rights, (_key, value: unknown) =>
    value instanceof Map ? Object.fromEntries([...value].sort()) : Array.isArray(value) ? [...(value as string[])].sort() : value,
  );
  return { session, organizationIds: organizationsOf(principal) };
}

/** Principals authenticated for the cache lookup, handed to the request's context so it does not authenticate twice. */
export type RequestPrincipals = WeakMap<Request, Principal>;

export function responseCachePlugin(deps: { cache: ResponseCache; authenticator: Authenticator; principals: RequestPrincipals }): Plugin {
  const identities = new WeakMap<Request, CacheIdentity>();
  return useResponseCache({
    cache: deps.cache.store,
    ttl: deps.cache.ttlMs,
    ttlPerSchemaCoordinate: UNCACHED,
    includeExtensionMetadata: false,
    async session(request) {
      let principal: Principal;
      try {
        principal = await deps.authenticator.authenticate(request.headers.get('authorization'));
      } catch {
        return null; // not cached: the request's context authenticates again and answers the error
      }
      deps.principals.set(request, principal);
      const identity = cacheIdentity(principal);
      if (identity) identities.set(request, identity);
      return identity?.session ?? null;
    },
    // Only requests whose caller was identified above: not anonymous ones, not
    // graphql-ws operations (no HTTP request), not the ETag revalidation that
    // Yoga's plugin would answer before anyone is authenticated.
    enabled: (request) => identities.has(request),
    buildResponseCacheKey({ documentString, variableValues, operationName, request }) {
      const identity = identities.get(request);
      let text: string;
      try {
        text = JSON.stringify([identity?.session ?? null, documentString, variableValues ?? null, operationName ?? null]);
      } catch {
        // Variables too deep to serialise: not cached; validation answers them with BAD_USER_INPUT.
        identities.delete(request);
        return randomUUID();
      }
      return ResponseCacheStore.keyOf(identity?.organizationIds ?? [], createHash('sha256').update(text).digest('base64url'));
    },
  });
}
