// Workspace-restricted API keys: inside their organization they may only reach
// their listed workspaces. Reaching another is SCOPE_DENIED (the row exists for
// this tenant, so NOT_FOUND would be a lie; other tenants never get here).
import { GraphQLError } from 'graphql';
import type { Prisma } from '../generated/prisma/client.js';
import type { Principal } from './principal.js';

export class ScopeDeniedError extends GraphQLError {
  constructor() {
    super('this API key is restricted to other workspaces', { extensions: { code: 'SCOPE_DENIED' } });
  }
}

export function inKeyScope(principal: Principal, workspaceId: string): boolean {
  return principal.kind !== 'apiKey' || principal.workspaceIds === null || principal.workspaceIds.includes(workspaceId);
}

export function assertInKeyScope(principal: Principal, workspaceId: string): void {
  if (!inKeyScope(principal, workspaceId)) throw new ScopeDeniedError();
}

/** For lists: a restricted key's workspaces only (no error per row). */
export function keyScopeWorkspaces(principal: Principal): Prisma.WorkspaceWhereInput {
  return principal.kind === 'apiKey' && principal.workspaceIds !== null ? { id: { in: principal.workspaceIds } } : {};
}
