// Roles (DESIGN §3): what a principal may do inside an organization. Members
// hold OWNER, ADMIN or MEMBER; an API key acts with ADMIN rights inside its
// scope (a workspace-restricted key only on rows of its workspaces). Other
// tenants' rows never get here as a "no": the caller has no role there, so
// the check passes and the tenancy lookup answers NOT_FOUND.
import { ScopeDeniedError } from './errors.js';
import type { Principal, Role } from './principal.js';

const RANK: Record<Role, number> = { MEMBER: 1, ADMIN: 2, OWNER: 3 };

export const outranks = (role: Role, needed: Role) => RANK[role] >= RANK[needed];

/** Where a row lives, and who created it (connections). */
export interface Ownership {
  organizationId: string;
  workspaceId: string | null;
  createdById?: string | null;
}

export interface RoleRequirement {
  atLeast: Role;
  /** MEMBERs may also manage rows they created (connections). */
  orCreator?: boolean;
}

/** The role a principal holds in an organization, or null when it has none there. */
export function roleIn(principal: Principal, organizationId: string): Role | null {
  if (principal.kind === 'member') return principal.roles.get(organizationId) ?? null;
  if (principal.kind === 'apiKey') return principal.organizationId === organizationId ? 'ADMIN' : null;
  return null;
}

/**
 * Whether the principal may act on a row: false for end users and anonymous
 * callers; true where it has no role (the lookup then says NOT_FOUND);
 * SCOPE_DENIED when a restricted key reaches outside its workspaces.
 */
export function permits(principal: Principal, row: Ownership | null, needed: RoleRequirement): boolean {
  if (principal.kind !== 'member' && principal.kind !== 'apiKey') return false;
  if (!row) return true;
  const role = roleIn(principal, row.organizationId);
  if (!role) return true;
  if (principal.kind === 'apiKey' && principal.workspaceIds !== null) {
    if (!row.workspaceId || !principal.workspaceIds.includes(row.workspaceId)) throw new ScopeDeniedError();
  }
  if (outranks(role, needed.atLeast)) return true;
  return Boolean(needed.orCreator && principal.kind === 'member' && row.createdById === principal.userId);
}
