// Trigger changes, each committed with its audit entry.
import { requireConnection, requireOrganization, requireTrigger, requireWorkspace } from '../../auth/registry.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { goneIsNotFound } from '../../platform/db/errors.js';
import { ValidationError } from '../../platform/errors.js';
import { auditedTransaction, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import type { Tx } from '../../platform/outbox.js';
import { triggerErrors, type CreateTrigger, type UpdateTrigger } from './trigger.rules.js';

export type TriggerQuery = { include?: Prisma.TriggerInclude; select?: Prisma.TriggerSelect };

async function triggerConnection(ctx: Context, globalId: string | null | undefined, owner: { organizationId: string; workspaceId: string | null }) {
  if (!globalId) return null;
  const connection = await requireConnection(ctx, globalId, ['input', 'connectionId']);
  const sameOwner =
    connection.organizationId === owner.organizationId &&
    (connection.workspaceId === null || connection.workspaceId === owner.workspaceId);
  if (!sameOwner) throw new ValidationError([{ path: ['input', 'connectionId'], message: 'is not visible to this trigger' }]);
  return connection;
}

function assertValid(...args: Parameters<typeof triggerErrors>) {
  const errors = triggerErrors(...args);
  if (errors.length) throw new ValidationError(errors);
}

export async function createTrigger(ctx: Context, input: CreateTrigger, query: TriggerQuery) {
  const owner = input.workspaceId
    ? await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']).then((ws) => ({ organizationId: ws.organizationId, workspaceId: ws.id }))
    : { organizationId: (await requireOrganization(ctx, input.organizationId!, ['input', 'organizationId'])).id, workspaceId: null };
  const connection = await triggerConnection(ctx, input.connectionId, owner);
  assertValid(input, connection);
  return auditedTransaction(
    ctx,
    (tx) =>
      tx.trigger.create({
        ...query,
        data: {
          ...owner,
          connectionId: connection?.id ?? null,
          integrationName: input.integrationName,
          eventName: input.eventName,
          callbackUrl: input.callbackUrl,
          pollingIntervalMinutes: input.pollingIntervalMinutes,
          enabled: input.enabled,
        },
      }),
    (trigger) => targetOf('Trigger', trigger),
  );
}

export async function updateTrigger(ctx: Context, input: UpdateTrigger, query: TriggerQuery) {
  const current = await requireTrigger(ctx, input.id, ['input', 'id']);
  const connection =
    input.connectionId !== undefined
      ? await triggerConnection(ctx, input.connectionId, current)
      : current.connectionId
        ? await ctx.prisma.connection.findUnique({ where: { id: current.connectionId } })
        : null;
  const eventName = input.eventName ?? current.eventName;
  assertValid({ integrationName: current.integrationName, eventName }, connection);
  return auditedTransaction(
    ctx,
    (tx) =>
      tx.trigger.update({
        ...query,
        where: { id: current.id },
        data: {
          eventName,
          connectionId: connection?.id ?? null,
          ...(input.callbackUrl !== undefined ? { callbackUrl: input.callbackUrl } : {}),
          ...(input.pollingIntervalMinutes !== undefined ? { pollingIntervalMinutes: input.pollingIntervalMinutes } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        },
      }),
    () => targetOf('Trigger', current),
  ).catch(goneIsNotFound('trigger', ['input', 'id']));
}

/** Deletes the trigger. */
export const removeTrigger = (tx: Tx, trigger: { id: string }) => tx.trigger.deleteMany({ where: { id: trigger.id } });
