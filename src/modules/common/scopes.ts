// Authorization declared on types and fields (scope-auth), shared by modules.
import type { Role } from '../../auth/principal.js';
import { roleFor, type NodeType, type Verb } from '../../auth/registry.js';
import type { RoleRequirement } from '../../auth/roles.js';

/** Scopes for a row with an optional workspaceId (organization-level rows pass). */
export const workspaceScoped = (row: { workspaceId: string | null }) =>
  row.workspaceId ? { workspaceInKeyScope: row.workspaceId } : true;

/** Rows only organization principals read (never end users), inside a restricted key's workspaces. */
export const staffOnly = (row: { workspaceId: string | null }) =>
  row.workspaceId ? { $all: { staff: true, workspaceInKeyScope: row.workspaceId } } : { staff: true };

/** The registry's role for `verb` on `type`; a verb that needs none is a mistake in the declaration. */
function roleNeeded(type: NodeType, verb: Verb): RoleRequirement {
  const role = roleFor(type, verb);
  if (!role) throw new Error(`the registry declares no role for ${verb} on ${type}`);
  return role;
}

/**
 * A mutation's role requirement, as the permission registry declares it for
 * `verb` on `type`, checked on the row the first set of `fields` names (most
 * specific first; for `create`, the parent), e.g. `may('create', 'Directory', 'workspaceId')`.
 */
export const may = (verb: Verb, type: NodeType, ...fields: string[]) => roleOnInput(roleNeeded(type, verb), fields);

/** A role requirement written out, e.g. `needs('ADMIN', 'workspaceId')`, for mutations on no registry verb. */
export const needs = (atLeast: Role, ...fields: string[]) => roleOnInput({ atLeast }, fields);

/** Reading an organization-level row of `type` (its node type's own check). */
export const mayRead = (type: NodeType) => (row: { organizationId: string }) => ({
  roleOn: { row: { organizationId: row.organizationId, workspaceId: null }, ...roleNeeded(type, 'read') },
});

/** Listing the rows of `type` of an Organization (a field on the organization). */
export const mayList = (type: NodeType) => (organization: { id: string }) => mayRead(type)({ organizationId: organization.id });

function roleOnInput(requirement: RoleRequirement, fields: string[]) {
  return (_root: unknown, args: { input: object }) => {
    const input = args.input as Record<string, unknown>;
    const field = fields.find((name) => input[name] != null) ?? fields[0]!;
    return { role: { ...requirement, target: input[field] as string | undefined } };
  };
}

/** A role in the organization a field's parent Organization is. */
export const orgRole = (atLeast: Role) => (organization: { id: string }) => ({
  roleOn: { row: { organizationId: organization.id, workspaceId: null }, atLeast },
});
