// Directories group a workspace's end users; users in one directory can
// interact. An end user is in at most one; none means the workspace's default
// directory, which has no row of its own.
import { z } from 'zod';
import { requireDirectory, visible, visibleNode } from '../../auth/registry.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { externalIdSchema } from '../../platform/identifiers.js';
import { parseInput } from '../../platform/validate.js';
import { announceConnectionsChanged } from '../realtime/connection-status.js';
import { builder } from '../common/builder.js';
import { may, workspaceScoped } from '../common/scopes.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { createDirectory, renameDirectory, removeDirectory } from './directory.service.js';

export const DirectoryRef = builder.prismaNode('Directory', {
  nullable: true,
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: visibleNode('Directory'),
  fields: (t) => ({
    name: t.exposeString('name', { description: 'No whitespace, at least one non-digit, 1-256 characters; unique per workspace.' }),
    workspace: t.relation('workspace'),
    endUsers: t.relatedConnection('endUsers', {
      cursor: 'id',
      totalCount: true,
      query: (_args, ctx) => ({ where: visible('EndUser', ctx.principal), orderBy: { createdAt: 'asc' } }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Workspace', (t) => ({
  directories: t.relatedConnection('directories', {
    cursor: 'id',
    totalCount: true,
    query: (_args, ctx) => ({ where: visible('Directory', ctx.principal), orderBy: { name: 'asc' } }),
  }),
}));

const CreateDirectoryInput = builder.inputType('CreateDirectoryInput', {
  fields: (t) => ({ workspaceId: t.id({ required: true }), name: t.string({ required: true }) }),
});
const RenameDirectoryInput = builder.inputType('RenameDirectoryInput', {
  fields: (t) => ({ id: t.id({ required: true }), name: t.string({ required: true }) }),
});

const createDirectorySchema = z.object({ workspaceId: z.string(), name: externalIdSchema });
const renameDirectorySchema = z.object({ id: z.string(), name: externalIdSchema });

const directoryErrors = [ValidationError, ConflictError, NotFoundError];

builder.mutationField('createDirectory', (t) =>
  t.prismaField({
    type: 'Directory',
    authScopes: may('create', 'Directory', 'workspaceId'),
    errors: { types: directoryErrors, union: { name: 'CreateDirectoryResult' } },
    args: { input: t.arg({ type: CreateDirectoryInput, required: true }) },
    resolve: (query, _root, args, ctx) => createDirectory(ctx, parseInput(createDirectorySchema, args.input), query),
  }),
);

builder.mutationField('renameDirectory', (t) =>
  t.prismaField({
    type: 'Directory',
    authScopes: may('update', 'Directory', 'id'),
    errors: { types: directoryErrors, union: { name: 'RenameDirectoryResult' } },
    args: { input: t.arg({ type: RenameDirectoryInput, required: true }) },
    resolve: (query, _root, args, ctx) => renameDirectory(ctx, parseInput(renameDirectorySchema, args.input), query),
  }),
);

deleteMutation('deleteDirectory', {
  description: "Its end users move to the workspace's default directory; its DIRECTORY connections are deleted.",
  type: 'Directory',
  find: requireDirectory,
  remove: removeDirectory,
  afterCommit: async (ctx, directory) => {
    announceConnectionsChanged(ctx.pubsub, { workspaceId: directory.workspaceId, endUserId: null });
    await ctx.principals.announce({ kind: 'directory', directoryId: directory.id }); // its end users' peers changed
  },
});
