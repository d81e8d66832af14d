import { NotFoundError, type HeddleError } from '../../platform/errors.js';
import type { Context } from './context.js';
import { labelOf, type NodeType } from '../../auth/registry.js';
import { announceAccessRevoked } from '../realtime/access.js';
import type { AccessRevokedMessage } from '../../platform/pubsub.js';
import type { Tx } from '../../platform/outbox.js';
import { decodeGlobalId } from '../../platform/ids.js';
import { targetOf } from '../audit/audit.service.js';
import { builder } from './builder.js';
import { deleteRow, type Removal } from './delete.service.js';
import { may } from './scopes.js';

/** What a delete mutation returns on success: the global id that no longer resolves. */
export class Deleted {
  constructor(readonly id: string) {}
}

builder.objectType(Deleted, {
  name: 'Deleted',
  isTypeOf: (value) => value instanceof Deleted,
  fields: (t) => ({ id: t.exposeID('id') }),
});

/**
 * `name(input: { id }): Deleted | NotFoundError`: finds the row through its
 * tenancy-filtered lookup, removes it (deleteRow: with its audit entry, one
 * winner among concurrent deletes), and answers with the id.
 */
export function deleteMutation<Row extends { id: string }>(
  name: string,
  options: {
    description?: string;
    /** The row's type: the permission registry says what NOT_FOUND calls it and the role deleting it needs. */
    type: NodeType;
    /** Error types the delete may return besides NOT_FOUND. */
    errors?: (new (...args: never[]) => HeddleError)[];
    find: (ctx: Context, globalId: string, path: string[]) => Promise<Row>;
    /** Deletes the row inside the transaction; a count of 0 means another call deleted it first. */
    remove: (tx: Tx, row: Row) => Promise<Removal>;
    /** Announcements once the delete committed (awaited before the mutation answers). */
    afterCommit?: (ctx: Context, row: Row) => void | Promise<void>;
    /** Who loses access with the row: their open subscriptions end once the delete is done. */
    revokes?: (row: Row) => AccessRevokedMessage;
  },
): void {
  const typeName = name[0]!.toUpperCase() + name.slice(1);
  const Input = builder.inputType(`${typeName}Input`, { fields: (t) => ({ id: t.id({ required: true }) }) });
  builder.mutationField(name, (t) =>
    t.field({
      type: Deleted,
      description: options.description,
      authScopes: may('delete', options.type, 'id'),
      errors: { types: [NotFoundError, ...(options.errors ?? [])], union: { name: `${typeName}Result` } },
      args: { input: t.arg({ type: Input, required: true }) },
      resolve: async (_root, args, ctx) => {
        const globalId = String(args.input.id);
        const path = ['input', 'id'];
        const row = await options.find(ctx, globalId, path);
        const target = targetOf(decodeGlobalId(globalId)!.typename, row);
        await deleteRow(ctx, { label: labelOf(options.type), path, target }, (tx) => options.remove(tx, row));
        await options.afterCommit?.(ctx, row);
        if (options.revokes) await announceAccessRevoked(ctx, options.revokes(row));
        return new Deleted(globalId);
      },
    }),
  );
}
