// Schema-driven inputs for fuzzing (test/fuzz): fast-check arbitraries for
// the arguments of any field, read from the executable schema. Each value is
// valid more often than not (ids of real rows of the type the name suggests,
// strings shaped like a slug, an email, a URL or a catalog name), and
// otherwise at a boundary or wrong: null in any position, a value of another
// type, huge strings and lists, any Unicode (NUL and lone surrogates too),
// deeply nested JSON, unknown enum values, malformed ids.
import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { listIntegrations } from '../../src/modules/catalog/catalog.js';

/** The types whose rows have global ids (`implements Node`). */
export const NODE_TYPES = [
  'ApiKey', 'ConnectSession', 'Connection', 'Directory', 'EndUser', 'Invite', 'McpServer', 'Member',
  'OAuthApp', 'Organization', 'Space', 'Trigger', 'User', 'Workspace', 'WorkspaceIntegration',
] as const;

/** An id of a real row, chosen when the request is sent (rows come and go): `pick` indexes the current ids of `type` (any type when null). */
export class RowRef {
  constructor(
    readonly type: string | null,
    readonly pick: number,
  ) {}
}

/** A value too large or deep to print or shrink, built when the request is sent. */
export class Built {
  constructor(
    readonly description: string,
    /** Builds the value; `resolve` resolves generated values inside it. */
    readonly build: (resolve: (inner: unknown) => unknown) => unknown,
  ) {}
  [fc.toStringMethod](): string {
    return this.description;
  }
}

/** `value` with every RowRef replaced by an id from `ids` (a missing type gives a well-formed id of no row), every Built built. */
export function resolveRefs(value: unknown, ids: Record<string, string[]>): unknown {
  if (value instanceof RawJson) return value;
  if (value instanceof Built) return value.build((inner) => resolveRefs(inner, ids));
  if (value instanceof RowRef) {
    const pool = value.type ? (ids[value.type] ?? []) : Object.values(ids).flat();
    return pool.length ? pool[value.pick % pool.length] : Buffer.from(`${value.type ?? 'Workspace'}:01900000-0000-7000-8000-000000000000`).toString('base64');
  }
  if (Array.isArray(value)) return value.map((item) => resolveRefs(item, ids));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, ids)]));
  return value;
}

const catalog = listIntegrations();
const INTEGRATIONS = catalog.map((i) => i.name);
const ACTIONS = [...new Set(catalog.flatMap((i) => i.actions.map((a) => a.name)))];
const EVENTS = [...new Set(catalog.flatMap((i) => (i.triggers ?? []).map((t) => t.name)))];

/** Strings that break things: empty, control characters, NUL, lone surrogates, direction overrides, injections. */
const ODD_STRING = fc.oneof(
  fc.constantFrom(
    '', ' ', '\u0000', 'a\u0000b', '\uD800', 'x\uDFFFy', '😀', '\u202Eevil', 'e\u0301', '\uFEFF', '\n\r\t', '\\', '"', "'",
    "'; DROP TABLE \"Workspace\"; --", '%s%n%x', '${x}', '{{x}}', '../../etc/passwd', '<script>alert(1)</script>',
    '__proto__', 'constructor', 'null', 'NaN', '-1', '1e999', 'https://', 'javascript:alert(1)',
  ),
  // Any Unicode code point, and any UTF-16 code unit (lone surrogates included).
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }).map((units) => String.fromCharCode(...units)),
);

/** Those, or long and huge ones (up to 300,000 characters: a body stays under the 1 MB limit more often than not). */
const NASTY_STRING: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: ODD_STRING },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 257, max: 300_000 }), fc.constantFrom('x', 'é', '😀', 'a\u0000'))
      .map(([n, unit]) => new Built(`${JSON.stringify(unit)} × ${n}`, () => unit.repeat(n))),
  },
);

/** A string shaped like what the field name asks for. */
function plausibleString(name: string): fc.Arbitrary<string> {
  const n = name.toLowerCase();
  if (n.includes('slug')) return fc.oneof(fc.stringMatching(/^[a-z0-9]{1,12}(-[a-z0-9]{1,8}){0,2}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/));
  if (n.includes('email')) return fc.oneof(fc.emailAddress(), fc.constantFrom('owner@example.com', 'new@example.com'));
  if (n.includes('origin') || n.includes('ancestor')) return fc.constantFrom('https://app.example.com', 'http://localhost:3000', 'https://*.example.com', 'app.example.com');
  if (n.includes('url') || n.includes('uri')) return fc.oneof(fc.webUrl(), fc.constantFrom('https://app.example.com/done', 'https://hooks.example.com/x'));
  if (n === 'action' || n === 'actions' || n.endsWith('actions')) return fc.constantFrom(...ACTIONS);
  if (n.includes('event')) return fc.constantFrom(...EVENTS, 'nope');
  if (n.includes('integration') || n === 'alias') return fc.constantFrom(...INTEGRATIONS, 'slack', 'fixed', 'unknown-integration');
  if (n.includes('externalid') || n === 'uid') return fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/), fc.constantFrom('fuzz-user', 'user 1', '12345'));
  if (n.includes('expires')) return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  // Names, display names, directories, reasons: mostly words.
  return fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,24}$/) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });
}

/** The row type an id argument or field names: `workspaceId` → Workspace, `endUserIds` → EndUser; null for any. */
function idTypeOf(name: string, subject: string | null): string | null {
  const base = name.replace(/Ids?$/, '');
  const typed = NODE_TYPES.find((type) => type.toLowerCase() === base.toLowerCase());
  if (typed) return typed;
  return name === 'id' || name === 'ids' ? subject : null;
}

/** The row type a root field acts on, from its name: `renameConnection` → Connection, `node` → null. */
export function subjectOf(fieldName: string): string | null {
  const matches = NODE_TYPES.filter((type) => fieldName.toLowerCase().includes(type.toLowerCase()));
  return matches.sort((a, b) => b.length - a.length)[0] ?? null;
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

function idArbitrary(name: string, subject: string | null): fc.Arbitrary<unknown> {
  const type = idTypeOf(name, subject);
  return fc.oneof(
    { weight: 16, arbitrary: fc.nat().map((pick) => new RowRef(type, pick)) },
    { weight: 2, arbitrary: fc.nat().map((pick) => new RowRef(null, pick)) },
    { weight: 1, arbitrary: NASTY_STRING },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NODE_TYPES, 'Nope', '', 'Query'), fc.string({ unit: 'binary', maxLength: 40 })).map(([t, id]) => base64(`${t}:${id}`)) },
    { weight: 1, arbitrary: fc.constantFrom(...NODE_TYPES).map((t) => base64(`${t}:00000000-0000-0000-0000-000000000000`)) },
  );
}

const WRONG_TYPE: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 5 }),
  fc.constant({}),
  fc.constant([]),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
);

/** JSON text to splice into a request body as it is: deeper than JSON.stringify (recursive) can write. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON nested `depth` levels, alternating objects and arrays. */
const deepJson = (depth: number) =>
  new Built(`JSON ${depth} levels deep`, () => {
    const pairs = Math.ceil(depth / 2);
    return new RawJson(`${'{"k":['.repeat(pairs)}"leaf"${']}'.repeat(pairs)}`);
  });

/**
 * `{ query, variables }` as JSON text, with every RawJson spliced in (as null
 * past 4 MB of them: the body is far past any limit by then).
 */
export function requestBody(query: string, variables: unknown): string {
  const raws: string[] = [];
  let spliced = 0;
  const marker = `raw-json-${process.pid}-`;
  const text = JSON.stringify({ query, variables }, (_key, value: unknown) => {
    if (!(value instanceof RawJson)) return value;
    spliced += value.text.length;
    return spliced > 4_000_000 ? null : `${marker}${raws.push(value.text) - 1}`;
  });
  return text.replace(new RegExp(`"${marker}(\\d+)"`, 'g'), (_match, i: string) => raws[Number(i)]!);
}

const JSON_VALUE: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  // Around the scalar's depth limit (32), and far past it.
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 20, max: 40 }), fc.integer({ min: 41, max: 150_000 })).map(deepJson) },
  { weight: 1, arbitrary: fc.dictionary(ODD_STRING, ODD_STRING, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => new Built(`JSON object of ${n} keys`, () => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])))) },
);

const INT = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 100 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, -1, 2_147_483_647, -2_147_483_648, 86_400, 86_401, 1000, 1001) },
  { weight: 1, arbitrary: fc.constantFrom(2_147_483_648, 1.5, 1e300, Number.MAX_SAFE_INTEGER) },
);

const DATE_TIME = fc.oneof(
  { weight: 4, arbitrary: fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom('2026-13-45T00:00:00Z', 'yesterday', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00.000Z', '2026-01-01') },
);

function scalarArbitrary(typeName: string, name: string, subject: string | null): fc.Arbitrary<unknown> {
  switch (typeName) {
    case 'ID':
      return idArbitrary(name, subject);
    case 'String':
      return fc.oneof({ weight: 8, arbitrary: plausibleString(name) }, { weight: 1, arbitrary: NASTY_STRING });
    case 'Int':
      return INT;
    case 'Float':
      return fc.double();
    case 'Boolean':
      return fc.boolean();
    case 'DateTime':
      return DATE_TIME;
    case 'JSON':
      return JSON_VALUE;
    case '_Any':
      // Federation representations.
      return fc.oneof(
        { weight: 4, arbitrary: fc.record({ __typename: fc.constantFrom(...NODE_TYPES, 'Nope'), id: idArbitrary('id', null) }) },
        { weight: 1, arbitrary: JSON_VALUE },
      );
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values for an input position of `type`: mostly fitting, sometimes null, of another type, or huge. */
export function inputArbitrary(type: GraphQLInputType, name: string, subject: string | null, depth = 0): fc.Arbitrary<unknown> {
  const required = isNonNullType(type);
  const inner = required ? type.ofType : type;
  let fitting: fc.Arbitrary<unknown>;
  if (isListType(inner)) {
    const item = inputArbitrary(inner.ofType, name, subject, depth + 1);
    fitting = fc.oneof(
      { weight: 8, arbitrary: fc.array(item, { maxLength: 4 }) },
      // Huge: the same item many times (cheap to generate).
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 500, max: 5000 }), item).map(([n, value]) => new Built(`${n} × ${fc.stringify(value)}`, (resolve) => {
          const item = resolve(value);
          // At most ~1.5 MB in all: past the body limit already, and quick to write.
          const size = item instanceof RawJson ? item.text.length : (JSON.stringify(item)?.length ?? 4);
          return Array(Math.max(1, Math.min(n, Math.floor(1_500_000 / size)))).fill(item);
        })) },
    );
  } else if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields());
    const record = fc.record(
      Object.fromEntries(fields.map((field) => [field.name, inputArbitrary(field.type, field.name, subject, depth + 1)])),
      { requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name) },
    );
    fitting = fc.oneof(
      { weight: 30, arbitrary: record },
      // A required field missing, or a field the type does not have.
      { weight: 1, arbitrary: record.chain((value) => fc.constantFrom(...Object.keys(value), '').map((key) => omit(value, key))) },
      { weight: 1, arbitrary: record.map((value) => ({ ...value, notAField: 1 })) },
    );
  } else if (isEnumType(inner)) {
    fitting = fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...inner.getValues().map((v) => v.name)) }, { weight: 1, arbitrary: fc.constant('NOT_A_VALUE') });
  } else if (isScalarType(inner)) {
    fitting = scalarArbitrary(inner.name, name, subject);
  } else {
    throw new Error(`unexpected input type ${String(inner)}`);
  }
  // Mostly fitting, so that most requests get past variable coercion into the resolvers.
  return fc.oneof(
    { weight: 60, arbitrary: fitting },
    // Null in each position: refused where the type says non-null.
    { weight: required ? 1 : 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: WRONG_TYPE },
  );
}

function omit(value: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}

/** Arguments for a field: omitted when optional (sometimes), else generated. */
export function argumentsArbitrary(field: GraphQLField<unknown, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const subject = subjectOf(field.name);
  return fc.record(
    Object.fromEntries(field.args.map((arg: GraphQLArgument) => [arg.name, inputArbitrary(arg.type, arg.name, subject)])),
    { requiredKeys: field.args.filter((arg) => isNonNullType(arg.type)).map((arg) => arg.name) },
  );
}

/**
 * A selection for an output type: `__typename` and every leaf field without
 * required arguments, of each possible type of a union or interface (a field
 * whose type differs between them is left out: it would not merge).
 */
export function selectionOf(schema: GraphQLSchema, type: GraphQLOutputType): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  const leaves = (object: GraphQLObjectType) =>
    Object.values(object.getFields()).filter((f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !isNonNullType(a.type)));
  if (isObjectType(named)) return `{ __typename ${leaves(named).map((f) => f.name).join(' ')} }`;
  const possible = schema.getPossibleTypes(named);
  const typeOfField = new Map<string, Set<string>>();
  for (const object of possible) for (const f of leaves(object)) typeOfField.set(f.name, (typeOfField.get(f.name) ?? new Set()).add(String(f.type)));
  const mergeable = (name: string) => typeOfField.get(name)!.size === 1;
  const parts = possible.map((object) => {
    const fields = leaves(object).filter((f) => mergeable(f.name));
    return fields.length ? `... on ${object.name} { ${fields.map((f) => f.name).join(' ')} }` : '';
  });
  return `{ __typename ${parts.join(' ')} }`;
}
