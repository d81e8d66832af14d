// In production, the schema is not open for exploration: no introspection, no
// "Did you mean" suggestions, and unexpected errors are masked without
// details. Each can be turned back on by its own variable.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp } from '../support/app.js';
import { seedOrganization } from '../support/fixtures.js';

const PRODUCTION = { NODE_ENV: 'production', HEDDLE_ENCRYPTION_KEYS: `1:${Buffer.alloc(32, 9).toString('base64')}` };
const ENABLED = { HEDDLE_INTROSPECTION: 'true', HEDDLE_FIELD_SUGGESTIONS: 'true', HEDDLE_EXPOSE_ERRORS: 'true' };

type Result = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };

/** A production app whose Trigger table is gone, so reading triggers fails inside a resolver. */
async function productionApp(env: NodeJS.ProcessEnv) {
  const t = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { env: { ...PRODUCTION, ...env } });
  const token = await t.memberToken('production@example.com');
  const orgId = await seedOrganization(t, token, 'production');
  await t.app.database.prisma.$executeRawUnsafe('DROP TABLE "Trigger" CASCADE');
  const brokenQuery = () =>
    t.requestRaw('query($id: ID!) { organization(id: $id) { triggers(first: 1) { totalCount } } }', { id: orgId }, token) as Promise<Result>;
  return { t, brokenQuery };
}

describe('production defaults', () => {
  let app: Awaited<ReturnType<typeof productionApp>>;
  beforeAll(async () => void (app = await productionApp({})));
  afterAll(() => app.t.stop());

  test('introspection is refused', async () => {
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Query") { name } }']) {
      const result = (await app.t.requestRaw(query)) as Result;
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    }
    // __typename is not introspection: gateways rely on it.
    expect(await app.t.requestRaw('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });

  test('a misspelt field gets no suggestion', async () => {
    const result = (await app.t.requestRaw('{ workspac(id: "x") { id } }')) as Result;
    expect(result.errors?.[0]?.message).toMatch(/Cannot query field "workspac" on type "Query"/);
    expect(result.errors?.[0]?.message).not.toMatch(/Did you mean|"workspace"/);
  });

  test('an unexpected error is masked, with no message, stack or original error', async () => {
    const result = await app.brokenQuery();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.message).toBe('Unexpected error.');
    expect(JSON.stringify(result.errors)).not.toMatch(/Trigger|stack|originalError/);
  });

  test('every request error has a stable code and no internal detail', async () => {
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${app.t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: response.status, text: await response.text() };
    };
    const errorOf = (text: string) => (JSON.parse(text) as Result).errors![0]!;

    // A malformed JSON body: the parser's message would quote the body.
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const malformed = await post('{"query": "{ __typename }", "note": secret-body-text', { accept });
      expect(malformed.status).toBe(400);
      expect(errorOf(malformed.text)).toEqual({ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } });
      expect(malformed.text).not.toMatch(/secret|Unexpected token|originalError/);
    }
    const cases: [string, string][] = [
      [JSON.stringify({ query: '{ node(id: "not-a-global-id") { id } }' }), 'BAD_USER_INPUT'],
      [JSON.stringify({ query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids: ['!!!'] } }), 'BAD_USER_INPUT'],
      [JSON.stringify({ query: 'query($id: ID!) { workspace(id: $id) { id } }', variables: { id: { a: 1 } } }), 'BAD_USER_INPUT'],
      [JSON.stringify({ query: 'query($id: ID!) { workspace(id: $id) { id } }' }), 'BAD_USER_INPUT'],
      // Deeper than the default limit of 15.
      [JSON.stringify({ query: `{ workspace(id: "x") { ${'organization { workspaces(first: 1) { edges { node { '.repeat(4)}id${' } } } }'.repeat(4)} } }` }), 'DEPTH_LIMIT_EXCEEDED'],
      [JSON.stringify({ query: '{ workspace(' }), 'GRAPHQL_PARSE_FAILED'],
      [JSON.stringify({ query: '{ nope }' }), 'GRAPHQL_VALIDATION_FAILED'],
      [JSON.stringify({ query: 123 }), 'BAD_REQUEST'],
      ['[]', 'BAD_REQUEST'],
    ];
    for (const [body, code] of cases) {
      const { text } = await post(body, { authorization: `Bearer ${await app.t.memberToken('production@example.com')}` });
      expect({ body, code: (JSON.parse(text) as Result).errors?.[0]?.extensions?.code }).toEqual({ body, code });
      expect(text).not.toMatch(/Syntax Error: Query depth|stack|originalError/);
    }
    // A CSRF rejection (a simple GET without the header).
    const csrf = await fetch(`${app.t.url}/graphql?query=%7B__typename%7D`);
    expect(csrf.status).toBe(403);
    expect(errorOf(await csrf.text()).extensions).toEqual({ code: 'BAD_REQUEST' });
  });

  test('GraphiQL is not served', async () => {
    const page = await fetch(`${app.t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    const html = await (await fetch(`${app.t.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(html).not.toContain('/graphiql/');
    expect((await fetch(`${app.t.url}/graphiql/graphiql.js`)).status).toBe(404);
  });
});

describe('production with HEDDLE_INTROSPECTION, HEDDLE_FIELD_SUGGESTIONS and HEDDLE_EXPOSE_ERRORS', () => {
  let app: Awaited<ReturnType<typeof productionApp>>;
  beforeAll(async () => void (app = await productionApp(ENABLED)));
  afterAll(() => app.t.stop());

  test('each is back on', async () => {
    expect(await app.t.requestRaw('{ __schema { queryType { name } } }')).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const misspelt = (await app.t.requestRaw('{ workspac(id: "x") { id } }')) as Result;
    expect(misspelt.errors?.[0]?.message).toMatch(/Did you mean "workspace"/);
    const broken = await app.brokenQuery();
    expect(broken.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(broken.errors?.[0]?.extensions?.originalError)).toMatch(/Trigger/);
  });
});
