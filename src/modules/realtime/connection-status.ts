// Announces a connection's status change to the workspaces that can see it
// change: its own workspace, or for an ORGANIZATION connection each workspace
// whose integrations use it (workspaceId null when none does). The message
// carries ids only; subscribers re-read the connection.
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../platform/logger.js';
import type { ConnectionsChangedMessage, PubSubHandle } from '../../platform/pubsub.js';

/** After a commit: what end users' connections resolve to in a workspace may have changed (MCP sessions recompute). */
export function announceConnectionsChanged(pubsub: PubSubHandle, message: ConnectionsChangedMessage): void {
  pubsub.pubsub.publish('connections-changed', message);
}

export async function publishConnectionStatus(
  deps: { prisma: PrismaClient; pubsub: PubSubHandle; logger: Logger },
  connection: { id: string; workspaceId: string | null },
): Promise<void> {
  try {
    const workspaceIds = connection.workspaceId
      ? [connection.workspaceId]
      : (
          await deps.prisma.workspaceIntegration.findMany({
            where: { connectionId: connection.id },
            select: { workspaceId: true },
            distinct: ['workspaceId'],
          })
        ).map((row) => row.workspaceId);
    for (const workspaceId of workspaceIds.length ? workspaceIds : [null]) {
      deps.pubsub.pubsub.publish('connection-status', { workspaceId, connectionId: connection.id });
      if (workspaceId) announceConnectionsChanged(deps.pubsub, { workspaceId, endUserId: null });
    }
  } catch (error) {
    // The status is committed; a lost doorbell must not fail the caller.
    deps.logger.warn({ err: (error as Error).message, connectionId: connection.id }, 'connection status announcement failed');
  }
}
