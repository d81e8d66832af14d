// The audit log: who did what to which row, and how it ended.
// - A mutation's SUCCESS entry is written by the change itself, in its own
//   transaction (or statement), through `auditChange`: no committed change
//   without its entry, no entry without its change.
// - FAILURE and DENIED entries are written by the mutation wrapper
//   (src/schema/audit-mutations.ts) after the fact; those never throw, a
//   failed write is logged.
// - Credential reads call recordAudit themselves.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../../auth/principal.js';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import { uuidv7 } from '../../platform/db/uuid.js';
import { encodeGlobalID } from '../../platform/ids.js';
import type { Tx } from '../../platform/outbox.js';
import type { Logger } from '../../platform/logger.js';

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

/** A row as an audit target: its global id, and its organization and workspace when the row has them. */
export function targetOf(type: string, row: { id: string; organizationId?: string | null; workspaceId?: string | null }): AuditTarget {
  return {
    type,
    id: encodeGlobalID(type, row.id),
    organizationId: row.organizationId ?? (type === 'Organization' ? row.id : null),
    workspaceId: row.workspaceId ?? (type === 'Workspace' ? row.id : null),
  };
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

/**
 * The INSERT of one entry, to run alone or as a CTE of a change's own
 * statement. The organization of a workspace-level target is looked up in it;
 * an organization deleted in the same transaction is not named (its log went
 * with it, and the entry of its deletion stays, unattributed).
 */
export function auditInsertSql(principal: Principal, entry: AuditEntry): Prisma.Sql {
  const { actorType, actorId } = actorOf(principal);
  const target = entry.target ?? null;
  const organizationId = target?.organizationId ?? (target?.workspaceId ? null : principalOrganization(principal));
  return Prisma.sql`
    INSERT INTO "AuditEvent" ("id", "organizationId", "actorType", "actorId", "action", "targetType", "targetId", "outcome", "details")
    SELECT ${uuidv7()}::uuid,
           COALESCE((SELECT "id" FROM "Organization" WHERE "id" = ${organizationId}::uuid),
                    (SELECT "organizationId" FROM "Workspace" WHERE "id" = ${target?.workspaceId ?? null}::uuid)),
           ${actorType}::"ActorType", ${actorId}, ${entry.action}, ${target?.type ?? null}, ${target?.id ?? null},
           ${entry.outcome}::"AuditOutcome", ${entry.details === undefined ? null : JSON.stringify(entry.details)}::jsonb`;
}

/** Writes an entry on its own; a failure to write is logged, never thrown. */
export async function recordAudit(deps: { prisma: PrismaClient; logger: Logger; principal: Principal }, entry: AuditEntry): Promise<void> {
  try {
    await deps.prisma.$executeRaw(auditInsertSql(deps.principal, entry));
  } catch (error) {
    deps.logger.error({ err: error, action: entry.action }, 'could not write audit event');
  }
}

/** The mutation being executed, whether its change has written its SUCCESS entry, and the rows its entries name. */
export interface MutationAudit {
  action: string;
  recorded: boolean;
  targets: AuditTarget[];
}

const runningMutation = new AsyncLocalStorage<MutationAudit>();

/**
 * Runs a root mutation's resolver in its audit scope. `scope.recorded` then
 * says whether the change wrote its own SUCCESS entry.
 */
export function runAuditedMutation<T>(scope: MutationAudit, resolve: () => Promise<T>): Promise<T> {
  return runningMutation.run(scope, resolve);
}

export function newMutationAudit(action: string): MutationAudit {
  return { action, recorded: false, targets: [] };
}

function recordIn(scope: MutationAudit, target: AuditTarget | null | undefined): void {
  scope.recorded = true;
  if (target) scope.targets.push(target);
}

/** The running mutation's SUCCESS entry, claimed by the change that writes it (null outside a mutation). */
function claimSuccessEntry(entry: Omit<AuditEntry, 'action' | 'outcome'>): AuditEntry | null {
  const scope = runningMutation.getStore();
  if (!scope) return null;
  recordIn(scope, entry.target);
  return { action: scope.action, outcome: 'SUCCESS', ...entry };
}

/**
 * The SUCCESS entry of the running mutation, as SQL for the change's own
 * statement (null outside a mutation: nothing to record).
 */
export function mutationAuditSql(principal: Principal, entry: Omit<AuditEntry, 'action' | 'outcome'>): Prisma.Sql | null {
  const success = claimSuccessEntry(entry);
  return success && auditInsertSql(principal, success);
}

/**
 * An entry that a change writes in its own statement whatever its outcome (an
 * action the provider failed is still a recorded call, FAILURE). Inside a
 * mutation it stands for that mutation's entry, so the wrapper writes no other.
 */
export function outcomeAuditSql(principal: Principal, entry: AuditEntry): Prisma.Sql {
  const scope = runningMutation.getStore();
  if (scope) recordIn(scope, entry.target);
  return auditInsertSql(principal, entry);
}

/**
 * Writes the running mutation's SUCCESS entry inside the change's transaction
 * `tx`. It throws when the entry cannot be written, so the change rolls back.
 */
export async function auditChange(tx: Pick<PrismaClient, '$executeRaw'>, principal: Principal, entry: Omit<AuditEntry, 'action' | 'outcome'>): Promise<void> {
  const sql = mutationAuditSql(principal, entry);
  if (sql) await tx.$executeRaw(sql);
}

/**
 * Runs `change` in one transaction with the running mutation's SUCCESS entry,
 * which names the row `target` picks from the change's result.
 */
export function auditedTransaction<T>(
  deps: { prisma: PrismaClient; principal: Principal },
  change: (tx: Tx) => Promise<T>,
  target: (result: T) => AuditTarget | null,
): Promise<T> {
  return deps.prisma.$transaction(async (tx) => {
    const result = await change(tx);
    await auditChange(tx, deps.principal, { target: target(result) });
    return result;
  });
}
