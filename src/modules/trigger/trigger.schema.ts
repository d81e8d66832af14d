// Triggers: a callback for an integration's events, in an organization or one of its workspaces.
import { z } from 'zod';
import { visible } from '../../auth/tenancy.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { callbackUrlSchema, pollingIntervalSchema, triggerErrors } from './trigger.rules.js';
import { parseInput } from '../../platform/validate.js';
import type { Context } from '../common/context.js';
import { builder } from '../common/builder.js';
import { safeUuid } from '../../platform/ids.js';
import { requireConnection, requireOrganization, requireTrigger, requireWorkspace } from '../../auth/lookup.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { needs, staffOnly } from '../common/scopes.js';

builder.prismaNode('Trigger', {
  nullable: true,
  authScopes: staffOnly,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible.triggers(ctx.principal)] }),
  fields: (t) => ({
    integrationName: t.exposeString('integrationName'),
    eventName: t.exposeString('eventName'),
    callbackUrl: t.exposeString('callbackUrl'),
    pollingIntervalMinutes: t.exposeInt('pollingIntervalMinutes'),
    enabled: t.exposeBoolean('enabled'),
    organization: t.relation('organization'),
    workspace: t.relation('workspace', { nullable: true }),
    connection: t.relation('connection', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Organization', (t) => ({
  triggers: t.relatedConnection('triggers', { cursor: 'id', totalCount: true, query: () => ({ orderBy: { createdAt: 'asc' } }) }),
}));

builder.prismaObjectFields('Workspace', (t) => ({
  triggers: t.relatedConnection('triggers', { cursor: 'id', totalCount: true, query: () => ({ orderBy: { createdAt: 'asc' } }) }),
}));

const CreateTriggerInput = builder.inputType('CreateTriggerInput', {
  description: 'An organization-wide trigger takes organizationId; a workspace trigger takes workspaceId.',
  fields: (t) => ({
    organizationId: t.id(),
    workspaceId: t.id(),
    integrationName: t.string({ required: true }),
    eventName: t.string({ required: true, description: 'One of the integration’s catalog events.' }),
    callbackUrl: t.string({ required: true, description: 'https, or http to localhost.' }),
    pollingIntervalMinutes: t.int({ defaultValue: 15, description: '1 to 1,440.' }),
    connectionId: t.id(),
    enabled: t.boolean({ defaultValue: true }),
  }),
});

const UpdateTriggerInput = builder.inputType('UpdateTriggerInput', {
  description: 'Omitted fields stay as they are; connectionId can be set to null.',
  fields: (t) => ({
    id: t.id({ required: true }),
    eventName: t.string(),
    callbackUrl: t.string(),
    pollingIntervalMinutes: t.int(),
    connectionId: t.id(),
    enabled: t.boolean(),
  }),
});

const createSchema = z
  .object({
    organizationId: z.string().nullish(),
    workspaceId: z.string().nullish(),
    integrationName: z.string().min(1),
    eventName: z.string().min(1),
    callbackUrl: callbackUrlSchema,
    pollingIntervalMinutes: pollingIntervalSchema,
    connectionId: z.string().nullish(),
    enabled: z.boolean(),
  })
  .refine((input) => (input.organizationId == null) !== (input.workspaceId == null), {
    path: ['workspaceId'],
    message: 'give exactly one of organizationId or workspaceId',
  });

const updateSchema = z.object({
  id: z.string(),
  eventName: z.string().min(1).optional(),
  callbackUrl: callbackUrlSchema.optional(),
  pollingIntervalMinutes: pollingIntervalSchema.optional(),
  connectionId: z.string().nullish(),
  enabled: z.boolean().optional(),
});

/** A connection for a trigger must be in the same organization (and, if workspace-placed, the same workspace). */
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

builder.mutationField('createTrigger', (t) =>
  t.prismaField({
    type: 'Trigger',
    authScopes: needs('ADMIN', 'workspaceId', 'organizationId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'CreateTriggerResult' } },
    args: { input: t.arg({ type: CreateTriggerInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(createSchema, args.input);
      const owner = input.workspaceId
        ? await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']).then((ws) => ({ organizationId: ws.organizationId, workspaceId: ws.id }))
        : { organizationId: (await requireOrganization(ctx, input.organizationId!, ['input', 'organizationId'])).id, workspaceId: null };
      const connection = await triggerConnection(ctx, input.connectionId, owner);
      assertValid(input, connection);
      return ctx.prisma.trigger.create({
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
      });
    },
  }),
);

builder.mutationField('updateTrigger', (t) =>
  t.prismaField({
    type: 'Trigger',
    authScopes: needs('ADMIN', 'id'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateTriggerResult' } },
    args: { input: t.arg({ type: UpdateTriggerInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(updateSchema, args.input);
      const current = await requireTrigger(ctx, input.id, ['input', 'id']);
      const connection =
        input.connectionId !== undefined
          ? await triggerConnection(ctx, input.connectionId, current)
          : current.connectionId
            ? await ctx.prisma.connection.findUnique({ where: { id: current.connectionId } })
            : null;
      const eventName = input.eventName ?? current.eventName;
      assertValid({ integrationName: current.integrationName, eventName }, connection);
      return ctx.prisma.trigger.update({
        ...query,
        where: { id: current.id },
        data: {
          eventName,
          connectionId: connection?.id ?? null,
          ...(input.callbackUrl !== undefined ? { callbackUrl: input.callbackUrl } : {}),
          ...(input.pollingIntervalMinutes !== undefined ? { pollingIntervalMinutes: input.pollingIntervalMinutes } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        },
      });
    },
  }),
);

deleteMutation('deleteTrigger', {
  label: 'trigger',
  find: requireTrigger,
  remove: (tx, trigger) => tx.trigger.deleteMany({ where: { id: trigger.id } }),
});
