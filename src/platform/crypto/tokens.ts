// Bearer tokens Heddle hands out (API keys, MCP server and connect session tokens): random,
// shown once, and stored only as their SHA-256 hash.
import { hash, randomBytes } from 'node:crypto';

/** `prefix` followed by `bytes` random bytes in base64url. */
export function randomToken(prefix = '', bytes = 32): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** The hex SHA-256 of a token: what the database keeps instead of the token. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** A new bearer secret: the token (shown once), its hash and a display prefix to recognise it by. */
export function newBearerSecret(prefix: string): { plain: string; hash: string; displayPrefix: string } {
  const plain = randomToken(prefix);
  return { plain, hash: hashToken(plain), displayPrefix: plain.slice(0, prefix.length + 8) };
}
