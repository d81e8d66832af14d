// Resolving an id from an argument or input to a row the caller may see.
// Malformed ids, ids of another type, other tenants' rows and missing rows all
// become the same NotFoundError, carrying the input path of the id. A row in
// the caller's organization but outside a workspace-restricted API key's
// workspaces is SCOPE_DENIED.
import { assertInKeyScope } from './key-scope.js';
import { visible } from './tenancy.js';
import { NotFoundError } from '../platform/errors.js';
import type { Context } from '../modules/common/context.js';
import { decodeId } from '../platform/ids.js';

type Finder<Row> = (ctx: Context, id: string) => Promise<Row | null>;

function lookup<Row extends object>(typename: string, label: string, find: Finder<Row>) {
  return async (ctx: Context, globalId: string, path: string[] = []): Promise<Row> => {
    const id = decodeId(globalId, typename);
    const row = id ? await find(ctx, id) : null;
    if (!row) throw new NotFoundError(label, path);
    const workspaceId = (row as { workspaceId?: unknown }).workspaceId;
    if (typeof workspaceId === 'string') assertInKeyScope(ctx.principal, workspaceId);
    return row;
  };
}

export const requireOrganization = lookup('Organization', 'organization', (ctx, id) =>
  ctx.prisma.organization.findFirst({ where: { id, AND: [visible.organizations(ctx.principal)] }, select: { id: true } }),
);

export const requireWorkspace = lookup('Workspace', 'workspace', async (ctx, id) => {
  const workspace = await ctx.prisma.workspace.findFirst({
    where: { id, AND: [visible.workspaces(ctx.principal)] },
    select: { id: true, organizationId: true },
  });
  return workspace && { ...workspace, workspaceId: workspace.id };
});

export const requireWorkspaceIntegration = lookup('WorkspaceIntegration', 'workspace integration', (ctx, id) =>
  ctx.prisma.workspaceIntegration.findFirst({ where: { id, AND: [visible.workspaceIntegrations(ctx.principal)] } }),
);

export const requireMcpServer = lookup('McpServer', 'MCP server', (ctx, id) =>
  ctx.prisma.mcpServer.findFirst({ where: { id, AND: [visible.mcpServers(ctx.principal)] } }),
);

export const requireDirectory = lookup('Directory', 'directory', (ctx, id) =>
  ctx.prisma.directory.findFirst({ where: { id, AND: [visible.directories(ctx.principal)] } }),
);

export const requireSpace = lookup('Space', 'space', (ctx, id) =>
  ctx.prisma.space.findFirst({ where: { id, AND: [visible.spaces(ctx.principal)] } }),
);

export const requireEndUser = lookup('EndUser', 'end user', (ctx, id) =>
  ctx.prisma.endUser.findFirst({ where: { id, AND: [visible.endUsers(ctx.principal)] } }),
);

export const requireConnection = lookup('Connection', 'connection', (ctx, id) =>
  ctx.prisma.connection.findFirst({ where: { id, AND: [visible.connections(ctx.principal)] } }),
);

export const requireTrigger = lookup('Trigger', 'trigger', (ctx, id) =>
  ctx.prisma.trigger.findFirst({ where: { id, AND: [visible.triggers(ctx.principal)] } }),
);

export const requireApiKey = lookup('ApiKey', 'API key', (ctx, id) =>
  ctx.prisma.apiKey.findFirst({ where: { id, AND: [visible.apiKeys(ctx.principal)] } }),
);

export const requireMember = lookup('Member', 'member', (ctx, id) =>
  ctx.prisma.member.findFirst({ where: { id, AND: [visible.members(ctx.principal)] } }),
);

export const requireInvite = lookup('Invite', 'invite', (ctx, id) =>
  ctx.prisma.invite.findFirst({ where: { id, AND: [visible.managedInvites(ctx.principal)] } }),
);

export const requireOAuthApp = lookup('OAuthApp', 'OAuth app', (ctx, id) =>
  ctx.prisma.oAuthApp.findFirst({ where: { id, AND: [visible.oauthApps(ctx.principal)] } }),
);
