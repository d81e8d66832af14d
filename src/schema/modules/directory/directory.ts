// Directories group a workspace's end users; users in one directory can interact.
import { z } from 'zod';
import { visible } from '../../../auth/tenancy.js';
import { uniqueViolation } from '../../../db/errors.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../domain/errors.js';
import { externalIdSchema } from '../../../domain/identifiers.js';
import { parseInput } from '../../../domain/validate.js';
import { builder } from '../../builder.js';
import { safeUuid } from '../../ids.js';
import { requireDirectory, requireWorkspace } from '../../lookup.js';
import { deleteMutation } from '../common/deleted.js';
import { workspaceScoped } from '../../scopes.js';

builder.prismaNode('Directory', {
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible.directories(ctx.principal)] }),
  fields: (t) => ({
    name: t.exposeString('name'),
    workspace: t.relation('workspace'),
    endUsers: t.relatedConnection('endUsers', { cursor: 'id', totalCount: true, query: () => ({ orderBy: { createdAt: 'asc' } }) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Workspace', (t) => ({
  directories: t.relatedConnection('directories', { cursor: 'id', totalCount: true, query: () => ({ orderBy: { name: 'asc' } }) }),
}));

export function directoryNameConflict(error: unknown, name: string): never {
  if (uniqueViolation(error)) throw new ConflictError(`directory "${name}" already exists in this workspace`, ['input', 'name']);
  throw error;
}

const CreateDirectoryInput = builder.inputType('CreateDirectoryInput', {
  fields: (t) => ({ workspaceId: t.id({ required: true }), name: t.string({ required: true }) }),
});
const RenameDirectoryInput = builder.inputType('RenameDirectoryInput', {
  fields: (t) => ({ id: t.id({ required: true }), name: t.string({ required: true }) }),
});

const directoryErrors = { types: [ValidationError, ConflictError, NotFoundError] };

builder.mutationField('createDirectory', (t) =>
  t.prismaField({
    type: 'Directory',
    authScopes: { staff: true },
    errors: { ...directoryErrors, union: { name: 'CreateDirectoryResult' } },
    args: { input: t.arg({ type: CreateDirectoryInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(z.object({ workspaceId: z.string(), name: externalIdSchema }), args.input);
      const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
      try {
        return await ctx.prisma.directory.create({ ...query, data: { workspaceId: workspace.id, name: input.name } });
      } catch (error) {
        directoryNameConflict(error, input.name);
      }
    },
  }),
);

builder.mutationField('renameDirectory', (t) =>
  t.prismaField({
    type: 'Directory',
    authScopes: { staff: true },
    errors: { ...directoryErrors, union: { name: 'RenameDirectoryResult' } },
    args: { input: t.arg({ type: RenameDirectoryInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(z.object({ id: z.string(), name: externalIdSchema }), args.input);
      const directory = await requireDirectory(ctx, input.id, ['input', 'id']);
      try {
        return await ctx.prisma.directory.update({ ...query, where: { id: directory.id }, data: { name: input.name } });
      } catch (error) {
        directoryNameConflict(error, input.name);
      }
    },
  }),
);

deleteMutation('deleteDirectory', {
  description: "Its end users move to the workspace's default directory; its DIRECTORY connections are deleted.",
  find: requireDirectory,
  remove: (ctx, directory) => ctx.prisma.directory.delete({ where: { id: directory.id } }),
});
