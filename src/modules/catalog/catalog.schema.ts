// The built-in integration catalog, read-only.
import { CATALOG_VERSION, getIntegration, listIntegrations } from './catalog.js';
import type { CatalogAction, CatalogIntegration, CatalogOAuth2, CatalogTrigger } from './types.js';
import { builder } from '../common/builder.js';
import { ConnectionTypeEnum } from '../connection/connection.schema.js';

export const IntegrationActionRef = builder.objectRef<CatalogAction>('IntegrationAction').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    displayName: t.exposeString('displayName'),
    description: t.exposeString('description'),
    inputSchema: t.field({ type: 'JSON', description: 'JSON Schema of the action input.', resolve: (a) => a.inputSchema }),
  }),
});

const IntegrationTriggerRef = builder.objectRef<CatalogTrigger>('IntegrationTrigger').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    displayName: t.exposeString('displayName'),
    description: t.exposeString('description'),
  }),
});

const IntegrationOAuth2Ref = builder.objectRef<CatalogOAuth2>('IntegrationOAuth2').implement({
  description: "The provider's OAuth2 endpoints; an organization's OAuth app may override them (setOAuthApp).",
  fields: (t) => ({
    authorizationUrl: t.exposeString('authorizationUrl'),
    tokenUrl: t.exposeString('tokenUrl'),
    defaultScopes: t.exposeStringList('defaultScopes'),
    pkce: t.exposeBoolean('pkce', { description: 'Whether the provider supports PKCE (hosted connect always sends S256).' }),
  }),
});

export const IntegrationRef = builder.objectRef<CatalogIntegration>('Integration').implement({
  description: `An integration of the built-in catalog (version ${CATALOG_VERSION}).`,
  fields: (t) => ({
    name: t.exposeString('name'),
    displayName: t.exposeString('displayName'),
    description: t.exposeString('description'),
    authTypes: t.field({ type: [ConnectionTypeEnum], resolve: (i) => i.authTypes }),
    oauth2: t.field({ type: IntegrationOAuth2Ref, nullable: true, resolve: (i) => i.oauth2 ?? null }),
    actions: t.field({ type: [IntegrationActionRef], resolve: (i) => i.actions }),
    triggers: t.field({ type: [IntegrationTriggerRef], resolve: (i) => i.triggers }),
  }),
});

builder.queryFields((t) => ({
  integrations: t.field({ type: [IntegrationRef], resolve: () => listIntegrations() }),
  integration: t.field({
    type: IntegrationRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args) => getIntegration(args.name) ?? null,
  }),
}));
