// Federation references (`_entities`) resolve through the type's point read
// (./point-reads.ts): tenancy-filtered and batched, so every reference of one
// type in a request costs one statement, and a malformed id or an id of
// another type none.
import type { Context } from './context.js';
import type { PointRead } from './point-reads.js';
import { decodeId } from '../../platform/ids.js';
import type { NodeType } from '../../auth/registry.js';

/** A `resolveReference` for entity `typename` keyed by its global id. */
export function resolveReferenceById<Row>(typename: NodeType, read: PointRead<Row>) {
  return (reference: { id: string }, ctx: Context): Promise<Row | null> | null => {
    const id = decodeId(reference.id, typename);
    return id ? read(ctx, {}, id) : null;
  };
}
