// Which principals see the same answers. Realtime shares one execution of an
// event among the subscribers of one visibility class (src/app/shared-events.ts),
// so the class must hold everything a field rule or a resolver can read of the
// principal. It is the principal itself minus what nothing may read: listed
// here as exclusions, so a new principal field enters the class by default.
// test/auth/visibility.test.ts checks every scope the schema declares against it.
import stringify from 'safe-stable-stringify';
import type { Principal } from './principal.js';

/**
 * Principal fields that no rule and no resolver reads: the credential's own
 * identity (an API key's rights are its organization, workspaces and
 * permissions) and its expiry (checked when it authenticates, and by a timer
 * on each subscription).
 */
const UNREAD_FIELDS = new Set(['apiKeyId', 'expiresAt']);

/** A string equal for two principals only if every field resolves the same for both. */
export function visibilityClass(principal: Principal): string {
  const read = Object.entries(principal).filter(([field]) => !UNREAD_FIELDS.has(field));
  // Sets held as arrays or maps are compared as sets: order is no right.
  return stringify(Object.fromEntries(read.map(([field, value]) => [field, canonical(value)])));
}

function canonical(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (Array.isArray(value)) return [...value].sort();
  return value;
}
