import { visible, visibleNode } from '../../auth/registry.js';
import type { Principal } from '../../auth/principal.js';
import { builder } from '../common/builder.js';

builder.prismaNode('User', {
  nullable: true,
  id: { field: 'id' },
  // A user is visible to itself only (member lists come with the identity module).
  findUnique: visibleNode('User'),
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
  }),
});

const PrincipalKind = builder.enumType('PrincipalKind', { values: ['ANONYMOUS', 'MEMBER', 'API_KEY', 'END_USER'] as const });

const KIND_NAMES = { anonymous: 'ANONYMOUS', member: 'MEMBER', apiKey: 'API_KEY', endUser: 'END_USER' } as const;

export const ViewerRef = builder.objectRef<Principal>('Viewer').implement({
  description: 'Whoever is calling, and what they can see.',
  fields: (t) => ({
    kind: t.field({
      type: PrincipalKind,
      resolve: (principal) => KIND_NAMES[principal.kind],
    }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, principal, _args, ctx) =>
        principal.kind === 'member' ? ctx.prisma.user.findUnique({ ...query, where: { id: principal.userId } }) : null,
    }),
    endUser: t.prismaField({
      type: 'EndUser',
      nullable: true,
      description: 'The end user an end-user token acts as.',
      resolve: (query, principal, _args, ctx) =>
        principal.kind === 'endUser' ? ctx.prisma.endUser.findUnique({ ...query, where: { id: principal.endUserId } }) : null,
    }),
    organizations: t.prismaConnection({
      type: 'Organization',
      cursor: 'id',
      resolve: (query, principal, _args, ctx) =>
        ctx.prisma.organization.findMany({ ...query, where: visible('Organization', principal), orderBy: { createdAt: 'asc' } }),
      totalCount: (principal, _args, ctx) => ctx.prisma.organization.count({ where: visible('Organization', principal) }),
    }),
  }),
});

builder.queryField('viewer', (t) => t.field({ type: ViewerRef, resolve: (_root, _args, ctx) => ctx.principal }));
