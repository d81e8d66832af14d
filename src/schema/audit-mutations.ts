// Every mutation writes an AuditEvent, whatever its outcome: the root
// mutation resolvers are wrapped once, outside authorization and the errors
// plugin, so a denied call, a returned error and a success are all recorded.
// A change records its own SUCCESS entry in its transaction (auditChange,
// auditedTransaction, deleteRow); this wrapper writes failures and denials. The target is the row the mutation returned,
// else the row its input named.
import { GraphQLError, isUnionType, type GraphQLSchema } from 'graphql';
import { newMutationAudit, recordAudit, runAuditedMutation, targetOf, type AuditEntry, type AuditTarget } from '../modules/audit/audit.service.js';
import { roleIn } from '../auth/roles.js';
import { ERROR_CODES } from '../platform/errors.js';
import type { Context } from '../modules/common/context.js';
import { decodeGlobalId, encodeGlobalID, isUuid } from '../platform/ids.js';
import type { ResponseCacheInvalidation } from '../platform/pubsub.js';
import { ownershipOf } from '../auth/registry.js';
import { organizationsOf } from '../auth/principal.js';

/** Input fields that name the row a mutation acts on, most specific first. */
const TARGET_FIELDS = ['id', 'memberId', 'endUserId', 'spaceId', 'directoryId', 'connectionId', 'workspaceId', 'organizationId'];

const DENIED_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'SCOPE_DENIED']);

/** The returned row as a target, when the mutation returned one (typename from its result union). */
function returnedTarget(result: unknown, typename: string | null): AuditTarget | null {
  if (!typename || !result || typeof result !== 'object') return null;
  const row = result as { id?: unknown; organizationId?: unknown; workspaceId?: unknown };
  if (typeof row.id !== 'string' || !isUuid(row.id)) return null;
  return targetOf(typename, {
    id: row.id,
    organizationId: typeof row.organizationId === 'string' ? row.organizationId : null,
    workspaceId: typeof row.workspaceId === 'string' ? row.workspaceId : null,
  });
}

/** The row the input names, attributed to its organization only when the caller has a role there. */
async function inputTarget(ctx: Context, input: unknown): Promise<AuditTarget | null> {
  if (!input || typeof input !== 'object') return null;
  const values = input as Record<string, unknown>;
  const globalId = TARGET_FIELDS.map((field) => values[field]).find((value): value is string => typeof value === 'string');
  const decoded = globalId ? decodeGlobalId(globalId) : null;
  if (!globalId || !decoded) return null;
  const owner = await ownershipOf(ctx, globalId);
  const ours = owner && roleIn(ctx.principal, owner.organizationId) !== null;
  return { type: decoded.typename, id: globalId, organizationId: ours ? owner.organizationId : null, workspaceId: ours ? owner.workspaceId : null };
}

/**
 * What a committed change makes stale: the organizations it happened in (the
 * rows' own, else every organization of the caller) and the rows it names.
 */
function invalidationOf(ctx: Context, targets: AuditTarget[]): ResponseCacheInvalidation {
  const named = targets.flatMap((target) => (target.organizationId ? [target.organizationId] : []));
  const callers = organizationsOf(ctx.principal);
  const organizationIds = named.length === targets.length && named.length ? named : [...new Set([...named, ...callers])];
  const entities = targets.flatMap((target) => [
    { typename: target.type, id: target.id },
    ...(target.workspaceId ? [{ typename: 'Workspace', id: encodeGlobalID('Workspace', target.workspaceId) }] : []),
  ]);
  return { organizationIds, entities };
}

function outcomeOf(result: unknown, thrown: unknown): Pick<AuditEntry, 'outcome' | 'details'> {
  if (thrown !== undefined) {
    const code = thrown instanceof GraphQLError ? thrown.extensions.code : undefined;
    if (typeof code === 'string' && DENIED_CODES.has(code)) return { outcome: 'DENIED', details: { code } };
    return { outcome: 'FAILURE', details: { code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR' } };
  }
  // The errors plugin hands typed errors back through a proxy that hides their class.
  const code = (result as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) return { outcome: 'FAILURE', details: { code } };
  return { outcome: 'SUCCESS' };
}

export function auditMutations(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  for (const field of Object.values(mutation?.getFields() ?? {})) {
    const resolve = field.resolve;
    if (!resolve) continue;
    const resultType = field.type.toString().replace(/!$/, '');
    const union = schema.getType(resultType);
    // The union member that is not an Error is what a success returns.
    const successType = isUnionType(union)
      ? (union.getTypes().find((member) => !member.getInterfaces().some((i) => i.name === 'Error'))?.name ?? null)
      : resultType;
    field.resolve = async (root, args: { input?: unknown }, ctx: Context, info) => {
      const scope = newMutationAudit(field.name);
      let result: unknown;
      let thrown: unknown;
      try {
        result = await runAuditedMutation(scope, async () => resolve(root, args, ctx, info));
        return result;
      } catch (error) {
        thrown = error ?? new Error('unknown error');
        throw error;
      } finally {
        const outcome = outcomeOf(result, thrown);
        // Purged before the caller reads the answer: it reads its own write next.
        if (scope.recorded) ctx.responseCache?.written(invalidationOf(ctx, scope.targets));
        // A change that succeeded wrote its entry in its own transaction (the
        // tenancy matrix proves it for every mutation); a success without one
        // is a bug, recorded late rather than lost.
        if (outcome.outcome === 'SUCCESS' && !scope.recorded) ctx.logger.error({ action: field.name }, 'mutation succeeded without auditing its change');
        if (outcome.outcome !== 'SUCCESS' || !scope.recorded) {
          const target =
            (outcome.outcome === 'SUCCESS' && returnedTarget(result, successType)) || (await inputTarget(ctx, args.input).catch(() => null));
          await recordAudit(ctx, { action: field.name, target, ...outcome });
        }
      }
    };
  }
  return schema;
}
