// Federation references (`_entities`) resolve through the same tenancy filter
// as `node`, batched: every reference of one type in a request costs one
// filtered query. Malformed ids, ids of another type, and principals that can
// see no row of the type cost no query at all; another tenant's rows are
// filtered out by the query itself and come back null, like missing ones.
// Fields that hold ids outside a relation (MCP tools' integrations) load
// through the same batched lookup.
import DataLoader from 'dataloader';
import type { Principal } from '../../auth/principal.js';
import { matchesNothing } from '../../auth/tenancy.js';
import type { Context } from './context.js';
import { decodeId } from '../../platform/ids.js';

const loadersByRequest = new WeakMap<Context, Map<string, DataLoader<string, unknown>>>();

/** A `resolveReference` for entity `typename` keyed by its global id. */
export function resolveReferenceById<Row extends { id: string }, Where extends object>(
  typename: string,
  tenancy: (principal: Principal) => Where,
  findMany: (ctx: Context, where: { id: { in: string[] }; AND: Where[] }) => Promise<Row[]>,
) {
  return (reference: { id: string }, ctx: Context): Promise<Row | null> | null => {
    const id = decodeId(reference.id, typename);
    if (!id) return null;
    const visible = tenancy(ctx.principal);
    if (matchesNothing(visible)) return null;
    let loaders = loadersByRequest.get(ctx);
    if (!loaders) loadersByRequest.set(ctx, (loaders = new Map()));
    let loader = loaders.get(typename) as DataLoader<string, Row | null> | undefined;
    if (!loader) {
      loader = new DataLoader<string, Row | null>(async (ids) => {
        const rows = await findMany(ctx, { id: { in: [...ids] }, AND: [visible] });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((rowId) => byId.get(rowId) ?? null);
      });
      loaders.set(typename, loader);
    }
    return loader.load(id);
  };
}
