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
