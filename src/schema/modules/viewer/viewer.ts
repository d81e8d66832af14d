import { visibleOrganizations } from '../../../auth/tenancy.js';
import type { Principal } from '../../../auth/principal.js';
import { builder } from '../../builder.js';
import { safeUuid } from '../../ids.js';

builder.prismaNode('User', {
  id: { field: 'id' },
  // A user is visible to itself only (member lists come with the identity module).
  findUnique: (id, ctx) => ({ id: ctx.principal.kind === 'member' && ctx.principal.userId === id ? id : safeUuid('') }),
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
  }),
});

const PrincipalKind = builder.enumType('PrincipalKind', { values: ['ANONYMOUS', 'MEMBER'] as const });

const ViewerRef = builder.objectRef<Principal>('Viewer').implement({
  description: 'Whoever is calling, and what they can see.',
  fields: (t) => ({
    kind: t.field({
      type: PrincipalKind,
      resolve: (principal) => (principal.kind === 'member' ? 'MEMBER' : 'ANONYMOUS'),
    }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, principal, _args, ctx) =>
        principal.kind === 'member' ? ctx.prisma.user.findUnique({ ...query, where: { id: principal.userId } }) : null,
    }),
    organizations: t.prismaConnection({
      type: 'Organization',
      cursor: 'id',
      resolve: (query, principal, _args, ctx) =>
        ctx.prisma.organization.findMany({ ...query, where: visibleOrganizations(principal), orderBy: { createdAt: 'asc' } }),
      totalCount: (principal, _args, ctx) => ctx.prisma.organization.count({ where: visibleOrganizations(principal) }),
    }),
  }),
});

builder.queryField('viewer', (t) => t.field({ type: ViewerRef, resolve: (_root, _args, ctx) => ctx.principal }));
