// End users: the host product's users, mirrored per workspace. Who may
// interact with whom is peersWhere (auth/registry.ts); every list of end
// users also goes through the tenancy filter, so an end-user token sees only
// itself and its peers however deep it navigates. Membership in spaces is in
// directory/space.schema.ts.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { z } from 'zod';
import { peersWhere, requireEndUser, visible, visibleNode } from '../../auth/registry.js';
import { peersOf } from './end-user-peers.service.js';
import { endUserRecordSchema, MAX_SYNC_BATCH, type SyncItemResult, type SyncStatus } from './end-user-sync.service.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validate.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Context } from '../common/context.js';
import { builder, type HeddleTypes } from '../common/builder.js';
import { pointRead } from '../common/point-reads.js';
import { decodeId, NIL_UUID } from '../../platform/ids.js';
import { resolveReferenceById } from '../common/references.js';
import { may, workspaceScoped } from '../common/scopes.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { setEndUserDirectory, syncEndUsers, upsertEndUser, removeEndUser } from './end-user.service.js';
import { FieldErrorRef } from '../common/errors.schema.js';
import { ConnectionStatusEnum } from '../connection/connection.schema.js';

/** Whether the field being resolved selects `name` directly (through fragments too). */
function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const selects = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((node) => {
      if (node.kind === Kind.FIELD) return node.name.value === name;
      if (node.kind === Kind.INLINE_FRAGMENT) return selects(node.selectionSet);
      return selects(info.fragments[node.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node) => selects(node.selectionSet));
}

/** The end user's peers that the caller may see. */
const visiblePeers = (user: Parameters<typeof peersWhere>[0], ctx: Context): Prisma.EndUserWhereInput => ({
  AND: [peersWhere(user), visible('EndUser', ctx.principal)],
});

export const EndUserRef = builder.prismaNode('EndUser', {
  nullable: true,
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: visibleNode('EndUser'),
  fields: (t) => ({
    externalId: t.exposeString('externalId', { description: "The host product's id for this user (Weavy's uid)." }),
    displayName: t.exposeString('displayName', { nullable: true }),
    email: t.exposeString('email', { nullable: true }),
    avatarUrl: t.exposeString('avatarUrl', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    directory: t.relation('directory', { nullable: true, description: "null: the workspace's default directory." }),
    workspace: t.relation('workspace'),
    // The set depends on each end user's directory and spaces, so it is no
    // relation the parent query can load: one statement reads it for every
    // end user of the page.
    peers: t.prismaConnection({
      type: 'EndUser',
      cursor: 'id',
      description: 'The end users this one can interact with: same directory (or both in the default one), or a common space.',
      resolve: async (query, user, args, ctx, info) =>
        (await peersOf(ctx, user.id, args, { page: { take: query.take, skip: query.skip, cursor: query.cursor }, withTotal: selectsField(info, 'totalCount') })).rows,
      totalCount: async (user, args, ctx) => (await peersOf(ctx, user.id, args, { page: null, withTotal: true })).total!,
    }),
    canInteractWith: t.boolean({
      description: 'Whether the end user with this externalId (same workspace) is one of the peers.',
      args: { externalId: t.arg.string({ required: true }) },
      resolve: async (user, args, ctx) =>
        (await ctx.prisma.endUser.count({ where: { AND: [visiblePeers(user, ctx), { externalId: args.externalId }] } })) > 0,
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

const readEndUser = pointRead('EndUser', (prisma, args) => prisma.endUser.findMany(args));

builder.asEntity(EndUserRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: resolveReferenceById('EndUser', readEndUser),
});

builder.prismaObjectFields('Workspace', (t) => ({
  endUsers: t.relatedConnection('endUsers', {
    cursor: 'id',
    totalCount: true,
    args: {
      directoryId: t.arg.id({ description: "Only this directory's end users. An id that is no directory of this workspace matches none." }),
      search: t.arg.string({ description: 'Case-insensitive substring of externalId, displayName or email.' }),
    },
    query: (args, ctx) => {
      const filters: Prisma.EndUserWhereInput[] = [visible('EndUser', ctx.principal)];
      // A filter, not a lookup: an unknown, malformed or foreign directory id
      // simply matches nobody (no error, so no existence oracle either).
      if (args.directoryId != null) filters.push({ directoryId: decodeId(String(args.directoryId), 'Directory') ?? NIL_UUID });
      if (args.search) {
        const contains = { contains: args.search, mode: 'insensitive' as const };
        filters.push({ OR: [{ externalId: contains }, { displayName: contains }, { email: contains }] });
      }
      return { where: { AND: filters }, orderBy: { createdAt: 'asc' } };
    },
  }),
  endUser: t.prismaField({
    type: 'EndUser',
    nullable: true,
    args: { externalId: t.arg.string({ required: true }) },
    resolve: (query, workspace, args, ctx) =>
      ctx.prisma.endUser.findFirst({
        ...query,
        where: { workspaceId: workspace.id, externalId: args.externalId, AND: [visible('EndUser', ctx.principal)] },
      }),
  }),
}));

const DIRECTORY_DESCRIPTION = "A directory name (created when missing); null: the workspace's default directory; omitted: unchanged.";

/** The fields of one end-user record, shared by upsertEndUser and syncEndUsers. */
const endUserRecordFields = (t: PothosSchemaTypes.InputFieldBuilder<HeddleTypes, 'InputObject'>) => ({
  externalId: t.string({ required: true, description: 'No whitespace, at least one non-digit, 1-256 characters (u256, not 256).' }),
  displayName: t.string(),
  email: t.string(),
  avatarUrl: t.string(),
  metadata: t.field({ type: 'JSON', description: 'A JSON object.' }),
  directory: t.string({ description: DIRECTORY_DESCRIPTION }),
});

const UpsertEndUserInput = builder.inputType('UpsertEndUserInput', {
  description: 'Creates the end user or updates it by (workspace, externalId). Omitted fields stay as they are.',
  fields: (t) => ({ workspaceId: t.id({ required: true }), ...endUserRecordFields(t) }),
});

const EndUserSyncItem = builder.inputType('EndUserSyncItem', {
  description: 'One end user as the host product knows it. Omitted fields stay as they are.',
  fields: (t) => endUserRecordFields(t),
});

const SyncEndUsersInput = builder.inputType('SyncEndUsersInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    users: t.field({ type: [EndUserSyncItem], required: true, description: `At most ${MAX_SYNC_BATCH}.` }),
    removeMissing: t.boolean({
      defaultValue: false,
      description: "Delete the workspace's end users (and their connections) this call does not list.",
    }),
  }),
});

const EndUserSyncStatusEnum = builder.enumType('EndUserSyncStatus', { values: ['CREATED', 'UPDATED', 'UNCHANGED', 'FAILED'] as const });

const EndUserSyncItemResultRef = builder.objectRef<SyncItemResult>('EndUserSyncItemResult').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position of the item in input.users.' }),
    externalId: t.exposeString('externalId', { nullable: true }),
    status: t.field({ type: EndUserSyncStatusEnum, resolve: (r) => r.status }),
    endUser: t.field({ type: EndUserRef, nullable: true, resolve: (r) => r.endUser }),
    fieldErrors: t.field({ type: [FieldErrorRef], description: 'Why a FAILED item was skipped; empty otherwise.', resolve: (r) => r.fieldErrors }),
  }),
});

class SyncSummary {
  constructor(
    readonly results: SyncItemResult[],
    readonly removed: number,
  ) {}
  count(status: SyncStatus): number {
    return this.results.filter((r) => r.status === status).length;
  }
}

const SyncEndUsersResultRef = builder.objectType(SyncSummary, {
  name: 'SyncEndUsersResult',
  isTypeOf: (value) => value instanceof SyncSummary,
  fields: (t) => ({
    created: t.int({ resolve: (s) => s.count('CREATED') }),
    updated: t.int({ resolve: (s) => s.count('UPDATED') }),
    unchanged: t.int({ resolve: (s) => s.count('UNCHANGED') }),
    failed: t.int({ resolve: (s) => s.count('FAILED') }),
    removed: t.exposeInt('removed'),
    results: t.field({ type: [EndUserSyncItemResultRef], description: 'One per input item, in input order.', resolve: (s) => s.results }),
  }),
});

builder.mutationField('syncEndUsers', (t) =>
  t.field({
    type: SyncEndUsersResultRef,
    description:
      'Creates or updates up to 1,000 end users in one transaction. Invalid items are reported and skipped; valid ones are stored. Free: neither usage nor a config change.',
    authScopes: may('create', 'EndUser', 'workspaceId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'SyncEndUsersResultOrError' } },
    args: { input: t.arg({ type: SyncEndUsersInput, required: true }) },
    resolve: async (_root, args, ctx, info) => {
      const { users, removeMissing } = args.input;
      if (users.length > MAX_SYNC_BATCH) {
        throw new ValidationError([{ path: ['input', 'users'], message: `must list at most ${MAX_SYNC_BATCH} users per call` }]);
      }
      // What the query selects beneath results.endUser, read in one query with the stored rows.
      const endUserQuery = queryFromInfo({ context: ctx, info, typeName: 'EndUser', path: ['results', 'endUser'] });
      const { results, removed } = await syncEndUsers(ctx, { workspaceId: String(args.input.workspaceId), users, removeMissing: removeMissing ?? false }, endUserQuery);
      return new SyncSummary(results, removed);
    },
  }),
);

const upsertEndUserSchema = endUserRecordSchema.extend({ workspaceId: z.string() });

builder.mutationField('upsertEndUser', (t) =>
  t.prismaField({
    type: 'EndUser',
    description: 'Creates the end user, or updates the fields given. Free: neither usage nor a config change.',
    authScopes: may('create', 'EndUser', 'workspaceId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpsertEndUserResult' } },
    args: { input: t.arg({ type: UpsertEndUserInput, required: true }) },
    resolve: (query, _root, args, ctx) => upsertEndUser(ctx, parseInput(upsertEndUserSchema, args.input), query),
  }),
);

deleteMutation('deleteEndUser', {
  description: 'Deletes the end user, its connections and its space memberships.',
  type: 'EndUser',
  find: requireEndUser,
  remove: removeEndUser,
  revokes: (user) => ({ kind: 'endUsers', endUserIds: [user.id] }),
});

const SetEndUserDirectoryInput = builder.inputType('SetEndUserDirectoryInput', {
  fields: (t) => ({
    endUserId: t.id({ required: true }),
    directoryId: t.id({ description: "null or omitted: the workspace's default directory." }),
  }),
});

const setEndUserDirectorySchema = z.object({ endUserId: z.string(), directoryId: z.string().nullish() });

builder.mutationField('setEndUserDirectory', (t) =>
  t.prismaField({
    type: 'EndUser',
    description: 'An end user is in at most one directory: this replaces the old one.',
    authScopes: may('update', 'EndUser', 'endUserId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'SetEndUserDirectoryResult' } },
    args: { input: t.arg({ type: SetEndUserDirectoryInput, required: true }) },
    resolve: (query, _root, args, ctx) => setEndUserDirectory(ctx, parseInput(setEndUserDirectorySchema, args.input), query),
  }),
);
