import { NotFoundError, type HeddleError } from '../../platform/errors.js';
import type { Context } from './context.js';
import type { Role } from '../../auth/roles.js';
import { announceAccessRevoked } from '../realtime/access.js';
import type { AccessRevokedMessage } from '../../platform/pubsub.js';
import { builder } from './builder.js';
import { needs } from './scopes.js';

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
 * tenancy-filtered lookup, removes it, and answers with the id.
 */
export function deleteMutation<Row>(
  name: string,
  options: {
    description?: string;
    /** The role the caller needs on the row (default ADMIN). */
    atLeast?: Role;
    /** Error types the delete may return besides NOT_FOUND. */
    errors?: (new (...args: never[]) => HeddleError)[];
    find: (ctx: Context, globalId: string, path: string[]) => Promise<Row>;
    remove: (ctx: Context, row: Row) => Promise<unknown>;
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
      authScopes: needs(options.atLeast ?? 'ADMIN', 'id'),
      errors: { types: [NotFoundError, ...(options.errors ?? [])], union: { name: `${typeName}Result` } },
      args: { input: t.arg({ type: Input, required: true }) },
      resolve: async (_root, args, ctx) => {
        const row = await options.find(ctx, String(args.input.id), ['input', 'id']);
        await options.remove(ctx, row);
        if (options.revokes) announceAccessRevoked(ctx.pubsub, options.revokes(row));
        return new Deleted(String(args.input.id));
      },
    }),
  );
}
