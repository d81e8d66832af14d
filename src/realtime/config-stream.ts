// A workspace's config events as one ordered stream: first every stored event
// after `sinceVersion`, then live ones. Subscribing to the doorbell before
// reading the database, and skipping versions already sent, leaves no gap and
// no duplicate at the seam; a version jump in the live stream is backfilled.
import { GraphQLError } from 'graphql';
import type { PrismaClient } from '../generated/prisma/client.js';
import { toMessage } from './outbox.js';
import type { ConfigEventMessage, PubSubHandle } from './pubsub.js';

/** The events after `sinceVersion` were pruned (retention): the client must refetch, then resume. */
export class SinceVersionExpiredError extends GraphQLError {
  constructor(sinceVersion: number, oldest: number | null) {
    super(
      `events after version ${sinceVersion} are no longer kept${oldest ? ` (the oldest kept is ${oldest})` : ''}: refetch the workspace and subscribe from its configVersion`,
      { extensions: { code: 'SINCE_VERSION_EXPIRED' } },
    );
  }
}

/** Throws unless every event after `sinceVersion` is still stored (checked before subscribing). */
export async function assertReplayable(prisma: PrismaClient, workspaceId: string, sinceVersion: number): Promise<void> {
  const [workspace, oldest] = await Promise.all([
    prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { configVersion: true } }),
    prisma.configEvent.findFirst({
      where: { topic: 'WORKSPACE_CONFIG', subjectId: workspaceId },
      orderBy: { version: 'asc' },
      select: { version: true },
    }),
  ]);
  if (sinceVersion < 0 || sinceVersion > workspace.configVersion) {
    throw new GraphQLError(`sinceVersion must be between 0 and the workspace's configVersion (${workspace.configVersion})`, {
      extensions: { code: 'VALIDATION_ERROR' },
    });
  }
  const firstNeeded = sinceVersion + 1;
  if (firstNeeded <= workspace.configVersion && (!oldest || oldest.version > firstNeeded)) {
    throw new SinceVersionExpiredError(sinceVersion, oldest?.version ?? null);
  }
}

export async function* workspaceConfigEvents(deps: {
  prisma: PrismaClient;
  pubsub: PubSubHandle;
  workspaceId: string;
  sinceVersion: number | null;
  /** Ends the stream (the live subscription returns at once). */
  signal?: AbortSignal;
}): AsyncGenerator<ConfigEventMessage> {
  const { prisma, workspaceId } = deps;
  const live = deps.pubsub.pubsub.subscribe('workspace-config', workspaceId);
  deps.signal?.addEventListener('abort', () => void live.return?.(), { once: true });
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
