// Global ids (Relay): base64("Type:uuid"). A malformed id, an id of another
// type and an id of a row nobody can see all end the same way: NOT_FOUND.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The nil uuid is never assigned, so a lookup by it finds nothing. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A global id's type and row id, or null when it is not a global id at all. */
export function decodeGlobalId(globalId: string): { typename: string; id: string } | null {
  try {
    return decodeGlobalID(globalId);
  } catch {
    return null;
  }
}

/** The row id inside a global id of `typename`, or null when it is not one. */
export function decodeId(globalId: string, typename: string): string | null {
  const decoded = decodeGlobalId(globalId);
  return decoded && decoded.typename === typename && isUuid(decoded.id) ? decoded.id : null;
}

/** A row id safe to put in a uuid column: invalid ids become the nil uuid. */
export function safeUuid(id: string): string {
  return isUuid(id) ? id : NIL_UUID;
}

export { encodeGlobalID };
