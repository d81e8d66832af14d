// A workspace's config events as one ordered stream: first every stored event
// after `sinceVersion`, then live ones. Subscribing to the doorbell before
// reading the database, and skipping versions already sent, leaves no gap and
// no duplicate at the seam; a version jump in the live stream is backfilled.
import type { PrismaClient } from '../generated/prisma/client.js';
import { toMessage } from './outbox.js';
import type { ConfigEventMessage, PubSubHandle } from './pubsub.js';

export async function* workspaceConfigEvents(deps: {
  prisma: PrismaClient;
  pubsub: PubSubHandle;
  workspaceId: string;
  sinceVersion: number | null;
}): AsyncGenerator<ConfigEventMessage> {
  const { prisma, workspaceId } = deps;
  const live = deps.pubsub.pubsub.subscribe('workspace-config', workspaceId);
  const storedAfter = async (version: number, upTo?: number) =>
    (
      await prisma.configEvent.findMany({
        where: { topic: 'WORKSPACE_CONFIG', subjectId: workspaceId, version: { gt: version, ...(upTo ? { lte: upTo } : {}) } },
        orderBy: { version: 'asc' },
      })
    ).map(toMessage);

  try {
    let last: number;
    if (deps.sinceVersion === null) {
      const workspace = await prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { configVersion: true } });
      last = workspace.configVersion;
    } else {
      last = deps.sinceVersion;
      for (const event of await storedAfter(last)) {
        yield event;
        last = event.version;
      }
    }
    for await (const message of live) {
      if (message.version <= last) continue;
      const events = message.version === last + 1 ? [message] : await storedAfter(last, message.version);
      for (const event of events) {
        yield event;
        last = event.version;
      }
    }
  } finally {
    await live.return?.();
  }
}
