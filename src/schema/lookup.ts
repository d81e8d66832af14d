// Resolving an id from an argument or input to a row the caller may see.
// Malformed ids, ids of another type, other tenants' rows and missing rows all
// become the same NotFoundError, carrying the input path of the id.
import { inVisibleOrganization, inVisibleWorkspace, visibleOrganizations, visibleWorkspaces } from '../auth/tenancy.js';
import { NotFoundError } from '../domain/errors.js';
import type { Context } from '../server/context.js';
import { decodeId } from './ids.js';

type Finder<Row> = (ctx: Context, id: string) => Promise<Row | null>;

function lookup<Row>(typename: string, label: string, find: Finder<Row>) {
  return async (ctx: Context, globalId: string, path: string[] = []): Promise<Row> => {
    const id = decodeId(globalId, typename);
    const row = id ? await find(ctx, id) : null;
    if (!row) throw new NotFoundError(label, path);
    return row;
  };
}

export const requireOrganization = lookup('Organization', 'organization', (ctx, id) =>
  ctx.prisma.organization.findFirst({ where: { id, AND: [visibleOrganizations(ctx.principal)] }, select: { id: true } }),
);

export const requireWorkspace = lookup('Workspace', 'workspace', (ctx, id) =>
  ctx.prisma.workspace.findFirst({
    where: { id, AND: [visibleWorkspaces(ctx.principal)] },
    select: { id: true, organizationId: true },
  }),
);

export const requireWorkspaceIntegration = lookup('WorkspaceIntegration', 'workspace integration', (ctx, id) =>
  ctx.prisma.workspaceIntegration.findFirst({ where: { id, ...inVisibleWorkspace(ctx.principal) } }),
);

export const requireDirectory = lookup('Directory', 'directory', (ctx, id) =>
  ctx.prisma.directory.findFirst({ where: { id, ...inVisibleWorkspace(ctx.principal) } }),
);

export const requireSpace = lookup('Space', 'space', (ctx, id) =>
  ctx.prisma.space.findFirst({ where: { id, ...inVisibleWorkspace(ctx.principal) } }),
);

export const requireEndUser = lookup('EndUser', 'end user', (ctx, id) =>
  ctx.prisma.endUser.findFirst({ where: { id, ...inVisibleWorkspace(ctx.principal) } }),
);

export const requireConnection = lookup('Connection', 'connection', (ctx, id) =>
  ctx.prisma.connection.findFirst({ where: { id, ...inVisibleOrganization(ctx.principal) } }),
);

export const requireTrigger = lookup('Trigger', 'trigger', (ctx, id) =>
  ctx.prisma.trigger.findFirst({ where: { id, ...inVisibleOrganization(ctx.principal) } }),
);
