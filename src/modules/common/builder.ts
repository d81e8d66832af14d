// The Pothos builder: plugin list and options only; types live in modules/.
import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ErrorsPlugin from '@pothos/plugin-errors';
import FederationPlugin from '@pothos/plugin-federation';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { authorizationError } from '../../auth/errors.js';
import { inKeyScope } from '../../auth/key-scope.js';
import { permits, type Ownership, type RoleRequirement } from '../../auth/roles.js';
import { API_KEY_PERMISSIONS, mayExecute } from '../../auth/principal.js';
import type PrismaTypes from '../../generated/pothos-types.js';
import { getDatamodel } from '../../generated/pothos-types.js';
import type { Context } from './context.js';
import { errorCodeLabel, graphqlErrors } from '../../platform/metrics.js';
import { ownershipOf } from '../../auth/registry.js';
import './storable-text.plugin.js';

/**
 * The scopes field rules are written in, for the caller of `ctx`. Exported so
 * that realtime's visibility classes can be checked against every one of them.
 */
export const authScopesOf = (ctx: Context) => ({
  signedIn: ctx.principal.kind !== 'anonymous',
  member: ctx.principal.kind === 'member',
  staff: ctx.principal.kind === 'member' || ctx.principal.kind === 'apiKey',
  apiKey: ctx.principal.kind === 'apiKey',
  credentialsRead: ctx.principal.kind === 'apiKey' && ctx.principal.permissions.includes(API_KEY_PERMISSIONS.CREDENTIALS_READ),
  execute: mayExecute(ctx.principal),
  workspaceInKeyScope: (workspaceId: string) => inKeyScope(ctx.principal, workspaceId),
  role: async ({ target, ...needed }: RoleRequirement & { target: string | null | undefined }) => permits(ctx.principal, await ownershipOf(ctx, target), needed),
  roleOn: ({ row, ...needed }: RoleRequirement & { row: Ownership }) => permits(ctx.principal, row, needed),
});

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** A member session (a person). */
    member: boolean;
    /** Any authenticated principal (not anonymous). */
    signedIn: boolean;
    /** Acts for an organization: a member session or an API key (not an end user). */
    staff: boolean;
    /** An API key (issues end-user tokens). */
    apiKey: boolean;
    /** An API key holding the `credentials:read` permission (decrypted credentials). */
    credentialsRead: boolean;
    /** May run actions: a member session, an end user (for itself), or an API key holding `actions:execute`. */
    execute: boolean;
    /** The workspace (by row id) is inside a workspace-restricted key's list; always true for others. */
    workspaceInKeyScope: string;
    /** A role (DESIGN §3) in the organization of the row a global id names, typically from the input. */
    role: RoleRequirement & { target: string | null | undefined };
    /** A role in the organization of a row already loaded (type and field checks on parents). */
    roleOn: RoleRequirement & { row: Ownership };
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  // Every prismaNode sets `nullable: true`: a row the caller may not see, or that
  // is gone, loads as null through node/nodes instead of failing the request.
  DefaultNodeNullability: false;
}>({
  // The first plugin wraps outermost: storableText runs inside authorization and the errors plugin.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin, DirectivesPlugin, FederationPlugin, 'storableText'],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: authScopesOf,
    unauthorizedError: (_parent, context, _info, result) => authorizationError(context.principal, result.failure),
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
  },
  relay: {
    nodeQueryOptions: { authScopes: { signedIn: true } },
    nodesQueryOptions: { authScopes: { signedIn: true } },
    clientMutationId: 'omit',
    cursorType: 'String',
    // The host product's subgraphs usually define a Relay PageInfo too.
    pageInfoTypeOptions: { shareable: true },
  },
  errors: {
    directResult: true,
    // A typed error answered as a member of the mutation's result union.
    onResolvedError: (error) => graphqlErrors.inc({ code: errorCodeLabel((error as { code?: unknown }).code), kind: 'typed' }),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/** The builder's schema types, for helpers that take Pothos field builders. */
export type HeddleTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;
