// MCP server changes: each is a config change of its workspace, committed
// with its audit entry. A server's token is returned once and stored hashed.
import { requireMcpServer, requireWorkspace } from '../../auth/registry.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { newBearerSecret } from '../../platform/crypto/tokens.js';
import { uuidv7 } from '../../platform/db/uuid.js';
import { NotFoundError } from '../../platform/errors.js';
import { recordWorkspaceConfigChange, type Tx } from '../../platform/outbox.js';
import { auditChange, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import { announceAccessRevoked } from '../realtime/access.js';
import { assertRedirectAllowed } from '../connect/connect.rules.js';
import { MCP_TOKEN_PREFIX } from './mcp-tools.rules.js';
import { currentTools } from './tools-sync.service.js';

export type McpServerQuery = { include?: Prisma.McpServerInclude; select?: Prisma.McpServerSelect };

const newToken = () => {
  const secret = newBearerSecret(MCP_TOKEN_PREFIX);
  return { plain: secret.plain, data: { tokenHash: secret.hash, tokenPrefix: secret.displayPrefix } };
};

/** A connectRedirectUrl must be on the workspace's allowedRedirectOrigins, as a connect session's redirectUrl (checked again at each session). */
async function assertConnectRedirectAllowed(ctx: Context, workspaceId: string, url: string | null | undefined): Promise<void> {
  if (!url) return;
  const { allowedRedirectOrigins } = await ctx.prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { allowedRedirectOrigins: true } });
  assertRedirectAllowed(url, allowedRedirectOrigins, ['input', 'connectRedirectUrl']);
}

export async function createMcpServer(
  ctx: Context,
  input: { workspaceId: string; name: string; endUserAccess: 'RESTRICTED' | 'OPEN'; connectRedirectUrl?: string | null },
): Promise<{ serverId: string; token: string }> {
  const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
  await assertConnectRedirectAllowed(ctx, workspace.id, input.connectRedirectUrl);
  const token = newToken();
  const id = uuidv7();
  await ctx.outbox.commit(async (tx) => {
    // The config change locks the workspace row first, so the tools read below are the committed ones.
    const event = await recordWorkspaceConfigChange(tx, workspace.id, 'MCP_SERVER_ADDED', { mcpServerId: id });
    const tools = await currentTools(tx, workspace.id);
    await tx.mcpServer.create({
      data: { id, workspaceId: workspace.id, name: input.name, endUserAccess: input.endUserAccess, connectRedirectUrl: input.connectRedirectUrl ?? null, tools: tools as unknown as Prisma.InputJsonValue, ...token.data },
      select: { id: true },
    });
    await auditChange(tx, ctx.principal, { target: targetOf('McpServer', { id, workspaceId: workspace.id }) });
    return { result: null, events: [event] };
  });
  return { serverId: id, token: token.plain };
}

/** Changes a server inside the config-change transaction of its workspace; one deleted meanwhile is NOT_FOUND. */
async function changeServer(ctx: Context, globalId: string, data: Prisma.McpServerUpdateManyMutationInput) {
  const server = await requireMcpServer(ctx, globalId, ['input', 'id']);
  if (typeof data.connectRedirectUrl === 'string') await assertConnectRedirectAllowed(ctx, server.workspaceId, data.connectRedirectUrl);
  return ctx.outbox.commit(async (tx) => {
    const { count } = await tx.mcpServer.updateMany({ where: { id: server.id }, data });
    if (count === 0) throw new NotFoundError('MCP server', ['input', 'id']);
    const event = await recordWorkspaceConfigChange(tx, server.workspaceId, 'MCP_SERVER_UPDATED', { mcpServerId: server.id });
    await auditChange(tx, ctx.principal, { target: targetOf('McpServer', server) });
    return { result: server, events: [event] };
  });
}

export async function updateMcpServer(
  ctx: Context,
  input: { id: string; name?: string | null; endUserAccess?: 'RESTRICTED' | 'OPEN' | null; connectRedirectUrl?: string | null },
  query: McpServerQuery,
) {
  const server = await changeServer(ctx, input.id, {
    name: input.name ?? undefined,
    endUserAccess: input.endUserAccess ?? undefined,
    // null clears it (the server creates no connect sessions any more); omitted keeps it.
    connectRedirectUrl: input.connectRedirectUrl,
  });
  const updated = await ctx.prisma.mcpServer.findUnique({ ...query, where: { id: server.id } });
  if (!updated) throw new NotFoundError('MCP server', ['input', 'id']); // deleted since the change committed
  return updated;
}

/** Replaces the token: the old one fails at once and the sessions opened with it end. */
export async function rotateMcpServerToken(ctx: Context, globalId: string): Promise<{ serverId: string; token: string }> {
  const token = newToken();
  const server = await changeServer(ctx, globalId, token.data);
  await announceAccessRevoked(ctx, { kind: 'mcpServer', mcpServerId: server.id, serverTokenOnly: true });
  return { serverId: server.id, token: token.plain };
}

/** Deletes the server; only the call that deleted it records the config change. */
export async function removeMcpServer(tx: Tx, server: { id: string; workspaceId: string }) {
  const { count } = await tx.mcpServer.deleteMany({ where: { id: server.id } });
  const events = count ? [await recordWorkspaceConfigChange(tx, server.workspaceId, 'MCP_SERVER_REMOVED', { mcpServerId: server.id })] : [];
  return { count, events };
}
