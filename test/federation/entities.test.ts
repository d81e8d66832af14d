// `_entities` resolves Heddle's entities for a gateway with the same checks as
// `node`: another tenant's ids come back null, and they cost no query of their
// own (at most the one batched, tenancy-filtered query per type that the
// caller's own references need). Federation fields are outside the SDL the
// typed documents use, so these requests are raw strings.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { type TestApp, startTestApp, withoutAuthentication } from '../support/app.js';
import { describeEachBackend } from '../support/backends.js';
import { missingId, seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { seedMcpServer } from '../support/mcp.js';

const Upsert = graphql(`
  mutation EntUpsert($input: UpsertEndUserInput!) { upsertEndUser(input: $input) { __typename ... on EndUser { id } } }
`);
const CreateApiKey = graphql(`
  mutation EntCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreatedApiKey { plainKey } } }
`);
const NodeById = graphql(`
  query EntNode($id: ID!) { node(id: $id) { id } }
`);

const ENTITIES = `query Entities($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Organization { id slug }
    ... on Workspace { id slug }
    ... on EndUser { id externalId }
    ... on Connection { id displayName }
    ... on McpServer { id name }
  }
}`;

type Representation = { __typename: string; id: string };
type Entity = { __typename: string; id: string } | null;

describeEachBackend('federation entities', (backend) => {
  let t: TestApp;
  let statements: string[] = [];
  let alice: string;
  let bob: string;
  const own: Representation[] = [];
  let bobsWorkspace: Representation;

  /** The statements of one request, without authentication's user lookup. */
  async function entities(representations: Representation[], token?: string) {
    statements = [];
    const result = await t.requestRaw<{ _entities: Entity[] }>(ENTITIES, { r: representations }, token);
    return { result, statements: withoutAuthentication(statements) };
  }

  beforeAll(async () => {
    t = await startTestApp(backend, { onQuery: (e) => statements.push(e.query) });
    alice = await t.memberToken('entities-alice@example.com');
    bob = await t.memberToken('entities-bob@example.com');
    const org = await seedOrganization(t, alice, 'entities-alice');
    own.push({ __typename: 'Organization', id: org });
    for (const slug of ['one', 'two', 'three']) {
      own.push({ __typename: 'Workspace', id: await seedWorkspace(t, alice, org, slug) });
    }
    const workspaceId = own[1]!.id;
    for (const externalId of ['u-1', 'u-2']) {
      const user = (await t.request(Upsert, { input: { workspaceId, externalId } }, alice)).data?.upsertEndUser;
      own.push({ __typename: 'EndUser', id: (user as { id: string }).id });
      own.push({
        __typename: 'Connection',
        id: await seedConnection(t, alice, { scope: 'USER', workspaceId, externalId, integrationName: 'slack', displayName: `${externalId} slack` }),
      });
    }
    own.push({ __typename: 'McpServer', id: (await seedMcpServer(t, alice, { workspaceId, name: 'assistant' })).id });
    const bobsOrg = await seedOrganization(t, bob, 'entities-bob');
    bobsWorkspace = { __typename: 'Workspace', id: await seedWorkspace(t, bob, bobsOrg, 'bobs') };
  });
  afterAll(() => t.stop());

  test('the owner resolves references of five types in one request, one query per type', async () => {
    const { result, statements } = await entities(own, alice);
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities.map((e) => e && `${e.__typename}:${e.id}`)).toEqual(own.map((r) => `${r.__typename}:${r.id}`));
    expect(result.data?._entities).toContainEqual(expect.objectContaining({ __typename: 'EndUser', externalId: 'u-2' }));
    expect(result.data?._entities).toContainEqual(expect.objectContaining({ __typename: 'McpServer', name: 'assistant' }));
    expect(statements, statements.join('\n')).toHaveLength(5);
  });

  test("another tenant's ids come back null, from one tenancy-filtered query per type and no query of their own", async () => {
    const garbage: Representation[] = [
      { __typename: 'Workspace', id: missingId('Workspace') },
      { __typename: 'Workspace', id: own[0]!.id }, // an Organization id given as a Workspace
      { __typename: 'EndUser', id: 'not-a-global-id' },
    ];
    const { result, statements } = await entities([...own, ...garbage, bobsWorkspace], bob);
    expect(result.errors).toBeUndefined();
    const entities_ = result.data!._entities;
    // Bob's own workspace, batched with the foreign ids, still resolves: the filter is the tenancy filter, not "nothing".
    expect(entities_.pop()).toMatchObject({ __typename: 'Workspace', id: bobsWorkspace.id, slug: 'bobs' });
    expect(entities_).toEqual([...own, ...garbage].map(() => null));
    // One statement per type that had a well-formed id, each restricted to Bob's memberships.
    expect(statements, statements.join('\n')).toHaveLength(5);
    for (const sql of statements) expect(sql).toContain('"public"."Member"');
  });

  test('without credentials no reference costs a query', async () => {
    const { result, statements } = await entities([...own, bobsWorkspace]);
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([...own, bobsWorkspace].map(() => null));
    expect(statements).toEqual([]);
  });

  test('a workspace-restricted API key gets the same answer from _entities as from node', async () => {
    const [outside, inside] = [own[1]!, own[2]!];
    const key = await t.request(
      CreateApiKey,
      { input: { organizationId: own[0]!.id, name: 'restricted', workspaceIds: [inside.id] } },
      alice,
    );
    const plainKey = (key.data?.createApiKey as { plainKey: string }).plainKey;
    const viaNode = await t.request(NodeById, { id: outside.id }, plainKey);
    const { result: viaEntities } = await entities([outside], plainKey);
    expect(viaNode.errors?.[0]?.extensions?.code).toBe('SCOPE_DENIED');
    expect(viaEntities.errors?.[0]?.extensions?.code).toBe('SCOPE_DENIED');
    expect((await entities([inside], plainKey)).result.data?._entities).toEqual([expect.objectContaining({ id: inside.id })]);
  });
});
