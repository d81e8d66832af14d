import { builder } from '../../builder.js';

/** What a delete mutation returns on success: the global id that no longer resolves. */
export class Deleted {
  constructor(readonly id: string) {}
}

builder.objectType(Deleted, {
  name: 'Deleted',
  isTypeOf: (value) => value instanceof Deleted,
  fields: (t) => ({ id: t.exposeID('id') }),
});
