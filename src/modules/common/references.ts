// Federation references (`_entities`) resolve through the same tenancy filter
// as `node`, batched: every reference of one type in a request costs one
// filtered query. Malformed ids, ids of another type, and principals that can
// see no row of the type cost no query at all; another tenant's rows are
// filtered out by the query itself and come back null, like missing ones.
// Fields that hold ids outside a relation (MCP tools' integrations) load
// through the same batched lookup.
import DataLoader from 'dataloader';
import { matchesNothing, visible, type NodeType, type Where } from '../../auth/registry.js';
import type { Context } from './context.js';
import { decodeId } from '../../platform/ids.js';

const loadersByRequest = new WeakMap<Context, Map<string, DataLoader<string, unknown>>>();

/** A `resolveReference` for entity `typename` keyed by its global id. */
export function resolveReferenceById<T extends NodeType, Row extends { id: string }>(
  typename: T,
  findMany: (ctx: Context, where: { id: { in: string[] }; AND: Where<T>[] }) => Promise<Row[]>,
) {
  return (reference: { id: string }, ctx: Context): Promise<Row | null> | null => {
    const id = decodeId(reference.id, typename);
    if (!id) return null;
    const tenancy = visible(typename, ctx.principal);
    if (matchesNothing(tenancy)) return null;
    let loaders = loadersByRequest.get(ctx);
    if (!loaders) loadersByRequest.set(ctx, (loaders = new Map()));
    let loader = loaders.get(typename) as DataLoader<string, Row | null> | undefined;
    if (!loader) {
      loader = new DataLoader<string, Row | null>(async (ids) => {
        const rows = await findMany(ctx, { id: { in: [...ids] }, AND: [tenancy] });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((rowId) => byId.get(rowId) ?? null);
      });
      loaders.set(typename, loader);
    }
    return loader.load(id);
  };
}
