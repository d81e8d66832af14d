// Keeps every MCP server's stored tools equal to what its workspace's
// integrations derive. Runs inside the transaction that changed the
// integrations, after recordWorkspaceConfigChange has locked the workspace row,
// so concurrent changes are serialised and each sees the other's result.
import type { ConfigEvent, Prisma } from '../../generated/prisma/client.js';
import { deriveTools, diffTools, isUnchanged, storedTools, type ToolEntry } from './mcp-tools.rules.js';
import type { Tx } from '../../platform/outbox.js';

export const MCP_TOOLS_CHANGED = 'TOOLS_CHANGED';

/** The workspace's tools as its integrations are now, inside `tx`. */
export async function currentTools(tx: Tx, workspaceId: string): Promise<ToolEntry[]> {
  const integrations = await tx.workspaceIntegration.findMany({
    where: { workspaceId },
    select: { id: true, alias: true, integrationName: true, connectionStrategy: true, allowedActions: true },
  });
  return deriveTools(integrations);
}

/** Rewrites each server whose tools differ, bumps its toolsVersion and records an MCP_TOOLS event. */
export async function syncMcpTools(tx: Tx, workspaceId: string): Promise<ConfigEvent[]> {
  const servers = await tx.mcpServer.findMany({ where: { workspaceId }, select: { id: true, tools: true } });
  if (servers.length === 0) return [];
  const tools = await currentTools(tx, workspaceId);
  const events: ConfigEvent[] = [];
  for (const server of servers) {
    const diff = diffTools(storedTools(server.tools), tools);
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
