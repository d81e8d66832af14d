// Text PostgreSQL cannot store (a NUL character, an unpaired surrogate) is a
// VALIDATION_ERROR naming its path, for every string input at any depth, in
// variables and in literals, on every backend and transport, and nothing is
// written. JSON nested deeper than MAX_JSON_DEPTH is refused by its scalar.
import { expect } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/modules/common/scalars.schema.js';
import { UNSTORABLE_TEXT_MESSAGE } from '../../src/platform/validate.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { databaseTables, type TestApp } from '../support/app.js';
import { ERROR_SELECTION } from '../support/errors.js';
import { seedIntegration } from '../support/fixtures.js';

type Result = { data?: Record<string, any> | null; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };

const NUL = 'a\u0000b';
const LONE_SURROGATE = 'a\uD800b';
const UNION = `__typename ${ERROR_SELECTION}`;

describeEachBackend(
  'unstorable text',
  (_backend, test) => {
    let t: TestApp;
    let owner: string;
    let key: string;
    let orgId: string;
    let workspaceId: string;

    test.beforeAll(async ({ t: app, tenant, workspaceId: ws, apiKey }) => {
      [t, owner, orgId, workspaceId, key] = [app, tenant.token, tenant.organizationId, ws, apiKey];
      await seedIntegration(t, owner, { workspaceId, integrationName: 'slack', alias: 'slack', connectionStrategy: 'PER_USER' });
    });

    /** Runs a mutation and returns its result union member, asserting the database did not change. */
    async function mutate(name: string, inputType: string, input: Record<string, unknown>, token = owner) {
      const before = await databaseTables(t);
      const result = (await t.requestRaw(`mutation($input: ${inputType}!) { r: ${name}(input: $input) { ${UNION} } }`, { input }, token)) as Result;
      expect(result.errors).toBeUndefined();
      // Only the FAILURE audit entry may be new.
      const after = await databaseTables(t);
      expect({ ...after, AuditEvent: '' }).toEqual({ ...before, AuditEvent: '' });
      return result.data!.r;
    }

    const refused = (paths: string[][]) => ({
      __typename: 'ValidationError',
      code: 'VALIDATION_ERROR',
      message: paths.map((path) => `${path.join('.')}: ${UNSTORABLE_TEXT_MESSAGE}`).join('; '),
      fieldErrors: paths.map((path) => ({ path, message: UNSTORABLE_TEXT_MESSAGE })),
    });

    test('createOrganization, createWorkspace, upsertEndUser, resolveConnection: the mutation answers ValidationError with the path', async () => {
      expect(await mutate('createOrganization', 'CreateOrganizationInput', { name: NUL, slug: 'fresh' })).toEqual(refused([['input', 'name']]));
      expect(await mutate('createWorkspace', 'CreateWorkspaceInput', { organizationId: orgId, name: 'W', slug: LONE_SURROGATE })).toEqual(
        refused([['input', 'slug']]),
      );
      expect(await mutate('upsertEndUser', 'UpsertEndUserInput', { workspaceId, externalId: NUL })).toEqual(refused([['input', 'externalId']]));
      expect(await mutate('resolveConnection', 'ResolveConnectionInput', { workspaceId, integration: 'slack', externalId: NUL }, key)).toEqual(
        refused([['input', 'externalId']]),
      );
    });

    test('lists, JSON values and JSON keys at any depth', async () => {
      const metadata = { ok: 'fine', deep: [{ list: ['x', `y${LONE_SURROGATE}`] }], [`k${NUL}`]: 1 };
      expect(await mutate('upsertEndUser', 'UpsertEndUserInput', { workspaceId, externalId: 'u1', metadata })).toEqual(
        refused([
          ['input', 'metadata', 'deep', '0', 'list', '1'],
          ['input', 'metadata', 'ka\uFFFDb'],
        ]),
      );
      expect(
        await mutate('syncEndUsers', 'SyncEndUsersInput', { workspaceId, users: [{ externalId: 'ok' }, { externalId: 'ok2', email: NUL }] }),
      ).toEqual(refused([['input', 'users', '1', 'email']]));
    });

    test('a string literal in the document is checked like a variable', async () => {
      const result = (await t.requestRaw(
        `mutation { r: createOrganization(input: { name: "a\\u0000b", slug: "literal" }) { ${UNION} } }`,
        {},
        owner,
      )) as Result;
      expect(result.data?.r).toEqual(refused([['input', 'name']]));
    });

    test('a query argument: VALIDATION_ERROR with the argument path, no database call', async () => {
      const result = (await t.requestRaw('query($slug: String) { organization(slug: $slug) { id } }', { slug: NUL }, owner)) as Result;
      expect(result.data).toEqual({ organization: null });
      expect(result.errors).toEqual([
        expect.objectContaining({
          message: `slug: ${UNSTORABLE_TEXT_MESSAGE}`,
          path: ['organization'],
          extensions: { code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['slug'], message: UNSTORABLE_TEXT_MESSAGE }] },
        }),
      ]);
    });

    test('a subscription argument over graphql-ws', async () => {
      const client = t.wsClient(owner);
      const results: Result[] = [];
      await new Promise<void>((resolve) => {
        client.subscribe(
          { query: 'subscription($id: ID!) { workspaceConfigChanged(workspaceId: $id) { version } }', variables: { id: NUL } },
          { next: (value) => void results.push(value as Result), error: () => resolve(), complete: () => resolve() },
        );
      });
      expect(results).toHaveLength(1);
      expect(results[0]!.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['workspaceId'] }] });
    });

    test(`JSON nested deeper than ${MAX_JSON_DEPTH} levels: BAD_USER_INPUT naming the path, however deep; ${MAX_JSON_DEPTH} levels pass`, async () => {
      /** JSON text of `depth` nested objects (JSON.stringify would recurse). */
      const nested = (depth: number) => `${'{"k":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`;
      const upsert = async (depth: number) => {
        const query = 'mutation($input: UpsertEndUserInput!) { r: upsertEndUser(input: $input) { __typename } }';
        const body = `{"query":${JSON.stringify(query)},"variables":{"input":{"workspaceId":${JSON.stringify(workspaceId)},"externalId":"deep","metadata":${nested(depth)}}}}`;
        const response = await fetch(`${t.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${owner}` },
          body,
        });
        return (await response.json()) as Result;
      };
      const before = await databaseTables(t);
      for (const depth of [MAX_JSON_DEPTH + 1, 150_000]) {
        const refused = await upsert(depth);
        expect(refused.errors).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(new RegExp(`at "input.metadata"; JSON must not nest deeper than ${MAX_JSON_DEPTH} levels`)),
            extensions: { code: 'BAD_USER_INPUT' },
          }),
        ]);
      }
      expect(await databaseTables(t)).toEqual(before);
      expect((await upsert(MAX_JSON_DEPTH)).data?.r).toEqual({ __typename: 'EndUser' });
    });

    test('well-formed text passes: emoji (surrogate pairs), U+FFFD, other control characters', async () => {
      const displayName = '😀 \uFFFD \u0001 \u007f';
      const result = (await t.requestRaw(
        'mutation($input: UpsertEndUserInput!) { r: upsertEndUser(input: $input) { __typename ... on EndUser { displayName } } }',
        { input: { workspaceId, externalId: 'emoji', displayName } },
        owner,
      )) as Result;
      expect(result.data?.r).toEqual({ __typename: 'EndUser', displayName });
    });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
);
