// Spaces let end users of different directories interact: members of a common
// space are peers whatever their directories. Membership (Space.members and
// EndUser.spaces) lives here, both directions over the one join table.
import { prismaConnectionHelpers } from '@pothos/plugin-prisma';
import { z } from 'zod';
import { requireSpace, visible, visibleNode } from '../../auth/registry.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { displayNameSchema, externalIdSchema } from '../../platform/identifiers.js';
import { parseInput } from '../../platform/validate.js';
import type { EndUser, Space } from '../../generated/prisma/client.js';
import type { Context } from '../common/context.js';
import { builder } from '../common/builder.js';
import { may, workspaceScoped } from '../common/scopes.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { addSpaceMembers, createSpace, removeSpaceMembers, updateSpace, removeSpace } from './directory.service.js';
import { EndUserRef } from '../end-user/end-user.schema.js';

export const SpaceRef = builder.prismaNode('Space', {
  nullable: true,
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: visibleNode('Space'),
  fields: (t) => ({
    uid: t.exposeString('uid', { description: 'No whitespace, at least one non-digit, 1-256 characters; unique per workspace.' }),
    name: t.exposeString('name', { nullable: true }),
    workspace: t.relation('workspace'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Workspace', (t) => ({
  spaces: t.relatedConnection('spaces', {
    cursor: 'id',
    totalCount: true,
    query: (_args, ctx) => ({ where: visible('Space', ctx.principal), orderBy: { uid: 'asc' } }),
  }),
}));

// Both membership lists page over SpaceMember rows and answer with the other
// side. They load through the parent's query (no statement per parent), and
// the tenancy filter applies to the other side, so an end-user token sees only
// the members it may see.
const memberWhere = (ctx: Context) => ({ endUser: visible('EndUser', ctx.principal) });
const spaceWhere = (ctx: Context) => ({ space: visible('Space', ctx.principal) });

const membersOfSpace = prismaConnectionHelpers(builder, 'SpaceMember', {
  cursor: 'spaceId_endUserId',
  query: (_args, ctx) => ({ where: memberWhere(ctx), orderBy: { endUserId: 'asc' as const } }),
  // Selecting the id keeps the query valid when only totalCount is asked for.
  // EndUser and Space are in include mode: any field beneath `node` loads the
  // whole row, which is what the casts below state.
  select: (nodeSelection) => ({ endUser: nodeSelection({ select: { id: true } }) }),
  resolveNode: (membership) => membership.endUser as EndUser,
});

const spacesOfEndUser = prismaConnectionHelpers(builder, 'SpaceMember', {
  cursor: 'spaceId_endUserId',
  query: (_args, ctx) => ({ where: spaceWhere(ctx), orderBy: { spaceId: 'asc' as const } }),
  select: (nodeSelection) => ({ space: nodeSelection({ select: { id: true } }) }),
  resolveNode: (membership) => membership.space as Space,
});

builder.prismaObjectField('Space', 'members', (t) =>
  t.connection(
    {
      type: EndUserRef,
      description: 'End users of any directory of the workspace, in the order they were created.',
      select: (args, ctx, nestedSelection) => ({
        members: membersOfSpace.getQuery(args, ctx, nestedSelection),
        _count: { select: { members: { where: memberWhere(ctx) } } },
      }),
      resolve: (space, args, ctx) => ({ ...membersOfSpace.resolve(space.members, args, ctx), totalCount: space._count.members }),
    },
    { fields: (connection) => ({ totalCount: connection.int({ resolve: (result) => result.totalCount }) }) },
  ),
);

builder.prismaObjectField('EndUser', 'spaces', (t) =>
  t.connection(
    {
      type: SpaceRef,
      description: 'The spaces this end user is a member of, in the order they were created.',
      select: (args, ctx, nestedSelection) => ({
        spaces: spacesOfEndUser.getQuery(args, ctx, nestedSelection),
        _count: { select: { spaces: { where: spaceWhere(ctx) } } },
      }),
      resolve: (user, args, ctx) => ({ ...spacesOfEndUser.resolve(user.spaces, args, ctx), totalCount: user._count.spaces }),
    },
    { fields: (connection) => ({ totalCount: connection.int({ resolve: (result) => result.totalCount }) }) },
  ),
);

const CreateSpaceInput = builder.inputType('CreateSpaceInput', {
  fields: (t) => ({ workspaceId: t.id({ required: true }), uid: t.string({ required: true }), name: t.string() }),
});
const UpdateSpaceInput = builder.inputType('UpdateSpaceInput', {
  description: 'Omitted fields stay as they are; a null name clears it.',
  fields: (t) => ({ id: t.id({ required: true }), name: t.string() }),
});
const SpaceMembersInput = builder.inputType('SpaceMembersInput', {
  fields: (t) => ({ spaceId: t.id({ required: true }), endUserIds: t.idList({ required: true }) }),
});

const createSpaceSchema = z.object({ workspaceId: z.string(), uid: externalIdSchema, name: displayNameSchema.nullish() });
const updateSpaceSchema = z.object({ id: z.string(), name: displayNameSchema.nullish() });
const spaceMembersSchema = z.object({ spaceId: z.string(), endUserIds: z.array(z.string()) });

builder.mutationField('createSpace', (t) =>
  t.prismaField({
    type: 'Space',
    authScopes: may('create', 'Space', 'workspaceId'),
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: { name: 'CreateSpaceResult' } },
    args: { input: t.arg({ type: CreateSpaceInput, required: true }) },
    resolve: (query, _root, args, ctx) => createSpace(ctx, parseInput(createSpaceSchema, args.input), query),
  }),
);

builder.mutationField('updateSpace', (t) =>
  t.prismaField({
    type: 'Space',
    authScopes: may('update', 'Space', 'id'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateSpaceResult' } },
    args: { input: t.arg({ type: UpdateSpaceInput, required: true }) },
    resolve: (query, _root, args, ctx) => updateSpace(ctx, parseInput(updateSpaceSchema, args.input), query),
  }),
);

deleteMutation('deleteSpace', {
  description: 'Deletes the space and its memberships; the end users stay.',
  type: 'Space',
  find: requireSpace,
  remove: removeSpace,
});

function membershipMutation(
  name: string,
  description: string,
  change: typeof addSpaceMembers,
): void {
  const typeName = name[0]!.toUpperCase() + name.slice(1);
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'Space',
      description,
      authScopes: may('update', 'Space', 'spaceId'),
      errors: { types: [ValidationError, NotFoundError], union: { name: `${typeName}Result` } },
      args: { input: t.arg({ type: SpaceMembersInput, required: true }) },
      resolve: (query, _root, args, ctx) => change(ctx, parseInput(spaceMembersSchema, args.input), query),
    }),
  );
}

membershipMutation(
  'addSpaceMembers',
  'Adds end users of the same workspace; adding a member that is already in the space changes nothing.',
  addSpaceMembers,
);

membershipMutation(
  'removeSpaceMembers',
  'Removes end users of the same workspace from the space; one that is not a member is ignored.',
  removeSpaceMembers,
);
