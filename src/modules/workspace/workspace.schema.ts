import { z } from 'zod';
import { requireWorkspace, visibleNode } from '../../auth/registry.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { originListSchema } from '../connect/connect.rules.js';
import { displayNameSchema, slugSchema } from '../../platform/identifiers.js';
import { parseInput } from '../../platform/validate.js';
import { builder } from '../common/builder.js';
import { may, staffOnly } from '../common/scopes.js';
import { decodeId } from '../../platform/ids.js';
import { createWorkspace, updateWorkspace, removeWorkspace } from './workspace.service.js';
import { resolveReferenceById } from '../common/references.js';
import { pointRead } from '../common/point-reads.js';
import { deleteMutation } from '../common/deleted.schema.js';

export const WorkspaceRef = builder.prismaNode('Workspace', {
  nullable: true,
  authScopes: (workspace) => staffOnly({ workspaceId: workspace.id }),
  id: { field: 'id' },
  findUnique: visibleNode('Workspace'),
  fields: (t) => ({
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    configVersion: t.exposeInt('configVersion', {
      description: 'Grows by one with every committed config change; pass it as sinceVersion to resume.',
    }),
    allowedRedirectOrigins: t.exposeStringList('allowedRedirectOrigins', {
      description: 'Origins a hosted connect session may send the end user back to (redirectUrl).',
    }),
    connectFrameAncestors: t.exposeStringList('connectFrameAncestors', {
      description: "Origins that may show the hosted connect page in a frame (CSP frame-ancestors); empty: none may.",
    }),
    organization: t.relation('organization'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const readWorkspace = pointRead('Workspace', (prisma, args) => prisma.workspace.findMany(args));

builder.asEntity(WorkspaceRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: resolveReferenceById('Workspace', readWorkspace),
});

builder.queryField('workspace', (t) =>
  t.prismaField({
    authScopes: { signedIn: true },
    type: 'Workspace',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId(String(args.id), 'Workspace');
      return id ? readWorkspace(ctx, query, id) : null;
    },
  }),
);

const CreateWorkspaceInput = builder.inputType('CreateWorkspaceInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    name: t.string({ required: true }),
    slug: t.string({ required: true }),
  }),
});

const UpdateWorkspaceInput = builder.inputType('UpdateWorkspaceInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    slug: t.string(),
    allowedRedirectOrigins: t.stringList({ description: 'Replaces the list; each an origin such as https://app.example.com.' }),
    connectFrameAncestors: t.stringList({ description: 'Replaces the list; each an origin such as https://app.example.com.' }),
  }),
});

const createWorkspaceSchema = z.object({
  organizationId: z.string(),
  name: displayNameSchema,
  slug: slugSchema,
});

const updateWorkspaceSchema = z.object({
  id: z.string(),
  name: displayNameSchema.nullish(),
  slug: slugSchema.nullish(),
  allowedRedirectOrigins: originListSchema.nullish(),
  connectFrameAncestors: originListSchema.nullish(),
});

builder.mutationField('createWorkspace', (t) =>
  t.prismaField({
    type: 'Workspace',
    authScopes: may('create', 'Workspace', 'organizationId'),
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: { name: 'CreateWorkspaceResult' } },
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true }) },
    resolve: (query, _root, args, ctx) => createWorkspace(ctx, parseInput(createWorkspaceSchema, args.input), query),
  }),
);

builder.mutationField('updateWorkspace', (t) =>
  t.prismaField({
    type: 'Workspace',
    description: "Changes the workspace's own settings: a config change (configVersion grows, subscribers hear it).",
    authScopes: may('update', 'Workspace', 'id'),
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: { name: 'UpdateWorkspaceResult' } },
    args: { input: t.arg({ type: UpdateWorkspaceInput, required: true }) },
    resolve: (query, _root, args, ctx) => updateWorkspace(ctx, parseInput(updateWorkspaceSchema, args.input), query),
  }),
);

deleteMutation('deleteWorkspace', {
  description: 'Deletes the workspace and everything in it: integrations, directories, spaces, end users, their connections, triggers and MCP servers.',
  type: 'Workspace',
  find: requireWorkspace,
  remove: removeWorkspace,
  revokes: (workspace) => ({ kind: 'workspace', workspaceId: workspace.id }),
});
