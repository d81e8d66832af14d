// What a failed authorization check says: UNAUTHENTICATED when nobody is
// signed in, SCOPE_DENIED when a restricted API key reached outside its
// workspaces, FORBIDDEN otherwise.
import type { AuthFailure } from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { ScopeDeniedError } from './key-scope.js';
import type { Principal } from './principal.js';

function failedScopes(failure: AuthFailure): string[] {
  if ('failures' in failure) return failure.failures.flatMap(failedScopes);
  return 'scope' in failure ? [failure.scope] : [];
}

export function authorizationError(principal: Principal, failure: AuthFailure): GraphQLError {
  if (principal.kind === 'anonymous') {
    return new GraphQLError('authentication required', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
  if (failedScopes(failure).includes('workspaceInKeyScope')) return new ScopeDeniedError();
  return new GraphQLError('not allowed for this principal', { extensions: { code: 'FORBIDDEN' } });
}
