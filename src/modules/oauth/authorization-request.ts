// The authorization request of the code flow (RFC 6749 §4.1.1) with PKCE
// (RFC 7636): the URL an end user is sent to, carrying a single-use `state` and
// the S256 challenge of a verifier that never leaves Heddle.
import { createHash } from 'node:crypto';
import { randomToken } from '../../platform/crypto/tokens.js';
import type { OAuthAppEndpoints } from './oauth-app.rules.js';

/** A fresh verifier: 43 characters of base64url, the shortest RFC 7636 §4.1 allows, from 256 random bits. */
export const newCodeVerifier = (): string => randomToken('', 32);

export const s256Challenge = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

export function authorizationRequestUrl(
  endpoints: OAuthAppEndpoints,
  request: { clientId: string; redirectUri: string; state: string; codeVerifier: string },
): string {
  const url = new URL(endpoints.authorizationUrl);
  // The catalog's extra parameters first: the protocol's own always win.
  for (const [name, value] of Object.entries(endpoints.authorizationParams)) url.searchParams.set(name, value);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', request.clientId);
  url.searchParams.set('redirect_uri', request.redirectUri);
  if (endpoints.scopes.length) url.searchParams.set('scope', endpoints.scopes.join(endpoints.scopeSeparator));
  url.searchParams.set('state', request.state);
  url.searchParams.set('code_challenge', s256Challenge(request.codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}
