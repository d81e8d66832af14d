import { GraphQLError } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { builder } from './builder.js';

/** How deeply a JSON input may nest: deeper values cannot be stored (serializers and jsonb recurse). */
export const MAX_JSON_DEPTH = 32;

/** `value` when no array or object in it is nested deeper than MAX_JSON_DEPTH (checked without recursion). */
function withinDepth(value: unknown): unknown {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw new GraphQLError(`JSON must not nest deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return value;
}

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver, {
  parseValue: (value) => withinDepth(JSONResolver.parseValue(value)),
  parseLiteral: (node, variables) => withinDepth(JSONResolver.parseLiteral(node, variables)),
});
