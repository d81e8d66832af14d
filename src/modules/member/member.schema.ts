// Members and invites (DESIGN §3): who belongs to an organization and with
// which role. Role requirements are declared on the fields; the rules that
// protect the single OWNER live in src/domain/members.ts and here, in the
// transaction that changes the rows.
import { z } from 'zod';
import { visible } from '../../auth/tenancy.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { emailSchema, GRANTABLE_ROLES, INVITE_TTL_MS, inviteStatus, pendingInviteWhere } from './member.rules.js';
import { parseInput } from '../../platform/validate.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../common/builder.js';
import { decodeId, safeUuid } from '../../platform/ids.js';
import { requireInvite, requireMember, requireOrganization } from '../../auth/lookup.js';
import { needs, orgRole } from '../common/scopes.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { ViewerRef } from '../viewer/viewer.schema.js';

export const MemberRoleEnum = builder.enumType('MemberRole', { values: ['OWNER', 'ADMIN', 'MEMBER'] as const });
const GrantableRoleEnum = builder.enumType('GrantableRole', {
  description: 'A role an invite or a role change may grant; OWNER moves only with transferOwnership.',
  values: GRANTABLE_ROLES,
});
const InviteStatusEnum = builder.enumType('InviteStatus', { values: ['PENDING', 'ACCEPTED', 'REVOKED', 'EXPIRED'] as const });

const orgRow = (row: { organizationId: string }) => ({ organizationId: row.organizationId, workspaceId: null });

builder.prismaNode('Member', {
  nullable: true,
  authScopes: { staff: true },
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible.members(ctx.principal)] }),
  fields: (t) => ({
    role: t.expose('role', { type: MemberRoleEnum }),
    user: t.relation('user'),
    organization: t.relation('organization'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaNode('Invite', {
  nullable: true,
  // The organization's OWNERs and ADMINs, and the person it is addressed to.
  authScopes: (invite, ctx) =>
    ctx.principal.kind === 'member' && ctx.principal.email === invite.email ? true : { roleOn: { row: orgRow(invite), atLeast: 'ADMIN' } },
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible.invites(ctx.principal)] }),
  fields: (t) => ({
    email: t.exposeString('email'),
    role: t.expose('role', { type: MemberRoleEnum }),
    status: t.field({ type: InviteStatusEnum, resolve: (invite) => inviteStatus(invite) }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    invitedBy: t.relation('invitedBy', { nullable: true }),
    organization: t.relation('organization'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Organization', (t) => ({
  viewerRole: t.field({
    type: MemberRoleEnum,
    nullable: true,
    description: "The calling member's role here; null for API keys.",
    resolve: (organization, _args, ctx) => (ctx.principal.kind === 'member' ? (ctx.principal.roles.get(organization.id) ?? null) : null),
  }),
  members: t.relatedConnection('members', {
    cursor: 'id',
    totalCount: true,
    query: () => ({ orderBy: { createdAt: 'asc' } }),
  }),
  invites: t.relatedConnection('invites', {
    cursor: 'id',
    totalCount: true,
    authScopes: orgRole('ADMIN'),
    args: { pendingOnly: t.arg.boolean({ defaultValue: true }) },
    query: (args) => ({ where: args.pendingOnly ? pendingInviteWhere() : {}, orderBy: { createdAt: 'desc' } }),
  }),
}));

builder.objectField(ViewerRef, 'invites', (t) =>
  t.prismaField({
    type: ['Invite'],
    description: "Pending invites addressed to the signed-in member's email.",
    resolve: (query, principal, _args, ctx) =>
      principal.kind === 'member'
        ? ctx.prisma.invite.findMany({ ...query, where: { email: principal.email, ...pendingInviteWhere() }, orderBy: { createdAt: 'asc' } })
        : [],
  }),
);

// Invites ---------------------------------------------------------------------

const InviteMemberInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    email: t.string({ required: true }),
    role: t.field({ type: GrantableRoleEnum, required: true }),
  }),
});

/** Serialises membership changes of one organization (checks then writes, no races). */
const lockOrganization = (tx: Prisma.TransactionClient, organizationId: string) =>
  tx.$executeRaw`SELECT 1 FROM "Organization" WHERE "id" = ${organizationId}::uuid FOR UPDATE`;

builder.mutationField('inviteMember', (t) =>
  t.prismaField({
    type: 'Invite',
    description: 'Invites an email as ADMIN or MEMBER for 7 days. A pending invite or a membership for the email → CONFLICT.',
    authScopes: needs('ADMIN', 'organizationId'),
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: { name: 'InviteMemberResult' } },
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(z.object({ organizationId: z.string(), email: emailSchema, role: z.enum(GRANTABLE_ROLES) }), args.input);
      const organization = await requireOrganization(ctx, input.organizationId, ['input', 'organizationId']);
      return ctx.prisma.$transaction(async (tx) => {
        await lockOrganization(tx, organization.id);
        const member = await tx.member.findFirst({
          where: { organizationId: organization.id, user: { email: { equals: input.email, mode: 'insensitive' } } },
          select: { id: true },
        });
        if (member) throw new ConflictError(`${input.email} is already a member`, ['input', 'email']);
        const pending = await tx.invite.count({ where: { organizationId: organization.id, email: input.email, ...pendingInviteWhere() } });
        if (pending) throw new ConflictError(`${input.email} already has a pending invite`, ['input', 'email']);
        return tx.invite.create({
          ...query,
          data: {
            organizationId: organization.id,
            email: input.email,
            role: input.role,
            invitedById: ctx.principal.kind === 'member' ? ctx.principal.userId : null,
            expiresAt: new Date(Date.now() + INVITE_TTL_MS),
          },
        });
      });
    },
  }),
);

const InviteIdInput = (name: string) => builder.inputType(name, { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationField('revokeInvite', (t) =>
  t.prismaField({
    type: 'Invite',
    authScopes: needs('ADMIN', 'id'),
    errors: { types: [ConflictError, NotFoundError], union: { name: 'RevokeInviteResult' } },
    args: { input: t.arg({ type: InviteIdInput('RevokeInviteInput'), required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const invite = await requireInvite(ctx, String(args.input.id), ['input', 'id']);
      const status = inviteStatus(invite);
      if (status === 'ACCEPTED') throw new ConflictError('the invite was already accepted', ['input', 'id']);
      return ctx.prisma.invite.update({ ...query, where: { id: invite.id }, data: { revokedAt: invite.revokedAt ?? new Date() } });
    },
  }),
);

builder.mutationField('acceptInvite', (t) =>
  t.prismaField({
    type: 'Member',
    description: "Joins the organization with the invite's role. The session's email must be the invited one.",
    authScopes: { member: true },
    errors: { types: [ConflictError, NotFoundError], union: { name: 'AcceptInviteResult' } },
    args: { input: t.arg({ type: InviteIdInput('AcceptInviteInput'), required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const principal = ctx.principal;
      const id = decodeId(String(args.input.id), 'Invite');
      if (!id || principal.kind !== 'member') throw new NotFoundError('invite', ['input', 'id']);
      return ctx.prisma.$transaction(async (tx) => {
        // Someone else's invite is NOT_FOUND, exactly like a missing one.
        const addressed = await tx.invite.findFirst({ where: { id, email: principal.email }, select: { organizationId: true } });
        if (!addressed) throw new NotFoundError('invite', ['input', 'id']);
        await lockOrganization(tx, addressed.organizationId);
        // Read again under the lock: a concurrent accept of the same invite has committed by now.
        const invite = await tx.invite.findUniqueOrThrow({ where: { id } });
        const status = inviteStatus(invite);
        if (status !== 'PENDING') throw new ConflictError(`the invite is ${status.toLowerCase()}`, ['input', 'id']);
        const already = await tx.member.findUnique({
          where: { organizationId_userId: { organizationId: invite.organizationId, userId: principal.userId } },
          select: { id: true },
        });
        if (already) throw new ConflictError('you are already a member of this organization', ['input', 'id']);
        await tx.invite.update({ where: { id }, data: { acceptedAt: new Date() } });
        return tx.member.create({ ...query, data: { organizationId: invite.organizationId, userId: principal.userId, role: invite.role } });
      });
    },
  }),
);

// Members ---------------------------------------------------------------------

const OWNER_IS_FIXED = 'the OWNER cannot be removed or demoted; transfer ownership first';

const UpdateMemberRoleInput = builder.inputType('UpdateMemberRoleInput', {
  fields: (t) => ({ id: t.id({ required: true }), role: t.field({ type: GrantableRoleEnum, required: true }) }),
});

builder.mutationField('updateMemberRole', (t) =>
  t.prismaField({
    type: 'Member',
    authScopes: needs('ADMIN', 'id'),
    errors: { types: [ValidationError, ForbiddenError, NotFoundError], union: { name: 'UpdateMemberRoleResult' } },
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const input = parseInput(z.object({ id: z.string(), role: z.enum(GRANTABLE_ROLES) }), args.input);
      const member = await requireMember(ctx, input.id, ['input', 'id']);
      if (member.role === 'OWNER') throw new ForbiddenError(OWNER_IS_FIXED, ['input', 'id']);
      return ctx.prisma.member.update({ ...query, where: { id: member.id }, data: { role: input.role } });
    },
  }),
);

deleteMutation('removeMember', {
  description: 'Removes a member from the organization; the OWNER cannot be removed (FORBIDDEN).',
  errors: [ForbiddenError],
  find: async (ctx, globalId, path) => {
    const member = await requireMember(ctx, globalId, path);
    if (member.role === 'OWNER') throw new ForbiddenError(OWNER_IS_FIXED, path);
    return member;
  },
  label: 'member',
  remove: (tx, member) => tx.member.deleteMany({ where: { id: member.id, role: { not: 'OWNER' } } }),
  revokes: (member) => ({ kind: 'member', userId: member.userId, organizationId: member.organizationId }),
});

// Ownership and deletion -----------------------------------------------------------

const TransferOwnershipInput = builder.inputType('TransferOwnershipInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    memberId: t.id({ required: true, description: 'The member who becomes OWNER; the current OWNER becomes ADMIN.' }),
  }),
});

builder.mutationField('transferOwnership', (t) =>
  t.prismaField({
    type: 'Organization',
    authScopes: needs('OWNER', 'organizationId'),
    errors: { types: [ForbiddenError, NotFoundError], union: { name: 'TransferOwnershipResult' } },
    args: { input: t.arg({ type: TransferOwnershipInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const organization = await requireOrganization(ctx, String(args.input.organizationId), ['input', 'organizationId']);
      const member = await requireMember(ctx, String(args.input.memberId), ['input', 'memberId']);
      if (member.organizationId !== organization.id) throw new NotFoundError('member', ['input', 'memberId']);
      const principal = ctx.principal;
      return ctx.prisma.$transaction(async (tx) => {
        await lockOrganization(tx, organization.id);
        // The role was read when the request began: a transfer that committed since wins.
        if (principal.kind === 'member') {
          const caller = await tx.member.findUnique({ where: { organizationId_userId: { organizationId: organization.id, userId: principal.userId } } });
          if (caller?.role !== 'OWNER') throw new ForbiddenError('only the current OWNER transfers ownership', ['input', 'organizationId']);
        }
        // Exactly one OWNER at every commit: demote the current one, promote the new one.
        await tx.member.updateMany({ where: { organizationId: organization.id, role: 'OWNER', id: { not: member.id } }, data: { role: 'ADMIN' } });
        await tx.member.update({ where: { id: member.id }, data: { role: 'OWNER' } });
        return tx.organization.findUniqueOrThrow({ ...query, where: { id: organization.id } });
      });
    },
  }),
);

deleteMutation('deleteOrganization', {
  description: 'Deletes the organization and everything in it. OWNER only.',
  atLeast: 'OWNER',
  label: 'organization',
  find: requireOrganization,
  // One statement: the database cascades to every row of the organization.
  remove: (tx, organization) => tx.organization.deleteMany({ where: { id: organization.id } }),
  revokes: (organization) => ({ kind: 'organization', organizationId: organization.id }),
});
