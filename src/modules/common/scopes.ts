// Authorization declared on types and fields (scope-auth), shared by modules.
import type { Role } from '../../auth/principal.js';
import type { RoleRequirement } from '../../auth/roles.js';

/** Scopes for a row with an optional workspaceId (organization-level rows pass). */
export const workspaceScoped = (row: { workspaceId: string | null }) =>
  row.workspaceId ? { workspaceInKeyScope: row.workspaceId } : true;

/** Rows only organization principals read (never end users), inside a restricted key's workspaces. */
export const staffOnly = (row: { workspaceId: string | null }) =>
  row.workspaceId ? { $all: { staff: true, workspaceInKeyScope: row.workspaceId } } : { staff: true };

/**
 * A mutation's role requirement on the row its input names: the first of
 * `fields` that is set (most specific first), e.g. `needs('ADMIN', 'workspaceId')`.
 */
export const needs = (atLeast: Role, ...fields: string[]) => roleOnInput({ atLeast }, fields);

/** Like `needs`, and MEMBERs may also act on rows they created (connections). */
export const needsOrCreator = (atLeast: Role, field: string) => roleOnInput({ atLeast, orCreator: true }, [field]);

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
