import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { keyScopeWorkspaces } from '../../auth/key-scope.js';
import { visible, visibleNode } from '../../auth/registry.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { displayNameSchema, slugSchema } from '../../platform/identifiers.js';
import { parseInput } from '../../platform/validate.js';
import { builder } from '../common/builder.js';
import { may } from '../common/scopes.js';
import { decodeId } from '../../platform/ids.js';
import { resolveReferenceById } from '../common/references.js';
import { pointRead } from '../common/point-reads.js';
import { createOrganization, updateOrganization } from './organization.service.js';

export const OrganizationRef = builder.prismaNode('Organization', {
  nullable: true,
  authScopes: { staff: true },
  id: { field: 'id' },
  findUnique: visibleNode('Organization'),
  fields: (t) => ({
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    workspaces: t.relatedConnection('workspaces', {
      cursor: 'id',
      totalCount: true,
      // A workspace-restricted key lists only its workspaces.
      query: (_args, ctx) => ({ where: keyScopeWorkspaces(ctx.principal), orderBy: { createdAt: 'asc' } }),
    }),
  }),
});

const readOrganization = pointRead('Organization', (prisma, args) => prisma.organization.findMany(args));

builder.asEntity(OrganizationRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: resolveReferenceById('Organization', readOrganization),
});

builder.queryField('organization', (t) =>
  t.prismaField({
    authScopes: { signedIn: true },
    type: 'Organization',
    nullable: true,
    description: 'An organization the caller can see, by id or by slug (exactly one).',
    args: { id: t.arg.id(), slug: t.arg.string() },
    resolve: (query, _root, args, ctx) => {
      if ((args.id == null) === (args.slug == null)) {
        throw new GraphQLError('give exactly one of id or slug', { extensions: { code: 'VALIDATION_ERROR' } });
      }
      const id = args.id != null ? decodeId(String(args.id), 'Organization') : undefined;
      if (id === null) return null;
      if (id) return readOrganization(ctx, query, id);
      return ctx.prisma.organization.findFirst({ ...query, where: { slug: args.slug!, AND: [visible('Organization', ctx.principal)] } });
    },
  }),
);

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    slug: t.string({ required: true }),
  }),
});

const createOrganizationSchema = z.object({ name: displayNameSchema, slug: slugSchema });

builder.mutationField('createOrganization', (t) =>
  t.prismaField({
    type: 'Organization',
    description: 'Creates an organization; the caller becomes its OWNER.',
    authScopes: { member: true },
    errors: { types: [ValidationError, ConflictError], union: { name: 'CreateOrganizationResult' } },
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    resolve: (query, _root, args, ctx) => createOrganization(ctx, parseInput(createOrganizationSchema, args.input), query),
  }),
);

const UpdateOrganizationInput = builder.inputType('UpdateOrganizationInput', {
  description: 'Omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    slug: t.string(),
  }),
});

const updateOrganizationSchema = z.object({ id: z.string(), name: displayNameSchema.nullish(), slug: slugSchema.nullish() });

builder.mutationField('updateOrganization', (t) =>
  t.prismaField({
    type: 'Organization',
    authScopes: may('update', 'Organization', 'id'),
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: { name: 'UpdateOrganizationResult' } },
    args: { input: t.arg({ type: UpdateOrganizationInput, required: true }) },
    resolve: (query, _root, args, ctx) => updateOrganization(ctx, parseInput(updateOrganizationSchema, args.input), query),
  }),
);
