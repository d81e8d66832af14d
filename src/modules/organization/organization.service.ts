// Organization changes, each committed with its audit entry.
import { followRoleChange } from '../../auth/principal.js';
import { requireOrganization } from '../../auth/registry.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { uniqueViolation } from '../../platform/db/errors.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import { auditedTransaction, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import type { Tx } from '../../platform/outbox.js';

export type OrganizationQuery = { include?: Prisma.OrganizationInclude; select?: Prisma.OrganizationSelect };

function slugConflict(error: unknown, slug: string | null | undefined): never {
  if (uniqueViolation(error)) throw new ConflictError(`slug "${slug}" is taken`, ['input', 'slug']);
  throw error;
}

/** Creates an organization with the calling member as its OWNER. */
export async function createOrganization(ctx: Context, input: { name: string; slug: string }, query: OrganizationQuery) {
  const { principal } = ctx;
  if (principal.kind !== 'member') throw new NotFoundError('user');
  const organization = await auditedTransaction(
    ctx,
    (tx) => tx.organization.create({ ...query, data: { ...input, members: { create: { userId: principal.userId, role: 'OWNER' } } } }),
    (organization) => targetOf('Organization', organization),
  ).catch((error: unknown) => slugConflict(error, input.slug));
  // The caller's cached principal has no role in it yet, nor has this request's (its payload's viewerRole).
  await ctx.principals.announce({ kind: 'user', userId: principal.userId });
  followRoleChange(ctx, { userId: principal.userId, organizationId: organization.id, role: 'OWNER' });
  return organization;
}

export async function updateOrganization(ctx: Context, input: { id: string; name?: string | null; slug?: string | null }, query: OrganizationQuery) {
  const organization = await requireOrganization(ctx, input.id, ['input', 'id']);
  return auditedTransaction(
    ctx,
    (tx) =>
      tx.organization.update({
        ...query,
        where: { id: organization.id },
        data: { ...(input.name ? { name: input.name } : {}), ...(input.slug ? { slug: input.slug } : {}) },
      }),
    (updated) => targetOf('Organization', updated),
  ).catch((error: unknown) => slugConflict(error, input.slug));
}

/** One statement: the database cascades to every row of the organization. */
export const removeOrganization = (tx: Tx, organization: { id: string }) => tx.organization.deleteMany({ where: { id: organization.id } });
