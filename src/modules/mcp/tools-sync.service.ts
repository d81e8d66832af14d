// Keeps every MCP server's stored tools equal to what its workspace's
// integrations derive. Runs inside the transaction that changed the
// integrations, after recordWorkspaceConfigChange has locked the workspace row,
// so concurrent changes are serialised and each sees the other's result; and at
// start-up, for the catalog a new release brings.
import type { ConfigEvent, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { deriveTools, diffTools, isUnchanged, previousTools, type ToolEntry } from './mcp-tools.rules.js';
import type { Outbox, Tx } from '../../platform/outbox.js';

export const MCP_TOOLS_CHANGED = 'TOOLS_CHANGED';

const integrationSelect = { id: true, alias: true, integrationName: true, connectionStrategy: true, allowedActions: true } as const;

/** The workspace's tools as its integrations are now, inside `tx`. */
export async function currentTools(tx: Tx, workspaceId: string): Promise<ToolEntry[]> {
  return deriveTools(await tx.workspaceIntegration.findMany({ where: { workspaceId }, select: integrationSelect }));
}

/** Rewrites each server whose tools differ, bumps its toolsVersion and records an MCP_TOOLS event. */
export async function syncMcpTools(tx: Tx, workspaceId: string): Promise<ConfigEvent[]> {
  const servers = await tx.mcpServer.findMany({ where: { workspaceId }, select: { id: true, tools: true } });
  if (servers.length === 0) return [];
  const tools = await currentTools(tx, workspaceId);
  const events: ConfigEvent[] = [];
  for (const server of servers) {
    const diff = diffTools(previousTools(server.tools), tools);
    if (isUnchanged(diff)) continue;
    const { toolsVersion } = await tx.mcpServer.update({
      where: { id: server.id },
      data: { tools: tools as unknown as Prisma.InputJsonValue, toolsVersion: { increment: 1 } },
      select: { toolsVersion: true },
    });
    events.push(
      await tx.configEvent.create({
        data: {
          topic: 'MCP_TOOLS',
          subjectId: server.id,
          workspaceId,
          version: toolsVersion,
          kind: MCP_TOOLS_CHANGED,
          payload: { tools, ...diff } as unknown as Prisma.InputJsonValue,
        },
      }),
    );
  }
  return events;
}

/**
 * At start-up: re-derives the tools of every workspace whose stored tools differ
 * from what this release's catalog derives (an action added, removed or
 * changed), one locked transaction per such workspace. The MCP_TOOLS events
 * reach open sessions on every instance through the outbox and the pub/sub.
 * Returns the workspaces re-derived.
 */
export async function rederiveMcpTools(prisma: PrismaClient, outbox: Outbox): Promise<string[]> {
  // Two reads find the stale workspaces; the common case (nothing changed) writes nothing.
  const servers = await prisma.mcpServer.findMany({ select: { workspaceId: true, tools: true } });
  const workspaceIds = [...new Set(servers.map((server) => server.workspaceId))];
  if (workspaceIds.length === 0) return [];
  const integrations = await prisma.workspaceIntegration.findMany({
    where: { workspaceId: { in: workspaceIds } },
    select: { ...integrationSelect, workspaceId: true },
  });
  const stale = workspaceIds.filter((workspaceId) => {
    const tools = deriveTools(integrations.filter((wi) => wi.workspaceId === workspaceId));
    return servers.some((server) => server.workspaceId === workspaceId && !isUnchanged(diffTools(previousTools(server.tools), tools)));
  });
  for (const workspaceId of stale) {
    await outbox.commit(async (tx) => {
      // The lock an integration change takes: a concurrent change and this sync see each other's result.
      await tx.$executeRaw`SELECT 1 FROM "Workspace" WHERE "id" = ${workspaceId}::uuid FOR UPDATE`;
      return { result: null, events: await syncMcpTools(tx, workspaceId) };
    });
  }
  return stale;
}
