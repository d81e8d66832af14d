// A subject's events (a workspace's config changes, an MCP server's tool
// changes) as one ordered stream: first every stored event after
// `sinceVersion`, then live ones. Listening to the doorbell before reading
// the database, and skipping versions already sent, leaves no gap and no
// duplicate at the seam; a version jump in the live stream is backfilled.
import { GraphQLError } from 'graphql';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import { toMessage } from '../../platform/outbox.js';
import { channelOf, subscribeLatest, type ConfigEventMessage, type PubSubHandle } from '../../platform/pubsub.js';

/** Announcements a subscriber may be behind before the oldest are dropped from memory (and read back from the outbox). */
export const LIVE_BACKLOG = 100;

/** Whose events: the outbox topic, the subject's id and where its current version is kept. */
export interface EventSubject {
  topic: 'WORKSPACE_CONFIG' | 'MCP_TOOLS';
  id: string;
  /** What the client refetches when its sinceVersion has expired. */
  label: string;
  /** The subject's current version, as a scalar subquery. */
  versionSql: Prisma.Sql;
}

export const workspaceConfigSubject = (workspaceId: string): EventSubject => ({
  topic: 'WORKSPACE_CONFIG',
  id: workspaceId,
  label: 'the workspace and subscribe from its configVersion',
  versionSql: Prisma.sql`SELECT "configVersion" FROM "Workspace" WHERE "id" = ${workspaceId}::uuid`,
});

export const mcpToolsSubject = (mcpServerId: string): EventSubject => ({
  topic: 'MCP_TOOLS',
  id: mcpServerId,
  label: "the MCP server's tools and subscribe from its toolsVersion",
  versionSql: Prisma.sql`SELECT "toolsVersion" FROM "McpServer" WHERE "id" = ${mcpServerId}::uuid`,
});

/**
 * The subject's current version and the oldest version still stored, read in
 * one statement: one snapshot, so a change committing meanwhile is seen by
 * both or by neither.
 */
async function versions(prisma: PrismaClient, subject: EventSubject): Promise<{ current: number; oldest: number | null }> {
  const [row] = await prisma.$queryRaw<{ current: number | null; oldest: number | null }[]>`
    SELECT (${subject.versionSql}) AS "current",
           (SELECT min("version") FROM "ConfigEvent"
             WHERE "topic" = ${subject.topic}::"ConfigTopic" AND "subjectId" = ${subject.id}::uuid) AS "oldest"`;
  // The subject was found by the caller's access check; one deleted since has no events left.
  return { current: row?.current ?? 0, oldest: row?.oldest ?? null };
}

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
  const { current, oldest } = await versions(prisma, subject);
  if (sinceVersion < 0 || sinceVersion > current) {
    throw new GraphQLError(`sinceVersion must be between 0 and the current version (${current})`, {
      extensions: { code: 'VALIDATION_ERROR' },
    });
  }
  const firstNeeded = sinceVersion + 1;
  if (firstNeeded <= current && (oldest === null || oldest > firstNeeded)) {
    throw new SinceVersionExpiredError(subject, sinceVersion, oldest);
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
  // A subscriber too slow to keep up keeps only the latest LIVE_BACKLOG
  // announcements in memory; the version jump that leaves is read back from
  // the outbox below. Listening starts here, before the database is read, so
  // that a change committed during the read is heard.
  const live = subscribeLatest(deps.pubsub, channelOf(subject.topic), subject.id, LIVE_BACKLOG);
  deps.signal?.addEventListener('abort', () => void live.return(), { once: true });
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
      last = (await versions(prisma, subject)).current;
    } else {
      last = deps.sinceVersion;
      for (const event of await storedAfter(last)) {
        yield event;
        last = event.version;
      }
    }
    for (;;) {
      const next = await live.next();
      if (next.done) break;
      const message = next.value;
      if (message.version <= last) continue;
      const events = message.version === last + 1 ? [message] : await storedAfter(last, message.version);
      for (const event of events) {
        yield event;
        last = event.version;
      }
    }
  } finally {
    await live.return();
  }
}
