// `ApiKey.lastUsedAt` without a database write per request: uses are noted in
// memory and written in one statement per flush (every 30 s and at shutdown).
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../platform/logger.js';

export class ApiKeyUsage {
  private pending = new Map<string, Date>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  touch(apiKeyId: string): void {
    this.pending.set(apiKeyId, new Date());
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      const ids = [...batch.keys()];
      const times = ids.map((id) => batch.get(id)!.toISOString());
      await this.prisma.$executeRaw`
        UPDATE "ApiKey" SET "lastUsedAt" = GREATEST(COALESCE("ApiKey"."lastUsedAt", u.at), u.at)
        FROM unnest(${ids}::uuid[], ${times}::timestamptz[]) AS u(id, at)
        WHERE "ApiKey".id = u.id`;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not record API key usage');
    }
  }

  start(intervalMs = 30_000): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
