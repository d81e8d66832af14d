// Workspace-restricted API keys: inside their organization they may only reach
// their listed workspaces; reaching another is SCOPE_DENIED (ScopeDeniedError).
import type { Prisma } from '../generated/prisma/client.js';
import { ScopeDeniedError } from './errors.js';
import type { Principal } from './principal.js';

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
