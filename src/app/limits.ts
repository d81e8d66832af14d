// Abuse limits on every GraphQL operation. They are envelop plugins, so HTTP
// (Yoga) and graphql-ws (which runs operations through yoga.getEnveloped) share
// them, and every one rejects an operation before any resolver runs: tokens
// while parsing, depth, aliases, directives and introspection while
// validating, cost once the variables are known, just before execution.
// Request size is useBodySizeLimit below and the websocket's maxPayload (see
// app.ts), both set from limits.maxBodyBytes.
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  isCompositeType,
  isListType,
  isUnionType,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config, GraphqlLimits } from '../platform/config.js';
import type { RequestErrorCode } from '../platform/errors.js';
import { tagCode } from './errors.js';

/** Browsers' "simple" requests (GET, form and text/plain POSTs) must carry this header. */
export const CSRF_HEADER = 'x-heddle-csrf';

/**
 * The page size assumed for a list or connection whose size the query does not
 * say (no `first`/`last`, no list argument): Pothos Relay's default page size.
 */
export const DEFAULT_LIST_SIZE = 20;

export function limitPlugins(limits: GraphqlLimits, graphql: Config['graphql']): Plugin[] {
  const plugins: Plugin[] = [
    useBodySizeLimit(limits.maxBodyBytes),
    useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
    // The parser must stop at the limit, so this rejection stays thrown, with its code.
    maxTokensPlugin({ n: limits.maxTokens, onReject: [(_context, error) => void tagCode(error, 'TOKEN_LIMIT_EXCEEDED')] }),
    // Fragments do not add depth: the limit is on how deeply fields nest.
    maxDepthPlugin({ n: limits.maxDepth, flattenFragments: true, ...reportedAs('DEPTH_LIMIT_EXCEEDED') }),
    maxAliasesPlugin({ n: limits.maxAliases, ...reportedAs('ALIAS_LIMIT_EXCEEDED') }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...reportedAs('DIRECTIVE_LIMIT_EXCEEDED') }),
    useCostLimit(limits.maxCost),
  ];
  if (!graphql.introspection) plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) });
  if (!graphql.fieldSuggestions) plugins.push(blockFieldSuggestionsPlugin({ mask: '' }));
  return plugins;
}

/**
 * graphql-armor's validation limits throw a codeless "Syntax Error: …"; these
 * options report it as a validation error (HTTP 400) with its own code instead.
 */
function reportedAs(code: RequestErrorCode) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code } })),
    ],
  };
}

function bodyTooLarge(): GraphQLError {
  return new GraphQLError('Request body too large', { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });
}

/**
 * 413 for a body past `maxBytes`, before it is parsed. Instead of Yoga's
 * maxRequestBodySize (off in app.ts), which pipes every body through a
 * TransformStream to count it: that costs more than a point query's own
 * execution. Node's HTTP parser never delivers more than a declared
 * Content-Length (and refuses a malformed one), so a declared length is
 * checked once; only a body without one (chunked) is counted as it is read.
 */
function useBodySizeLimit(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (Number(declared) > maxBytes) throw bodyTooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (unread) => {
        // A reader, not `for await`: leaving that loop early would destroy the socket before the 413 is sent.
        const reader = unread.body!.getReader();
        const chunks: Uint8Array[] = [];
        let size = 0;
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          size += read.value.byteLength;
          if (size > maxBytes) {
            reader.releaseLock();
            throw bodyTooLarge();
          }
          chunks.push(read.value);
        }
        return parse(new fetchAPI.Request(unread.url, { method: unread.method, headers: unread.headers, body: Buffer.concat(chunks) }));
      });
    },
  };
}

function useCostLimit(maxCost: number): Plugin {
  const check = (args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: unknown }) => {
    const cost = operationCost(args.schema, args.document, args.operationName, (args.variableValues ?? {}) as Record<string, unknown>);
    if (cost <= maxCost) return null;
    return { errors: [new GraphQLError(`Query cost ${cost} exceeds the limit of ${maxCost}.`, { extensions: { code: 'COST_LIMIT_EXCEEDED', cost, maxCost } })] };
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const rejected = check(args);
      if (rejected) setResultAndStopExecution(rejected);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const rejected = check(args);
      if (rejected) setResultAndStopExecution(rejected);
    },
  };
}

/**
 * The cost of an operation: every field costs 1, and the selection under a
 * list costs once per item: `first`/`last` of the connection it belongs to,
 * else the length of a list argument (`_entities(representations:)`,
 * `nodes(ids:)`), else DEFAULT_LIST_SIZE. `__typename` and introspection are free.
 * Not @pothos/plugin-complexity: its multiplier comes from a field's own
 * arguments, so a connection's `first` would multiply `totalCount` and
 * `pageInfo` too, and `__typename` would cost 1 (issue 19 measured both).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return 0;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );

  const valueOf = (node: ValueNode): unknown =>
    node.kind === Kind.VARIABLE ? variables[node.name.value] : node.kind === Kind.INT ? Number(node.value) : node.kind === Kind.LIST ? node.values : undefined;

  const pageSize = (field: FieldNode): number | undefined => {
    for (const arg of field.arguments ?? []) {
      const value = valueOf(arg.value);
      if ((arg.name.value === 'first' || arg.name.value === 'last') && typeof value === 'number' && value >= 0) return value;
    }
    return undefined;
  };
  const listArgumentLength = (field: FieldNode): number | undefined => {
    const lengths = (field.arguments ?? []).map((arg) => valueOf(arg.value)).filter(Array.isArray).map((list) => list.length);
    return lengths.length ? Math.max(...lengths) : undefined;
  };

  function selectionSetCost(set: SelectionSetNode, type: GraphQLCompositeType, page: number | undefined, fragmentsSeen: Set<string>): number {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        total += fieldCost(selection, type, page, fragmentsSeen);
        continue;
      }
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
      if (!fragment || (selection.kind === Kind.FRAGMENT_SPREAD && fragmentsSeen.has(selection.name.value))) continue;
      const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
      const seen = selection.kind === Kind.FRAGMENT_SPREAD ? new Set(fragmentsSeen).add(selection.name.value) : fragmentsSeen;
      if (condition && isCompositeType(condition)) total += selectionSetCost(fragment.selectionSet, condition, page, seen);
    }
    return total;
  }

  function fieldCost(field: FieldNode, parent: GraphQLCompositeType, page: number | undefined, fragmentsSeen: Set<string>): number {
    if (field.name.value.startsWith('__') || isUnionType(parent)) return 0;
    const definition = parent.getFields()[field.name.value];
    if (!definition) return 0;
    const type = getNamedType(definition.type);
    if (!field.selectionSet || !isCompositeType(type)) return 1;
    // A connection's page size applies to the lists right under it (edges, nodes).
    const pagingArgs = definition.args.some((a) => a.name === 'first' || a.name === 'last');
    const childPage = pagingArgs ? (pageSize(field) ?? DEFAULT_LIST_SIZE) : undefined;
    const items = isListType(getNullableType(definition.type)) ? (page ?? listArgumentLength(field) ?? DEFAULT_LIST_SIZE) : 1;
    return 1 + items * selectionSetCost(field.selectionSet, type, childPage, fragmentsSeen);
  }

  return selectionSetCost(operation.selectionSet, root, undefined, new Set());
}
