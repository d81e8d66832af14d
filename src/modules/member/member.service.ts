// Membership changes: invites, roles and ownership. Changes of one
// organization's membership are serialised by a row lock on the organization
// (checks then writes, no races) and commit with their audit entry; then the
// users whose roles changed are announced (their cached principals go).
import { followRoleChange } from '../../auth/principal.js';
import { requireInvite, requireMember, requireOrganization } from '../../auth/registry.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/errors.js';
import { decodeId } from '../../platform/ids.js';
import type { Tx } from '../../platform/outbox.js';
import { auditChange, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import type { OrganizationQuery } from '../organization/organization.service.js';
import { INVITE_TTL_MS, inviteStatus, pendingInviteWhere } from './member.rules.js';

export type InviteQuery = { include?: Prisma.InviteInclude; select?: Prisma.InviteSelect };
export type MemberQuery = { include?: Prisma.MemberInclude; select?: Prisma.MemberSelect };

export const OWNER_IS_FIXED = 'the OWNER cannot be removed or demoted; transfer ownership first';

const lockOrganization = (tx: Tx, organizationId: string) =>
  tx.$executeRaw`SELECT 1 FROM "Organization" WHERE "id" = ${organizationId}::uuid FOR UPDATE`;

/** Runs `change` under the organization's lock, with the running mutation's audit entry. */
function underOrganizationLock<T>(ctx: Context, organizationId: string, change: (tx: Tx) => Promise<{ result: T; target: Parameters<typeof targetOf> }>) {
  return ctx.prisma.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId);
    const { result, target } = await change(tx);
    await auditChange(tx, ctx.principal, { target: targetOf(...target) });
    return result;
  });
}

/** Invites an email for 7 days; a pending invite or a membership for the email is CONFLICT. */
export async function inviteMember(ctx: Context, input: { organizationId: string; email: string; role: 'ADMIN' | 'MEMBER' }, query: InviteQuery) {
  const organization = await requireOrganization(ctx, input.organizationId, ['input', 'organizationId']);
  return underOrganizationLock(ctx, organization.id, async (tx) => {
    const member = await tx.member.findFirst({
      where: { organizationId: organization.id, user: { email: { equals: input.email, mode: 'insensitive' } } },
      select: { id: true },
    });
    if (member) throw new ConflictError(`${input.email} is already a member`, ['input', 'email']);
    const pending = await tx.invite.count({ where: { organizationId: organization.id, email: input.email, ...pendingInviteWhere() } });
    if (pending) throw new ConflictError(`${input.email} already has a pending invite`, ['input', 'email']);
    const invite = await tx.invite.create({
      ...query,
      data: {
        organizationId: organization.id,
        email: input.email,
        role: input.role,
        invitedById: ctx.principal.kind === 'member' ? ctx.principal.userId : null,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
      },
    });
    return { result: invite, target: ['Invite', invite] };
  });
}

export async function revokeInvite(ctx: Context, globalId: string, query: InviteQuery) {
  const found = await requireInvite(ctx, globalId, ['input', 'id']);
  return underOrganizationLock(ctx, found.organizationId, async (tx) => {
    // Read again under the lock: an accept that committed since wins.
    const invite = await tx.invite.findUnique({ where: { id: found.id } });
    if (!invite) throw new NotFoundError('invite', ['input', 'id']);
    if (inviteStatus(invite) === 'ACCEPTED') throw new ConflictError('the invite was already accepted', ['input', 'id']);
    const revoked = await tx.invite.update({ ...query, where: { id: invite.id }, data: { revokedAt: invite.revokedAt ?? new Date() } });
    return { result: revoked, target: ['Invite', invite] };
  });
}

/** Joins the organization with the invite's role; the session's email must be the invited one. */
export async function acceptInvite(ctx: Context, globalId: string, query: MemberQuery) {
  const principal = ctx.principal;
  const id = decodeId(globalId, 'Invite');
  if (!id || principal.kind !== 'member') throw new NotFoundError('invite', ['input', 'id']);
  // Someone else's invite is NOT_FOUND, exactly like a missing one.
  const addressed = await ctx.prisma.invite.findFirst({ where: { id, email: principal.email }, select: { organizationId: true } });
  if (!addressed) throw new NotFoundError('invite', ['input', 'id']);
  const joined = await underOrganizationLock(ctx, addressed.organizationId, async (tx) => {
    // Read again under the lock: a concurrent accept of the same invite has committed by now.
    const invite = await tx.invite.findUnique({ where: { id } });
    if (!invite) throw new NotFoundError('invite', ['input', 'id']);
    const status = inviteStatus(invite);
    if (status !== 'PENDING') throw new ConflictError(`the invite is ${status.toLowerCase()}`, ['input', 'id']);
    const already = await tx.member.findUnique({
      where: { organizationId_userId: { organizationId: invite.organizationId, userId: principal.userId } },
      select: { id: true },
    });
    if (already) throw new ConflictError('you are already a member of this organization', ['input', 'id']);
    await tx.invite.update({ where: { id }, data: { acceptedAt: new Date() } });
    const member = await tx.member.create({ ...query, data: { organizationId: invite.organizationId, userId: principal.userId, role: invite.role } });
    return { result: { member, role: invite.role }, target: ['Member', member] };
  });
  await ctx.principals.announce({ kind: 'user', userId: principal.userId });
  followRoleChange(ctx, { userId: principal.userId, organizationId: addressed.organizationId, role: joined.role });
  return joined.member;
}

/** The OWNER keeps its role (FORBIDDEN): ownership moves only by transferOwnership. */
export async function updateMemberRole(ctx: Context, input: { id: string; role: 'ADMIN' | 'MEMBER' }, query: MemberQuery) {
  const found = await requireMember(ctx, input.id, ['input', 'id']);
  const updated = await underOrganizationLock(ctx, found.organizationId, async (tx) => {
    // Read again under the lock: a removal or an ownership transfer that committed since wins.
    const member = await tx.member.findUnique({ where: { id: found.id } });
    if (!member) throw new NotFoundError('member', ['input', 'id']);
    if (member.role === 'OWNER') throw new ForbiddenError(OWNER_IS_FIXED, ['input', 'id']);
    return { result: await tx.member.update({ ...query, where: { id: member.id }, data: { role: input.role } }), target: ['Member', member] };
  });
  await ctx.principals.announce({ kind: 'user', userId: found.userId });
  followRoleChange(ctx, { userId: found.userId, organizationId: found.organizationId, role: input.role });
  return updated;
}

/** The member becomes OWNER and the current OWNER becomes ADMIN: exactly one OWNER at every commit. */
export async function transferOwnership(ctx: Context, input: { organizationId: string; memberId: string }, query: OrganizationQuery) {
  const organization = await requireOrganization(ctx, input.organizationId, ['input', 'organizationId']);
  const member = await requireMember(ctx, input.memberId, ['input', 'memberId']);
  if (member.organizationId !== organization.id) throw new NotFoundError('member', ['input', 'memberId']);
  const principal = ctx.principal;
  const { organization: transferred, demoted } = await underOrganizationLock(ctx, organization.id, async (tx) => {
    // The role was read when the request began: a transfer that committed since wins.
    if (principal.kind === 'member') {
      const caller = await tx.member.findUnique({ where: { organizationId_userId: { organizationId: organization.id, userId: principal.userId } } });
      if (caller?.role !== 'OWNER') throw new ForbiddenError('only the current OWNER transfers ownership', ['input', 'organizationId']);
    }
    const demoted = await tx.member.updateManyAndReturn({
      where: { organizationId: organization.id, role: 'OWNER', id: { not: member.id } },
      data: { role: 'ADMIN' },
      select: { userId: true },
    });
    const { count } = await tx.member.updateMany({ where: { id: member.id }, data: { role: 'OWNER' } });
    if (count === 0) throw new NotFoundError('member', ['input', 'memberId']); // removed since it was found
    const result = { organization: await tx.organization.findUniqueOrThrow({ ...query, where: { id: organization.id } }), demoted };
    return { result, target: ['Organization', organization] };
  });
  await Promise.all([member, ...demoted].map(({ userId }) => ctx.principals.announce({ kind: 'user', userId })));
  // A caller who gave its ownership away acts as the ADMIN it is now.
  for (const { userId } of demoted) followRoleChange(ctx, { userId, organizationId: organization.id, role: 'ADMIN' });
  followRoleChange(ctx, { userId: member.userId, organizationId: organization.id, role: 'OWNER' });
  return transferred;
}

/** Never the OWNER, even one promoted since the lookup. */
export const removeMember = (tx: Tx, member: { id: string }) => tx.member.deleteMany({ where: { id: member.id, role: { not: 'OWNER' } } });
