// Usage metering (DESIGN.md §2): a workspace's successful resolutions per
// month, and its active end users, those with at least one successful
// resolution in the month. Creating or syncing end users costs nothing.
import { z } from 'zod';
import { prepared } from '../../platform/db/prepared.js';
import { Prisma, type PrismaClient, type Workspace } from '../../generated/prisma/client.js';

/** Months are UTC calendar months, written YYYY-MM. */
export const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month written YYYY-MM');
export const usageMonth = (at: Date): string => at.toISOString().slice(0, 7);

/**
 * Counts one successful resolution, marks its end user active and, inside a
 * mutation, writes its audit entry: one statement, so all or nothing.
 */
export async function recordResolutionUsage(prisma: PrismaClient, usage: ResolutionUsage, audit: Prisma.Sql | null): Promise<void> {
  await prisma.$executeRaw(resolutionUsageStatement(usage, audit));
}

export interface ResolutionUsage {
  organizationId: string;
  workspaceId: string;
  endUserId: string | null;
  at: Date;
  /** The resolution ran an action against the provider (executeAction, MCP tools/call, the proxy): it counts as an execution too. */
  execution?: boolean;
}

/**
 * Rows a workspace's monthly count is spread over. One row would be a hot
 * row: every resolution of the workspace waits for the previous one's commit
 * (its WAL flush) to take the row lock. Spread over a few rows, concurrent
 * resolutions commit together; the count is the sum of the rows.
 */
export const USAGE_COUNTER_SHARDS = 16;

/**
 * The statement of recordResolutionUsage, exported as SQL for the benchmark's
 * hand-written baselines. `main`: a statement to run after the usage writes
 * (which become its CTEs), whose result the statement answers (an action
 * execution's INSERT … RETURNING): one round trip for all of it.
 */
export function resolutionUsageStatement(usage: ResolutionUsage, audit: Prisma.Sql | null, main?: Prisma.Sql): Prisma.Sql {
  const month = usageMonth(usage.at);
  const shard = Math.floor(Math.random() * USAGE_COUNTER_SHARDS);
  const active = Prisma.sql`
    INSERT INTO "EndUserActivity" ("endUserId", "month", "organizationId", "workspaceId")
    SELECT ${usage.endUserId}::uuid, ${month}, ${usage.organizationId}::uuid, ${usage.workspaceId}::uuid
    WHERE ${usage.endUserId}::uuid IS NOT NULL
    ON CONFLICT ("endUserId", "month") DO NOTHING`;
  return prepared(Prisma.sql`
    WITH ${audit ? Prisma.sql`audited AS (${audit}), ` : Prisma.empty}counted AS (
      INSERT INTO "UsageCounter" ("organizationId", "workspaceId", "month", "shard", "resolutions", "executions")
      VALUES (${usage.organizationId}::uuid, ${usage.workspaceId}::uuid, ${month}, ${shard}, 1, ${usage.execution ? 1 : 0}::int)
      ON CONFLICT ("workspaceId", "month", "shard") DO UPDATE
        SET "resolutions" = "UsageCounter"."resolutions" + 1, "executions" = "UsageCounter"."executions" + EXCLUDED."executions"
    )${main ? Prisma.sql`, active AS (${active}) ${main}` : active}`);
}

export interface WorkspaceUsage {
  workspace: Workspace;
  activeEndUsers: number;
  resolutions: number;
  executions: number;
}

export interface OrganizationUsage {
  month: string;
  activeEndUsers: number;
  resolutions: number;
  executions: number;
  /** Workspaces with usage in the month, most resolutions first. */
  workspaces: WorkspaceUsage[];
}

export async function organizationUsage(prisma: PrismaClient, organizationId: string, month: string): Promise<OrganizationUsage> {
  const [counters, active] = await Promise.all([
    prisma.usageCounter.findMany({ where: { organizationId, month }, include: { workspace: true } }),
    prisma.endUserActivity.groupBy({ by: ['workspaceId'], where: { organizationId, month }, _count: { _all: true } }),
  ]);
  const activeBy = new Map(active.map((row) => [row.workspaceId, row._count._all]));
  const byWorkspace = new Map<string, WorkspaceUsage>();
  for (const counter of counters) {
    const entry = byWorkspace.get(counter.workspaceId);
    if (entry) {
      entry.resolutions += counter.resolutions;
      entry.executions += counter.executions;
    } else {
      byWorkspace.set(counter.workspaceId, {
        workspace: counter.workspace,
        resolutions: counter.resolutions,
        executions: counter.executions,
        activeEndUsers: activeBy.get(counter.workspaceId) ?? 0,
      });
    }
  }
  const workspaces = [...byWorkspace.values()]
    .sort((a, b) => b.resolutions - a.resolutions || a.workspace.slug.localeCompare(b.workspace.slug));
  return {
    month,
    // An end user lives in one workspace, so the per-workspace counts add up.
    activeEndUsers: workspaces.reduce((sum, w) => sum + w.activeEndUsers, 0),
    resolutions: workspaces.reduce((sum, w) => sum + w.resolutions, 0),
    executions: workspaces.reduce((sum, w) => sum + w.executions, 0),
    workspaces,
  };
}
