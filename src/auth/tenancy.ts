// The tenancy filter: the one place that says which rows a principal may see.
// Every lookup, node resolution and list goes through these predicates, so a
// row of another tenant is indistinguishable from a missing one (NOT_FOUND).
// A workspace-restricted API key sees its whole organization here; reaching
// a workspace outside its list is SCOPE_DENIED (see keyScope.ts), not NOT_FOUND.
import { Prisma } from '../generated/prisma/client.js';
import { peersWhere } from '../modules/end-user/end-user.rules.js';
import type { Principal } from './principal.js';

const NOTHING = { id: { in: [] as string[] } };

function organizations(principal: Principal): Prisma.OrganizationWhereInput {
  switch (principal.kind) {
    case 'member':
      return { members: { some: { userId: principal.userId } } };
    case 'apiKey':
      return { id: principal.organizationId };
    case 'endUser':
    case 'anonymous':
      return NOTHING;
  }
}

const workspaces = (principal: Principal): Prisma.WorkspaceWhereInput => ({ organization: organizations(principal) });

/**
 * `workspaces` as a SQL condition on a "Workspace" row aliased `w`, for the raw
 * reads of hot paths (resolveConnection). Keep the two in step.
 */
export function visibleWorkspaceSql(principal: Principal): Prisma.Sql {
  switch (principal.kind) {
    case 'member':
      return Prisma.sql`EXISTS (SELECT 1 FROM "Member" m WHERE m."organizationId" = w."organizationId" AND m."userId" = ${principal.userId}::uuid)`;
    case 'apiKey':
      return Prisma.sql`w."organizationId" = ${principal.organizationId}::uuid`;
    case 'endUser':
    case 'anonymous':
      return Prisma.sql`FALSE`;
  }
}

/** An end user sees itself and the end users it can interact with. */
function endUsers(principal: Principal): Prisma.EndUserWhereInput {
  if (principal.kind === 'endUser') {
    const self = { id: principal.endUserId, workspaceId: principal.workspaceId, directoryId: principal.directoryId };
    return { OR: [{ id: self.id }, peersWhere(self)] };
  }
  return { workspace: workspaces(principal) };
}

function connections(principal: Principal): Prisma.ConnectionWhereInput {
  if (principal.kind === 'endUser') return { endUserId: principal.endUserId };
  return { organization: organizations(principal) };
}

const inWorkspace = (principal: Principal) => ({ workspace: workspaces(principal) });

/**
 * Whether a filter built here can match no row at all (NOTHING, or a required
 * relation filtered by NOTHING), so a batch lookup may skip the database.
 */
export function matchesNothing(where: object): boolean {
  if (where === NOTHING) return true;
  const entries = Object.entries(where);
  return entries.length === 1 && (entries[0]![0] === 'organization' || entries[0]![0] === 'workspace') && matchesNothing(entries[0]![1] as object);
}

export const visible = {
  organizations,
  workspaces,
  endUsers,
  connections,
  directories: inWorkspace,
  spaces: inWorkspace,
  workspaceIntegrations: inWorkspace,
  mcpServers: inWorkspace,
  connectSessions: inWorkspace,
  /** Executions of the principal's organizations; an end user's own only. */
  actionExecutions: (principal: Principal): Prisma.ActionExecutionWhereInput =>
    principal.kind === 'endUser' ? { endUserId: principal.endUserId, workspaceId: principal.workspaceId } : { organization: organizations(principal) },
  oauthApps: (principal: Principal): Prisma.OAuthAppWhereInput => ({ organization: organizations(principal) }),
  triggers: (principal: Principal): Prisma.TriggerWhereInput => ({ organization: organizations(principal) }),
  apiKeys: (principal: Principal): Prisma.ApiKeyWhereInput => ({ organization: organizations(principal) }),
  members: (principal: Principal): Prisma.MemberWhereInput => ({ organization: organizations(principal) }),
  /** Invites the caller manages: those of its organizations (roles decide what it may do). */
  managedInvites: (principal: Principal): Prisma.InviteWhereInput => ({ organization: organizations(principal) }),
  /** Invites the caller may read: its organizations' and those addressed to its own email. */
  invites: (principal: Principal): Prisma.InviteWhereInput =>
    principal.kind === 'member'
      ? { OR: [{ organization: organizations(principal) }, { email: principal.email }] }
      : { organization: organizations(principal) },
};
