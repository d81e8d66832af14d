// The durable outbox. A config change bumps the workspace's configVersion (a
// change of an MCP server's tools, its toolsVersion) and stores its event in
// the change's own transaction; after commit the event is announced on the
// pub/sub and marked published. Events whose announcement failed (Redis down,
// process died) are re-announced by the relay loop.
import type { ConfigEvent, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from './logger.js';
import { channelOf, type ConfigEventMessage, type PubSubHandle } from './pubsub.js';

export type Tx = Prisma.TransactionClient;

export function toMessage(event: ConfigEvent): ConfigEventMessage {
  return {
    topic: event.topic,
    subjectId: event.subjectId,
    workspaceId: event.workspaceId,
    version: event.version,
    kind: event.kind,
    payload: (event.payload ?? {}) as Record<string, unknown>,
    occurredAt: event.occurredAt.toISOString(),
  };
}

/** Inside a transaction: raises the workspace's configVersion by one and stores the event. */
export async function recordWorkspaceConfigChange(
  tx: Tx,
  workspaceId: string,
  kind: string,
  payload: Record<string, string | null> = {},
): Promise<ConfigEvent> {
  // The row lock taken by this UPDATE serialises concurrent changes: versions never skip or repeat.
  const { configVersion } = await tx.workspace.update({
    where: { id: workspaceId },
    data: { configVersion: { increment: 1 } },
    select: { configVersion: true },
  });
  return tx.configEvent.create({
    data: { topic: 'WORKSPACE_CONFIG', subjectId: workspaceId, workspaceId, version: configVersion, kind, payload },
  });
}

export class Outbox {
  private relayTimer?: NodeJS.Timeout;
  /** Announcements that failed since start (each is retried by the relay loop). */
  failedAnnouncements = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly pubsub: PubSubHandle,
    private readonly logger: Logger,
  ) {}

  /** Runs `work` in a transaction and announces the config events it recorded once it commits. */
  async commit<T>(work: (tx: Tx) => Promise<{ result: T; events: ConfigEvent[] }>): Promise<T> {
    const { result, events } = await this.prisma.$transaction(work);
    await this.announce(events);
    return result;
  }

  async announce(events: ConfigEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      for (const event of events) {
        this.pubsub.pubsub.publish(channelOf(event.topic), event.subjectId, toMessage(event));
      }
      await this.prisma.configEvent.updateMany({
        where: { id: { in: events.map((e) => e.id) } },
        data: { publishedAt: new Date() },
      });
    } catch (error) {
      // The events are committed; the relay loop will announce them again.
      this.failedAnnouncements += events.length;
      this.logger.warn(
        { err: (error as Error).message, failedAnnouncements: this.failedAnnouncements },
        'config event announcement failed; will retry',
      );
    }
  }

  /** Re-announces events left unpublished for longer than `graceMs`. */
  async relayPending(graceMs = 2000): Promise<number> {
    const pending = await this.prisma.configEvent.findMany({
      where: { publishedAt: null, occurredAt: { lt: new Date(Date.now() - graceMs) } },
      orderBy: { id: 'asc' },
      take: 500,
    });
    await this.announce(pending);
    return pending.length;
  }

  /** Deletes published events older than the retention; a sinceVersion before them gets SINCE_VERSION_EXPIRED. */
  async prune(retentionHours: number): Promise<number> {
    const { count } = await this.prisma.configEvent.deleteMany({
      where: { publishedAt: { not: null }, occurredAt: { lt: new Date(Date.now() - retentionHours * 3_600_000) } },
    });
    return count;
  }

  startRelay(options: { intervalMs?: number; retentionHours: number }): void {
    const intervalMs = options.intervalMs ?? 5000;
    // Pruning is cheap but pointless every few seconds: once a minute is plenty.
    const pruneEvery = Math.max(1, Math.round(60_000 / intervalMs));
    let ticks = 0;
    this.relayTimer = setInterval(() => {
      this.relayPending().catch((error: Error) => this.logger.warn({ err: error.message }, 'outbox relay failed'));
      if (++ticks % pruneEvery === 0) {
        this.prune(options.retentionHours).catch((error: Error) => this.logger.warn({ err: error.message }, 'outbox pruning failed'));
      }
    }, intervalMs);
    this.relayTimer.unref();
  }

  stopRelay(): void {
    clearInterval(this.relayTimer);
  }
}
