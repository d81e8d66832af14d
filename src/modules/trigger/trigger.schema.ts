// Triggers: a callback for an integration's events, in an organization or one of its workspaces.
import { requireTrigger, visibleNode } from '../../auth/registry.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { createSchema, updateSchema } from './trigger.rules.js';
import { createTrigger, updateTrigger, removeTrigger } from './trigger.service.js';
import { parseInput } from '../../platform/validate.js';
import { builder } from '../common/builder.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { may, staffOnly } from '../common/scopes.js';

builder.prismaNode('Trigger', {
  nullable: true,
  authScopes: staffOnly,
  id: { field: 'id' },
  findUnique: visibleNode('Trigger'),
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


/** A connection for a trigger must be in the same organization (and, if workspace-placed, the same workspace). */
builder.mutationField('createTrigger', (t) =>
  t.prismaField({
    type: 'Trigger',
    authScopes: may('create', 'Trigger', 'workspaceId', 'organizationId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'CreateTriggerResult' } },
    args: { input: t.arg({ type: CreateTriggerInput, required: true }) },
    resolve: (query, _root, args, ctx) => createTrigger(ctx, parseInput(createSchema, args.input), query),
  }),
);

builder.mutationField('updateTrigger', (t) =>
  t.prismaField({
    type: 'Trigger',
    authScopes: may('update', 'Trigger', 'id'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateTriggerResult' } },
    args: { input: t.arg({ type: UpdateTriggerInput, required: true }) },
    resolve: (query, _root, args, ctx) => updateTrigger(ctx, parseInput(updateSchema, args.input), query),
  }),
);

deleteMutation('deleteTrigger', {
  type: 'Trigger',
  find: requireTrigger,
  remove: removeTrigger,
});
