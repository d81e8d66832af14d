// Where the row behind a global id lives, for role checks declared on fields
// (`authScopes: { role: … }`). Not a tenancy filter: the role check only
// compares the organization with the caller's roles; the resolver's lookup
// still decides NOT_FOUND. Memoised per request: ownership never changes.
import type { Ownership } from './roles.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Context } from '../modules/common/context.js';
import { decodeGlobalId, isUuid } from '../platform/ids.js';

type Finder = (prisma: PrismaClient, id: string) => Promise<Ownership | null>;

const inWorkspace = { workspaceId: true, workspace: { select: { organizationId: true } } } as const;
const viaWorkspace = (row: { workspaceId: string; workspace: { organizationId: string } } | null): Ownership | null =>
  row && { organizationId: row.workspace.organizationId, workspaceId: row.workspaceId };
const orgLevel = (row: { organizationId: string } | null): Ownership | null => row && { organizationId: row.organizationId, workspaceId: null };

const FINDERS: Record<string, Finder> = {
  // An unknown organization id needs no query: nobody holds a role in it.
  Organization: async (_prisma, id) => ({ organizationId: id, workspaceId: null }),
  Workspace: async (prisma, id) => {
    const row = await prisma.workspace.findUnique({ where: { id }, select: { organizationId: true } });
    return row && { organizationId: row.organizationId, workspaceId: id };
  },
  WorkspaceIntegration: async (prisma, id) => viaWorkspace(await prisma.workspaceIntegration.findUnique({ where: { id }, select: inWorkspace })),
  Directory: async (prisma, id) => viaWorkspace(await prisma.directory.findUnique({ where: { id }, select: inWorkspace })),
  Space: async (prisma, id) => viaWorkspace(await prisma.space.findUnique({ where: { id }, select: inWorkspace })),
  EndUser: async (prisma, id) => viaWorkspace(await prisma.endUser.findUnique({ where: { id }, select: inWorkspace })),
  McpServer: async (prisma, id) => viaWorkspace(await prisma.mcpServer.findUnique({ where: { id }, select: inWorkspace })),
  Connection: (prisma, id) =>
    prisma.connection.findUnique({ where: { id }, select: { organizationId: true, workspaceId: true, createdById: true } }),
  Trigger: (prisma, id) => prisma.trigger.findUnique({ where: { id }, select: { organizationId: true, workspaceId: true } }),
  ApiKey: async (prisma, id) => orgLevel(await prisma.apiKey.findUnique({ where: { id }, select: { organizationId: true } })),
  Invite: async (prisma, id) => orgLevel(await prisma.invite.findUnique({ where: { id }, select: { organizationId: true } })),
  Member: async (prisma, id) => orgLevel(await prisma.member.findUnique({ where: { id }, select: { organizationId: true } })),
  OAuthApp: async (prisma, id) => orgLevel(await prisma.oAuthApp.findUnique({ where: { id }, select: { organizationId: true } })),
  ConnectSession: (prisma, id) => prisma.connectSession.findUnique({ where: { id }, select: { organizationId: true, workspaceId: true } }),
};

const memo = new WeakMap<Context, Map<string, Promise<Ownership | null>>>();

/** The ownership of the row a global id names; null for malformed ids and missing rows. */
export function ownershipOf(ctx: Context, globalId: string | null | undefined): Promise<Ownership | null> {
  if (!globalId) return Promise.resolve(null);
  let cache = memo.get(ctx);
  if (!cache) memo.set(ctx, (cache = new Map()));
  let found = cache.get(globalId);
  if (!found) {
    found = (async () => {
      const decoded = decodeGlobalId(globalId);
      const finder = decoded && FINDERS[decoded.typename];
      return finder && isUuid(decoded.id) ? finder(ctx.prisma, decoded.id) : null;
    })();
    cache.set(globalId, found);
  }
  return found;
}
