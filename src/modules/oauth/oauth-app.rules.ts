// An organization's own OAuth app for an integration (setOAuthApp): the client
// that hosted connect sends end users to the provider with, and that refreshes
// the tokens it obtained. Endpoints and scopes are the catalog's unless the app
// overrides them; the client secret lives only sealed in the row.
import { getIntegration } from '../catalog/catalog.js';
import { openSealedColumns, type CredentialStore } from '../../platform/crypto/credential-store.js';
import type { OAuthApp } from '../../generated/prisma/client.js';
import type { ClientCredentials } from './token-endpoint.js';

export interface OAuthAppEndpoints {
  authorizationUrl: string;
  tokenUrl: string;
  scopes: string[];
  scopeSeparator: string;
  /** Extra authorization request parameters from the catalog (not overridable). */
  authorizationParams: Record<string, string>;
}

type AppSettings = Pick<OAuthApp, 'integrationName' | 'scopes' | 'authorizationUrl' | 'tokenUrl'>;

/** The app's endpoints and scopes: its overrides, else the catalog's. */
export function endpointsOf(app: AppSettings): OAuthAppEndpoints {
  const catalog = getIntegration(app.integrationName)?.oauth2;
  return {
    authorizationUrl: app.authorizationUrl ?? catalog?.authorizationUrl ?? '',
    tokenUrl: app.tokenUrl ?? catalog?.tokenUrl ?? '',
    scopes: Array.isArray(app.scopes) ? (app.scopes as string[]) : (catalog?.defaultScopes ?? []),
    scopeSeparator: catalog?.scopeSeparator ?? ' ',
    authorizationParams: catalog?.authorizationParams ?? {},
  };
}

/** The app's client id and (decrypted) secret, for a token request. */
export function clientCredentialsOf(store: CredentialStore, app: OAuthApp): ClientCredentials {
  const sealed = openSealedColumns<{ clientSecret?: string }>(store, { organizationId: app.organizationId, oauthApp: app.integrationName }, app);
  return { clientId: app.clientId, clientSecret: sealed?.clientSecret };
}
