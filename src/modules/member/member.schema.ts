// Members and invites (DESIGN §3): who belongs to an organization and with
// which role. Role requirements are declared on the fields; the rules that
// protect the single OWNER live in member.rules.ts and member.service.ts and here, in the
// transaction that changes the rows.
import { z } from 'zod';
import { followRoleChange } from '../../auth/principal.js';
import { requireMember, requireOrganization, visibleNode } from '../../auth/registry.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { emailSchema, GRANTABLE_ROLES, inviteStatus, pendingInviteWhere } from './member.rules.js';
import { parseInput } from '../../platform/validate.js';
import { builder } from '../common/builder.js';
import { may, mayList, mayRead } from '../common/scopes.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { removeOrganization } from '../organization/organization.service.js';
import { acceptInvite, inviteMember, OWNER_IS_FIXED, revokeInvite, transferOwnership, updateMemberRole, removeMember } from './member.service.js';
import { ViewerRef } from '../viewer/viewer.schema.js';

export const MemberRoleEnum = builder.enumType('MemberRole', { values: ['OWNER', 'ADMIN', 'MEMBER'] as const });
const GrantableRoleEnum = builder.enumType('GrantableRole', {
  description: 'A role an invite or a role change may grant; OWNER moves only with transferOwnership.',
  values: GRANTABLE_ROLES,
});
const InviteStatusEnum = builder.enumType('InviteStatus', { values: ['PENDING', 'ACCEPTED', 'REVOKED', 'EXPIRED'] as const });

builder.prismaNode('Member', {
  nullable: true,
  authScopes: { staff: true },
  id: { field: 'id' },
  findUnique: visibleNode('Member'),
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
    ctx.principal.kind === 'member' && ctx.principal.email === invite.email ? true : mayRead('Invite')(invite),
  id: { field: 'id' },
  findUnique: visibleNode('Invite'),
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
    authScopes: mayList('Invite'),
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

builder.mutationField('inviteMember', (t) =>
  t.prismaField({
    type: 'Invite',
    description: 'Invites an email as ADMIN or MEMBER for 7 days. A pending invite or a membership for the email → CONFLICT.',
    authScopes: may('create', 'Invite', 'organizationId'),
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: { name: 'InviteMemberResult' } },
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: (query, _root, args, ctx) =>
      inviteMember(ctx, parseInput(z.object({ organizationId: z.string(), email: emailSchema, role: z.enum(GRANTABLE_ROLES) }), args.input), query),
  }),
);

const InviteIdInput = (name: string) => builder.inputType(name, { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationField('revokeInvite', (t) =>
  t.prismaField({
    type: 'Invite',
    authScopes: may('delete', 'Invite', 'id'),
    errors: { types: [ConflictError, NotFoundError], union: { name: 'RevokeInviteResult' } },
    args: { input: t.arg({ type: InviteIdInput('RevokeInviteInput'), required: true }) },
    resolve: (query, _root, args, ctx) => revokeInvite(ctx, String(args.input.id), query),
  }),
);

builder.mutationField('acceptInvite', (t) =>
  t.prismaField({
    type: 'Member',
    description: "Joins the organization with the invite's role. The session's email must be the invited one.",
    authScopes: { member: true },
    errors: { types: [ConflictError, NotFoundError], union: { name: 'AcceptInviteResult' } },
    args: { input: t.arg({ type: InviteIdInput('AcceptInviteInput'), required: true }) },
    resolve: (query, _root, args, ctx) => acceptInvite(ctx, String(args.input.id), query),
  }),
);

// Members ---------------------------------------------------------------------

const UpdateMemberRoleInput = builder.inputType('UpdateMemberRoleInput', {
  fields: (t) => ({ id: t.id({ required: true }), role: t.field({ type: GrantableRoleEnum, required: true }) }),
});

builder.mutationField('updateMemberRole', (t) =>
  t.prismaField({
    type: 'Member',
    authScopes: may('update', 'Member', 'id'),
    errors: { types: [ValidationError, ForbiddenError, NotFoundError], union: { name: 'UpdateMemberRoleResult' } },
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true }) },
    resolve: (query, _root, args, ctx) => updateMemberRole(ctx, parseInput(z.object({ id: z.string(), role: z.enum(GRANTABLE_ROLES) }), args.input), query),
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
  type: 'Member',
  remove: removeMember,
  afterCommit: (ctx, member) => followRoleChange(ctx, { userId: member.userId, organizationId: member.organizationId, role: null }),
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
    authScopes: may('transferOwnership', 'Organization', 'organizationId'),
    errors: { types: [ForbiddenError, NotFoundError], union: { name: 'TransferOwnershipResult' } },
    args: { input: t.arg({ type: TransferOwnershipInput, required: true }) },
    resolve: (query, _root, args, ctx) =>
      transferOwnership(ctx, { organizationId: String(args.input.organizationId), memberId: String(args.input.memberId) }, query),
  }),
);

deleteMutation('deleteOrganization', {
  description: 'Deletes the organization and everything in it. OWNER only.',
  type: 'Organization',
  find: requireOrganization,
  remove: removeOrganization,
  revokes: (organization) => ({ kind: 'organization', organizationId: organization.id }),
});
