// A subject's events (a workspace's config changes, an MCP server's tool
// changes) as one ordered stream: first every stored event after
// `sinceVersion`, then live ones. Subscribing to the doorbell before
// reading the database, and skipping versions already sent, leaves no gap and
// no duplicate at the seam; a version jump in the live stream is backfilled.
import { GraphQLError } from 'graphql';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { toMessage } from '../../platform/outbox.js';
import { channelOf, type ConfigEventMessage, type PubSubHandle } from '../../platform/pubsub.js';

/** Whose events: the outbox topic, the subject's id and how to read its current version. */
export interface EventSubject {
  topic: 'WORKSPACE_CONFIG' | 'MCP_TOOLS';
  id: string;
  /** What the client refetches when its sinceVersion has expired. */
  label: string;
  currentVersion(prisma: PrismaClient): Promise<number>;
}

export const workspaceConfigSubject = (workspaceId: string): EventSubject => ({
  topic: 'WORKSPACE_CONFIG',
  id: workspaceId,
  label: 'the workspace and subscribe from its configVersion',
  currentVersion: async (prisma) =>
    (await prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { configVersion: true } })).configVersion,
});

export const mcpToolsSubject = (mcpServerId: string): EventSubject => ({
  topic: 'MCP_TOOLS',
  id: mcpServerId,
  label: "the MCP server's tools and subscribe from its toolsVersion",
  currentVersion: async (prisma) =>
    (await prisma.mcpServer.findUniqueOrThrow({ where: { id: mcpServerId }, select: { toolsVersion: true } })).toolsVersion,
});

/** The events after `sinceVersion` were pruned (retention): the client must refetch, then resume. */
export class SinceVersionExpiredError extends GraphQLError {
  constructor(subject: EventSubject, sinceVersion: number, oldest: number | null) {
    super(
      `events after version ${sinceVersion} are no longer kept${oldest ? ` (the oldest kept is ${oldest})` : ''}: refetch ${subject.label}`,
      { extensions: { code: 'SINCE_VERSION_EXPIRED' } },
    );
  }
}

/** Throws unless every event after `sinceVersion` is still stored (checked before subscribing). */
export async function assertReplayable(prisma: PrismaClient, subject: EventSubject, sinceVersion: number): Promise<void> {
  const [current, oldest] = await Promise.all([
    subject.currentVersion(prisma),
    prisma.configEvent.findFirst({
      where: { topic: subject.topic, subjectId: subject.id },
      orderBy: { version: 'asc' },
      select: { version: true },
    }),
  ]);
  if (sinceVersion < 0 || sinceVersion > current) {
    throw new GraphQLError(`sinceVersion must be between 0 and the current version (${current})`, {
      extensions: { code: 'VALIDATION_ERROR' },
    });
  }
  const firstNeeded = sinceVersion + 1;
  if (firstNeeded <= current && (!oldest || oldest.version > firstNeeded)) {
    throw new SinceVersionExpiredError(subject, sinceVersion, oldest?.version ?? null);
  }
}

export async function* subjectEvents(deps: {
  prisma: PrismaClient;
  pubsub: PubSubHandle;
  subject: EventSubject;
  sinceVersion: number | null;
  /** Ends the stream (the live subscription returns at once). */
  signal?: AbortSignal;
}): AsyncGenerator<ConfigEventMessage> {
  const { prisma, subject } = deps;
  const live = deps.pubsub.pubsub.subscribe(channelOf(subject.topic), subject.id);
  deps.signal?.addEventListener('abort', () => void live.return?.(), { once: true });
  const storedAfter = async (version: number, upTo?: number) =>
    (
      await prisma.configEvent.findMany({
        where: { topic: subject.topic, subjectId: subject.id, version: { gt: version, ...(upTo ? { lte: upTo } : {}) } },
        orderBy: { version: 'asc' },
      })
    ).map(toMessage);

  try {
    let last: number;
    if (deps.sinceVersion === null) {
      last = await subject.currentVersion(prisma);
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
