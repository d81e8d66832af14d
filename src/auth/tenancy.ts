// The tenancy filter: the one place that says which rows a principal may see.
// Every resolver that reads by id or lists goes through these predicates, so a
// row of another tenant is indistinguishable from a missing one.
import type { Prisma } from '../generated/prisma/client.js';
import type { Principal } from './principal.js';

const NOTHING = { id: { in: [] as string[] } };

export function visibleOrganizations(principal: Principal): Prisma.OrganizationWhereInput {
  switch (principal.kind) {
    case 'member':
      return { members: { some: { userId: principal.userId } } };
    case 'anonymous':
      return NOTHING;
  }
}

export function visibleWorkspaces(principal: Principal): Prisma.WorkspaceWhereInput {
  return { organization: visibleOrganizations(principal) };
}

/** Rows that hang off a workspace (integrations, directories, spaces, end users, MCP servers). */
export function inVisibleWorkspace(principal: Principal): { workspace: Prisma.WorkspaceWhereInput } {
  return { workspace: visibleWorkspaces(principal) };
}

/** Rows that hang off an organization (connections, triggers). */
export function inVisibleOrganization(principal: Principal): { organization: Prisma.OrganizationWhereInput } {
  return { organization: visibleOrganizations(principal) };
}
