// Reads of one row by id (root fields such as `workspace(id)`, federation
// references), coalesced within and across requests: reads of one type with
// the same tenancy filter and the same selection that start in one event-loop
// turn cost one statement (`id IN (...)`), not one each. Another tenant's
// rows are filtered out by the statement and come back null, like missing
// ones; a principal that can see no row of the type costs no statement.
// Prisma batches its own findUnique calls only within one tick, which two
// concurrent requests never share. Nothing outlives the statement: this
// batches, it does not cache, so a read that starts after a write's answer
// reads that write.
//
// A batch runs in the asynchronous context of its first read (its request id
// in logs and traces), so reads that may go to a read replica and reads that
// must go to the primary are batched apart (../../platform/db/replicas.ts).
import DataLoader from 'dataloader';
import { matchesNothing, visible, type NodeType, type Where } from '../../auth/registry.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { readsMayUseReplica } from '../../platform/db/replicas.js';
import type { Context } from './context.js';

/** Pothos' selection for a Prisma field (`query`), or none. */
export type Selection = { select?: Record<string, unknown> | null; include?: Record<string, unknown> | null };
type FindMany<T extends NodeType, Row> = (prisma: PrismaClient, args: Selection & { where: { id: { in: string[] }; AND: Where<T>[] } }) => Promise<Row[]>;
/** The row of a type with row id `id` that the caller may see, with `selection`; null if none. */
export type PointRead<Row> = (ctx: Context, selection: Selection, id: string) => Promise<Row | null> | null;

/** The batches waiting for this turn's end: per client, by replica routing, type, tenancy and selection. */
const pendingByClient = new WeakMap<PrismaClient, Map<string, DataLoader<string, unknown>>>();

/** The point read of `typename`, through `findMany` of its model. */
export function pointRead<T extends NodeType, Row extends { id: string }>(typename: T, findMany: FindMany<T, Row>): PointRead<Row> {
  return (ctx, query, id) => {
    const tenancy = visible(typename, ctx.principal);
    if (matchesNothing(tenancy)) return null;
    // The rows are matched to their reads by id, so the selection must return it.
    const selection = query.select ? { ...query, select: { ...query.select, id: true } } : query;
    let pending = pendingByClient.get(ctx.prisma);
    if (!pending) pendingByClient.set(ctx.prisma, (pending = new Map()));
    const key = `${readsMayUseReplica() ? 'r' : 'p'}\u0000${typename}\u0000${JSON.stringify(tenancy)}\u0000${JSON.stringify(selection)}`;
    let loader = pending.get(key) as DataLoader<string, Row | null> | undefined;
    if (!loader) {
      loader = new DataLoader<string, Row | null>(
        async (ids) => {
          const rows = await findMany(ctx.prisma, { ...selection, where: { id: { in: [...new Set(ids)] }, AND: [tenancy] } });
          const byId = new Map(rows.map((row) => [row.id, row]));
          return ids.map((rowId) => byId.get(rowId) ?? null);
        },
        {
          cache: false,
          // The batch closes when this turn's I/O callbacks have run: every request read from the sockets in it has reached its resolvers.
          batchScheduleFn: (dispatch) =>
            setImmediate(() => {
              pending.delete(key);
              dispatch();
            }),
        },
      );
      pending.set(key, loader);
    }
    return loader.load(id);
  };
}
