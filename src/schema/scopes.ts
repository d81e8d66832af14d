// Type-level authorization shared by every object that lives in a workspace:
// a workspace-restricted API key may only read those of its own workspaces.
/** Scopes for a row with an optional workspaceId (organization-level rows pass). */
export const workspaceScoped = (row: { workspaceId: string | null }) =>
  row.workspaceId ? { workspaceInKeyScope: row.workspaceId } : true;
