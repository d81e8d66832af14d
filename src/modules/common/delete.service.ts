// Deleting a row the caller may delete: the delete, its config events and its
// audit entry commit together. Of concurrent deletes of one row exactly one
// deletes it; the others find nothing left and answer NOT_FOUND.
import type { ConfigEvent } from '../../generated/prisma/client.js';
import { NotFoundError } from '../../platform/errors.js';
import type { Tx } from '../../platform/outbox.js';
import { auditChange, type AuditTarget } from '../audit/audit.service.js';
import type { Context } from './context.js';

/** What a removal did: the rows it deleted (0 when another call got there first) and the config events it recorded. */
export interface Removal {
  count: number;
  events?: ConfigEvent[];
}

export async function deleteRow(
  ctx: Context,
  what: { label: string; path: string[]; target: AuditTarget },
  remove: (tx: Tx) => Promise<Removal>,
): Promise<void> {
  await ctx.outbox.commit(async (tx) => {
    const { count, events = [] } = await remove(tx);
    if (count === 0) throw new NotFoundError(what.label, what.path);
    await auditChange(tx, ctx.principal, { target: what.target });
    return { result: undefined, events };
  });
}
