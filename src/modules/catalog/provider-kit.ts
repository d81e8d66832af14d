// Small pieces every Provider needs, so each reads a credential and an answer
// body the same way.
import type { ConnectionSecret } from '../../platform/crypto/credential-store.js';
import { ProviderCallError } from './provider.js';

/** The connection's token: the OAuth2 access token, else the key a person pasted (SECRET_TEXT). */
export function tokenOf(secret: ConnectionSecret): string {
  const token = secret.accessToken ?? secret.apiKey;
  if (!token) throw new ProviderCallError({ message: 'the connection holds no access token or API key' }, null);
  return token;
}

export const bearer = (secret: ConnectionSecret): Record<string, string> => ({ authorization: `Bearer ${tokenOf(secret)}` });

/** The body as an object when it is one (a JSON answer), else undefined. */
export function objectBody(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}
