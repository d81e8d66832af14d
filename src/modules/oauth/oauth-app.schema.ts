// An organization's own OAuth app per integration (setOAuthApp): hosted connect
// sends end users to the provider with it. The client secret goes into the
// credential store and no field returns it.
import { z } from 'zod';
import { requireOAuthApp, visibleNode } from '../../auth/registry.js';
import { getIntegration } from '../catalog/catalog.js';
import { callbackUrl } from '../connect/urls.js';
import { secretString } from '../connection/connection.rules.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validate.js';
import { callbackUrlSchema } from '../../platform/urls.js';
import { endpointsOf } from './oauth-app.rules.js';
import { builder } from '../common/builder.js';
import { may } from '../common/scopes.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { setOAuthApp, removeOAuthApp } from './oauth-app.service.js';

builder.prismaNode('OAuthApp', {
  nullable: true,
  description: "The organization's own OAuth app for one integration. Endpoints and scopes are the catalog's unless overridden.",
  authScopes: { staff: true },
  id: { field: 'id' },
  findUnique: visibleNode('OAuthApp'),
  fields: (t) => ({
    integrationName: t.exposeString('integrationName'),
    clientId: t.exposeString('clientId'),
    scopes: t.stringList({ description: 'The scopes hosted connect asks for.', resolve: (app) => endpointsOf(app).scopes }),
    authorizationUrl: t.string({ resolve: (app) => endpointsOf(app).authorizationUrl }),
    tokenUrl: t.string({ resolve: (app) => endpointsOf(app).tokenUrl }),
    redirectUri: t.string({
      description: "Heddle's OAuth2 callback: register it as the app's redirect URI at the provider.",
      resolve: (_app, _args, ctx) => callbackUrl(ctx.publicUrl()),
    }),
    organization: t.relation('organization'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields('Organization', (t) => ({
  oauthApps: t.relation('oauthApps', {
    description: 'One per integration at most, so never more than the catalog has.',
    query: { orderBy: { integrationName: 'asc' } },
  }),
}));

const SetOAuthAppInput = builder.inputType('SetOAuthAppInput', {
  description: "Registers the organization's OAuth app for an integration, or replaces the registered one.",
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    integrationName: t.string({ required: true }),
    clientId: t.string({ required: true }),
    clientSecret: t.string({ required: true, description: 'Stored encrypted; never returned by any field.' }),
    scopes: t.stringList({ description: "Overrides the catalog's default scopes." }),
    authorizationUrl: t.string({ description: "Overrides the catalog's authorization URL." }),
    tokenUrl: t.string({ description: "Overrides the catalog's token URL." }),
  }),
});

const scopeSchema = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').regex(/^\S+$/, 'must not contain whitespace');

const setOAuthAppSchema = z.object({
  organizationId: z.string(),
  integrationName: z.string().refine((name) => getIntegration(name)?.authTypes.includes('OAUTH2') ?? false, 'must be a catalog integration that accepts OAUTH2'),
  clientId: z.string().trim().min(1, 'must not be empty').max(512, 'must be at most 512 characters'),
  clientSecret: secretString,
  scopes: z.array(scopeSchema).max(100, 'must list at most 100 scopes').nullish(),
  authorizationUrl: callbackUrlSchema.nullish(),
  tokenUrl: callbackUrlSchema.nullish(),
});

builder.mutationField('setOAuthApp', (t) =>
  t.prismaField({
    type: 'OAuthApp',
    description: 'OWNER and ADMIN members, or an organization-wide API key. Replacing an app keeps its id: connections made through it refresh with the new client.',
    authScopes: may('create', 'OAuthApp', 'organizationId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'SetOAuthAppResult' } },
    args: { input: t.arg({ type: SetOAuthAppInput, required: true }) },
    resolve: (query, _root, args, ctx) => setOAuthApp(ctx, parseInput(setOAuthAppSchema, args.input), query),
  }),
);

deleteMutation('deleteOAuthApp', {
  description:
    'Removes the OAuth app. New OAuth2 connect sessions for the integration are refused; connections made through it keep their tokens but can no longer refresh them.',
  type: 'OAuthApp',
  find: requireOAuthApp,
  remove: removeOAuthApp,
});
