// Three root fields take type names from the caller: `node` and `nodes` in
// global ids, `_entities` in representations (a federation router builds them
// from the SDL; a direct caller may send anything). A name that is no type
// they load is the caller's error (BAD_USER_INPUT), as a malformed global id
// is, not an internal one.
import { GraphQLError, isObjectType, isUnionType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { decodeGlobalId } from '../platform/ids.js';

function wrap<Args>(schema: GraphQLSchema, name: string, check: (args: Args) => void): void {
  const field = schema.getQueryType()?.getFields()[name];
  const resolve = field?.resolve as GraphQLFieldResolver<unknown, unknown, Args> | undefined;
  if (!field || !resolve) return;
  field.resolve = (root, args: Args, ctx, info) => {
    check(args);
    return resolve(root, args, ctx, info);
  };
}

export function checkTypenames(schema: GraphQLSchema): GraphQLSchema {
  const nodeTypes = new Set(
    Object.values(schema.getTypeMap())
      .filter((type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node'))
      .map((type) => type.name),
  );
  const checkId = (id: string) => {
    const typename = decodeGlobalId(id)?.typename;
    if (!typename || !nodeTypes.has(typename)) throw new GraphQLError(`Invalid global ID: ${id}`, { extensions: { code: 'BAD_USER_INPUT' } });
  };
  wrap<{ id: string }>(schema, 'node', ({ id }) => checkId(id));
  wrap<{ ids: string[] }>(schema, 'nodes', ({ ids }) => ids.forEach(checkId));

  const entity = schema.getType('_Entity');
  const entityTypes = new Set(isUnionType(entity) ? entity.getTypes().map((type) => type.name) : []);
  wrap<{ representations: unknown[] }>(schema, '_entities', ({ representations }) =>
    representations.forEach((representation, i) => {
      const typename = representation && typeof representation === 'object' ? (representation as { __typename?: unknown }).__typename : undefined;
      if (typeof typename !== 'string' || !entityTypes.has(typename)) {
        throw new GraphQLError(`representations[${i}]: __typename must name an entity type`, { extensions: { code: 'BAD_USER_INPUT' } });
      }
    }),
  );
  return schema;
}
