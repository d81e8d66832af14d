// Every argument of every field is checked here, once, for text PostgreSQL
// cannot store (validate.ts), at any depth (input objects, lists, JSON values
// and their keys), before the resolver runs, on every transport and backend.
// It wraps inside authorization and the errors plugin: a mutation answers a
// ValidationError member of its result union, a query or subscription a
// VALIDATION_ERROR naming the argument path.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { ValidationError } from '../../platform/errors.js';
import { UNSTORABLE_TEXT_MESSAGE, unstorableTextPaths } from '../../platform/validate.js';

type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types['Context'], object>;

function assertStorable(args: object): void {
  const paths = Object.entries(args).flatMap(([name, value]) => unstorableTextPaths(value, [name]));
  if (paths.length) throw new ValidationError(paths.map((path) => ({ path, message: UNSTORABLE_TEXT_MESSAGE })));
}

function checked<Types extends SchemaTypes>(resolver: Resolver<Types>): Resolver<Types> {
  return (parent, args, context, info) => {
    assertStorable(args);
    return resolver(parent, args, context, info);
  };
}

export class StorableTextPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> {
    // A subscription's arguments were checked once, by its subscribe.
    if (Object.keys(fieldConfig.args).length === 0 || fieldConfig.kind === 'Subscription') return resolver;
    return checked(resolver);
  }

  override wrapSubscribe(subscribe: Resolver<Types> | undefined, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> | undefined {
    if (!subscribe || Object.keys(fieldConfig.args).length === 0) return subscribe;
    return checked(subscribe);
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      storableText: StorableTextPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('storableText', StorableTextPlugin);
