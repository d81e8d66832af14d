// What a failed authentication or authorization says: UNAUTHENTICATED when
// nobody (valid) is signed in, SCOPE_DENIED when a restricted API key reached
// outside its workspaces, FORBIDDEN otherwise.
import type { AuthFailure } from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';

export class UnauthenticatedError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

/**
 * A workspace-restricted API key reached a row of its organization outside
 * its workspaces (the row exists for this tenant, so NOT_FOUND would be a lie;
 * other tenants never get here).
 */
export class ScopeDeniedError extends GraphQLError {
  constructor() {
    super('this API key is restricted to other workspaces', { extensions: { code: 'SCOPE_DENIED' } });
  }
}

function failedScopes(failure: AuthFailure): string[] {
  if ('failures' in failure) return failure.failures.flatMap(failedScopes);
  return 'scope' in failure ? [failure.scope] : [];
}

export function authorizationError(principal: { kind: string }, failure: AuthFailure): GraphQLError {
  if (principal.kind === 'anonymous') return new UnauthenticatedError('authentication required');
  if (failedScopes(failure).includes('workspaceInKeyScope')) return new ScopeDeniedError();
  return new GraphQLError('not allowed for this principal', { extensions: { code: 'FORBIDDEN' } });
}
