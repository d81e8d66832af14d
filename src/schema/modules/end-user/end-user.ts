// End users: the host product's users, mirrored per workspace, with the
// directory/space interaction rule and their own connections.
import { visible } from '../../../auth/tenancy.js';
import { peersWhere } from '../../../domain/end-users.js';
import {
  applyEndUserRecords,
  MAX_SYNC_BATCH,
  validateRecords,
  type SyncItemResult,
} from '../../../domain/end-user-sync.js';
import { NotFoundError, ValidationError } from '../../../domain/errors.js';
import type { Prisma } from '../../../generated/prisma/client.js';
import { builder } from '../../builder.js';
import { decodeId, safeUuid } from '../../ids.js';
import { requireDirectory, requireEndUser, requireWorkspace } from '../../lookup.js';
import { deleteMutation } from '../common/deleted.js';
import { FieldErrorRef } from '../common/errors.js';
import { ConnectionStatusEnum } from '../connection/connection.js';
import { workspaceScoped } from '../../scopes.js';

export const EndUserRef = builder.prismaNode('EndUser', {
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible.endUsers(ctx.principal)] }),
  fields: (t) => ({
    externalId: t.exposeString('externalId', { description: "The host product's id for this user (Weavy's uid)." }),
    displayName: t.exposeString('displayName', { nullable: true }),
    email: t.exposeString('email', { nullable: true }),
    avatarUrl: t.exposeString('avatarUrl', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    directory: t.relation('directory', { nullable: true, description: "null: the workspace's default directory." }),
    workspace: t.relation('workspace'),
    spaces: t.prismaConnection({
      type: 'Space',
      cursor: 'id',
      resolve: (query, user, _args, ctx) =>
        ctx.prisma.space.findMany({ ...query, where: { members: { some: { endUserId: user.id } } }, orderBy: { uid: 'asc' } }),
      totalCount: (user, _args, ctx) => ctx.prisma.spaceMember.count({ where: { endUserId: user.id } }),
    }),
    peers: t.prismaConnection({
      type: 'EndUser',
      cursor: 'id',
      description: 'The end users this one can interact with: same directory, or a common space.',
      resolve: (query, user, _args, ctx) => ctx.prisma.endUser.findMany({ ...query, where: peersWhere(user), orderBy: { createdAt: 'asc' } }),
      totalCount: (user, _args, ctx) => ctx.prisma.endUser.count({ where: peersWhere(user) }),
    }),
    canInteractWith: t.boolean({
      args: { externalId: t.arg.string({ required: true }) },
      resolve: async (user, args, ctx) =>
        (await ctx.prisma.endUser.count({ where: { AND: [peersWhere(user), { externalId: args.externalId }] } })) > 0,
    }),
    connections: t.relatedConnection('connections', {
      cursor: 'id',
      totalCount: true,
      description: "The end user's own (USER) connections, newest first.",
      args: { integrationName: t.arg.string(), status: t.arg({ type: ConnectionStatusEnum }) },
      query: (args) => ({
        where: {
          ...(args.integrationName ? { integrationName: args.integrationName } : {}),
          ...(args.status ? { status: args.status } : {}),
        },
        orderBy: { createdAt: 'desc' },
      }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Workspace', (t) => ({
  endUsers: t.relatedConnection('endUsers', {
    cursor: 'id',
    totalCount: true,
    args: {
      directoryId: t.arg.id({ description: "Only this directory's end users (an unknown id matches none)." }),
      search: t.arg.string({ description: 'Case-insensitive text in externalId, displayName or email.' }),
    },
    query: (args) => {
      const where: Prisma.EndUserWhereInput = {};
      if (args.directoryId != null) where.directoryId = decodeId(String(args.directoryId), 'Directory') ?? safeUuid('');
      if (args.search) {
        const contains = { contains: args.search, mode: 'insensitive' as const };
        where.OR = [{ externalId: contains }, { displayName: contains }, { email: contains }];
      }
      return { where, orderBy: { createdAt: 'asc' } };
    },
  }),
  endUser: t.prismaField({
    type: 'EndUser',
    nullable: true,
    args: { externalId: t.arg.string({ required: true }) },
    resolve: (query, workspace, args, ctx) =>
      ctx.prisma.endUser.findUnique({ ...query, where: { workspaceId_externalId: { workspaceId: workspace.id, externalId: args.externalId } } }),
  }),
}));

const EndUserSyncStatusEnum = builder.enumType('EndUserSyncStatus', { values: ['CREATED', 'UPDATED', 'UNCHANGED', 'FAILED'] as const });

const EndUserRecordInput = builder.inputType('EndUserRecordInput', {
  description: 'One end user as the host product knows it. Omitted fields stay as they are.',
  fields: (t) => ({
    externalId: t.string({ required: true, description: 'No whitespace, at least one non-digit, 1-256 characters (u256, not 256).' }),
    displayName: t.string(),
    email: t.string(),
    avatarUrl: t.string(),
    metadata: t.field({ type: 'JSON' }),
    directory: t.string({ description: "Directory name (created when missing); null: the workspace's default directory." }),
  }),
});

const UpsertEndUserInput = builder.inputType('UpsertEndUserInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    externalId: t.string({ required: true }),
    displayName: t.string(),
    email: t.string(),
    avatarUrl: t.string(),
    metadata: t.field({ type: 'JSON' }),
    directory: t.string({ description: "Directory name (created when missing); null: the workspace's default directory." }),
  }),
});

const SyncEndUsersInput = builder.inputType('SyncEndUsersInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    users: t.field({ type: [EndUserRecordInput], required: true, description: `At most ${MAX_SYNC_BATCH}.` }),
    removeMissing: t.boolean({ defaultValue: false, description: 'Delete the end users (and their connections) this call does not list.' }),
  }),
});

const EndUserSyncItemResultRef = builder.objectRef<SyncItemResult>('EndUserSyncItemResult').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position of the item in input.users.' }),
    externalId: t.exposeString('externalId', { nullable: true }),
    status: t.field({ type: EndUserSyncStatusEnum, resolve: (r) => r.status }),
    endUser: t.field({ type: EndUserRef, nullable: true, resolve: (r) => r.endUser }),
    fieldErrors: t.field({ type: [FieldErrorRef], resolve: (r) => r.fieldErrors }),
  }),
});

interface SyncSummary {
  results: SyncItemResult[];
  removed: number;
}

const countOf = (summary: SyncSummary, status: SyncItemResult['status']) => summary.results.filter((r) => r.status === status).length;

const SyncEndUsersResultRef = builder.objectRef<SyncSummary>('SyncEndUsersResult').implement({
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'results' in value && 'removed' in value,
  fields: (t) => ({
    created: t.int({ resolve: (s) => countOf(s, 'CREATED') }),
    updated: t.int({ resolve: (s) => countOf(s, 'UPDATED') }),
    unchanged: t.int({ resolve: (s) => countOf(s, 'UNCHANGED') }),
    failed: t.int({ resolve: (s) => countOf(s, 'FAILED') }),
    removed: t.exposeInt('removed'),
    results: t.field({ type: [EndUserSyncItemResultRef], description: 'One per input item, in input order.', resolve: (s) => s.results }),
  }),
});

const SYNC_TRANSACTION = { timeout: 60_000, maxWait: 10_000 };

builder.mutationField('syncEndUsers', (t) =>
  t.field({
    type: SyncEndUsersResultRef,
    description: 'Creates or updates up to 1,000 end users. Invalid items are reported and skipped; valid ones are stored. Free: not counted as usage.',
    authScopes: { staff: true },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'SyncEndUsersResultOrError' } },
    args: { input: t.arg({ type: SyncEndUsersInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const users = args.input.users;
      if (users.length > MAX_SYNC_BATCH) {
        throw new ValidationError([{ path: ['input', 'users'], message: `must list at most ${MAX_SYNC_BATCH} users per call` }]);
      }
      const workspace = await requireWorkspace(ctx, String(args.input.workspaceId), ['input', 'workspaceId']);
      const { valid, failed } = validateRecords(users, ['input', 'users']);
      const keep = users.flatMap((u) => (typeof u.externalId === 'string' ? [u.externalId] : []));
      const applied = await ctx.prisma.$transaction(
        (tx) => applyEndUserRecords(tx, workspace.id, valid, { removeMissing: args.input.removeMissing ?? false, keep }),
        SYNC_TRANSACTION,
      );
      return { results: [...applied.results, ...failed].sort((a, b) => a.index - b.index), removed: applied.removed };
    },
  }),
);

builder.mutationField('upsertEndUser', (t) =>
  t.prismaField({
    type: 'EndUser',
    description: 'Creates the end user, or updates the fields given. Free: not counted as usage.',
    authScopes: { staff: true },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpsertEndUserResult' } },
    args: { input: t.arg({ type: UpsertEndUserInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const { workspaceId, ...record } = args.input;
      const { valid, failed } = validateRecords([record], []);
      if (failed.length) throw new ValidationError(failed[0]!.fieldErrors.map((e) => ({ ...e, path: ['input', ...e.path.slice(1)] })));
      const workspace = await requireWorkspace(ctx, String(workspaceId), ['input', 'workspaceId']);
      const { results } = await ctx.prisma.$transaction((tx) =>
        applyEndUserRecords(tx, workspace.id, valid, { removeMissing: false, keep: [] }),
      );
      return ctx.prisma.endUser.findUniqueOrThrow({ ...query, where: { id: results[0]!.endUser!.id } });
    },
  }),
);

deleteMutation('deleteEndUser', {
  description: 'Deletes the end user and its connections.',
  find: requireEndUser,
  remove: (ctx, user) => ctx.prisma.endUser.delete({ where: { id: user.id } }),
});

const SetEndUserDirectoryInput = builder.inputType('SetEndUserDirectoryInput', {
  fields: (t) => ({
    endUserId: t.id({ required: true }),
    directoryId: t.id({ description: "null: the workspace's default directory." }),
  }),
});

builder.mutationField('setEndUserDirectory', (t) =>
  t.prismaField({
    type: 'EndUser',
    description: 'An end user is in at most one directory: this replaces the old one.',
    authScopes: { staff: true },
    errors: { types: [NotFoundError], union: { name: 'SetEndUserDirectoryResult' } },
    args: { input: t.arg({ type: SetEndUserDirectoryInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const user = await requireEndUser(ctx, String(args.input.endUserId), ['input', 'endUserId']);
      let directoryId: string | null = null;
      if (args.input.directoryId != null) {
        const directory = await requireDirectory(ctx, String(args.input.directoryId), ['input', 'directoryId']);
        if (directory.workspaceId !== user.workspaceId) throw new NotFoundError('directory', ['input', 'directoryId']);
        directoryId = directory.id;
      }
      return ctx.prisma.endUser.update({ ...query, where: { id: user.id }, data: { directoryId } });
    },
  }),
);
