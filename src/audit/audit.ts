// The audit log: who did what to which row, and how it ended. Mutations are
// recorded by the audit plugin (src/schema/audit-plugin.ts); credential reads
// call recordAudit themselves. An entry is written even when the action failed
// or was denied; an entry that cannot be written is logged, never thrown.
import type { Principal } from '../auth/principal.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { uuidv7 } from '../db/uuid.js';
import type { Logger } from '../logger.js';

export type AuditOutcome = 'SUCCESS' | 'FAILURE' | 'DENIED';

/** The row an action was about. The organization is found from the workspace when not given. */
export interface AuditTarget {
  type: string;
  id: string;
  organizationId?: string | null;
  workspaceId?: string | null;
}

export interface AuditEntry {
  action: string;
  outcome: AuditOutcome;
  target?: AuditTarget | null;
  /** Non-secret facts only (error codes, changed field names). */
  details?: Prisma.InputJsonValue;
}

export function actorOf(principal: Principal): { actorType: 'USER' | 'API_KEY' | 'END_USER' | 'SYSTEM'; actorId: string | null } {
  switch (principal.kind) {
    case 'member':
      return { actorType: 'USER', actorId: principal.userId };
    case 'apiKey':
      return { actorType: 'API_KEY', actorId: principal.apiKeyId };
    case 'endUser':
      return { actorType: 'END_USER', actorId: principal.endUserId };
    case 'anonymous':
      return { actorType: 'SYSTEM', actorId: null };
  }
}

/** The organization a principal acts in when the target does not say (null for members of several). */
function principalOrganization(principal: Principal): string | null {
  return principal.kind === 'apiKey' || principal.kind === 'endUser' ? principal.organizationId : null;
}

export async function recordAudit(
  deps: { prisma: PrismaClient; logger: Logger; principal: Principal },
  entry: AuditEntry,
): Promise<void> {
  const { actorType, actorId } = actorOf(deps.principal);
  const target = entry.target ?? null;
  const organizationId = target?.organizationId ?? (target?.workspaceId ? null : principalOrganization(deps.principal));
  try {
    // One statement: the organization of a workspace-level target is looked up in the insert.
    await deps.prisma.$executeRaw`
      INSERT INTO "AuditEvent" ("id", "organizationId", "actorType", "actorId", "action", "targetType", "targetId", "outcome", "details")
      SELECT ${uuidv7()}::uuid,
             COALESCE(${organizationId}::uuid, (SELECT "organizationId" FROM "Workspace" WHERE "id" = ${target?.workspaceId ?? null}::uuid)),
             ${actorType}::"ActorType", ${actorId}, ${entry.action}, ${target?.type ?? null}, ${target?.id ?? null},
             ${entry.outcome}::"AuditOutcome", ${entry.details === undefined ? null : JSON.stringify(entry.details)}::jsonb`;
  } catch (error) {
    deps.logger.error({ err: error, action: entry.action }, 'could not write audit event');
  }
}
