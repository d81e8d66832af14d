// Spaces let end users of different directories interact: members of a common
// space are peers whatever their directories.
import { z } from 'zod';
import { visible } from '../../../auth/tenancy.js';
import { uniqueViolation } from '../../../db/errors.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../domain/errors.js';
import { displayNameSchema, externalIdSchema } from '../../../domain/identifiers.js';
import { parseInput } from '../../../domain/validate.js';
import type { Context } from '../../../server/context.js';
import { builder } from '../../builder.js';
import { decodeId, safeUuid } from '../../ids.js';
import { requireSpace, requireWorkspace } from '../../lookup.js';
import { deleteMutation } from '../common/deleted.js';
import { workspaceScoped } from '../../scopes.js';

builder.prismaNode('Space', {
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible.spaces(ctx.principal)] }),
  fields: (t) => ({
    uid: t.exposeString('uid'),
    name: t.exposeString('name', { nullable: true }),
    workspace: t.relation('workspace'),
    members: t.prismaConnection({
      type: 'EndUser',
      cursor: 'id',
      resolve: (query, space, _args, ctx) =>
        ctx.prisma.endUser.findMany({ ...query, where: { spaces: { some: { spaceId: space.id } } }, orderBy: { createdAt: 'asc' } }),
      totalCount: (space, _args, ctx) => ctx.prisma.spaceMember.count({ where: { spaceId: space.id } }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Workspace', (t) => ({
  spaces: t.relatedConnection('spaces', { cursor: 'id', totalCount: true, query: () => ({ orderBy: { uid: 'asc' } }) }),
}));

function uidConflict(error: unknown, uid: string): never {
  if (uniqueViolation(error)) throw new ConflictError(`space "${uid}" already exists in this workspace`, ['input', 'uid']);
  throw error;
}

const CreateSpaceInput = builder.inputType('CreateSpaceInput', {
  fields: (t) => ({ workspaceId: t.id({ required: true }), uid: t.string({ required: true }), name: t.string() }),
});
const UpdateSpaceInput = builder.inputType('UpdateSpaceInput', {
  fields: (t) => ({ id: t.id({ required: true }), name: t.string() }),
});
const SpaceMembersInput = builder.inputType('SpaceMembersInput', {
  fields: (t) => ({ spaceId: t.id({ required: true }), endUserIds: t.idList({ required: true }) }),
});

builder.mutationField('createSpace', (t) =>
  t.prismaField({
    type: 'Space',
    authScopes: { staff: true },
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: { name: 'CreateSpaceResult' } },
    args: { input: t.arg({ type: CreateSpaceInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(z.object({ workspaceId: z.string(), uid: externalIdSchema, name: displayNameSchema.nullish() }), args.input);
      const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
      try {
        return await ctx.prisma.space.create({ ...query, data: { workspaceId: workspace.id, uid: input.uid, name: input.name ?? null } });
      } catch (error) {
        uidConflict(error, input.uid);
      }
    },
  }),
);

builder.mutationField('updateSpace', (t) =>
  t.prismaField({
    type: 'Space',
    authScopes: { staff: true },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateSpaceResult' } },
    args: { input: t.arg({ type: UpdateSpaceInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(z.object({ id: z.string(), name: displayNameSchema.nullish() }), args.input);
      const space = await requireSpace(ctx, input.id, ['input', 'id']);
      return ctx.prisma.space.update({ ...query, where: { id: space.id }, data: { name: input.name ?? null } });
    },
  }),
);

deleteMutation('deleteSpace', {
  find: requireSpace,
  remove: (ctx, space) => ctx.prisma.space.delete({ where: { id: space.id } }),
});

/** The end users named by the input, all of the space's workspace (else NOT_FOUND at their index). */
async function spaceMembers(ctx: Context, workspaceId: string, globalIds: readonly (string | number)[]): Promise<string[]> {
  const ids = globalIds.map((id) => decodeId(String(id), 'EndUser'));
  const found = await ctx.prisma.endUser.findMany({
    where: { workspaceId, id: { in: ids.filter((id): id is string => id !== null) } },
    select: { id: true },
  });
  const known = new Set(found.map((u) => u.id));
  const missing = ids.findIndex((id) => id === null || !known.has(id));
  if (missing >= 0) throw new NotFoundError('end user', ['input', 'endUserIds', String(missing)]);
  return [...new Set(ids as string[])];
}

builder.mutationField('addSpaceMembers', (t) =>
  t.prismaField({
    type: 'Space',
    description: 'Adding a member that is already in the space changes nothing.',
    authScopes: { staff: true },
    errors: { types: [NotFoundError], union: { name: 'AddSpaceMembersResult' } },
    args: { input: t.arg({ type: SpaceMembersInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const space = await requireSpace(ctx, String(args.input.spaceId), ['input', 'spaceId']);
      const endUserIds = await spaceMembers(ctx, space.workspaceId, args.input.endUserIds);
      await ctx.prisma.spaceMember.createMany({ data: endUserIds.map((endUserId) => ({ spaceId: space.id, endUserId })), skipDuplicates: true });
      return ctx.prisma.space.findUniqueOrThrow({ ...query, where: { id: space.id } });
    },
  }),
);

builder.mutationField('removeSpaceMembers', (t) =>
  t.prismaField({
    type: 'Space',
    authScopes: { staff: true },
    errors: { types: [NotFoundError], union: { name: 'RemoveSpaceMembersResult' } },
    args: { input: t.arg({ type: SpaceMembersInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const space = await requireSpace(ctx, String(args.input.spaceId), ['input', 'spaceId']);
      const endUserIds = await spaceMembers(ctx, space.workspaceId, args.input.endUserIds);
      await ctx.prisma.spaceMember.deleteMany({ where: { spaceId: space.id, endUserId: { in: endUserIds } } });
      return ctx.prisma.space.findUniqueOrThrow({ ...query, where: { id: space.id } });
    },
  }),
);
