// Root point reads (`workspace(id)`, `organization(id)`, `actionExecution(id)`)
// that start in one event-loop turn share one statement per type, tenancy
// filter and selection (src/modules/common/point-reads.ts). What each caller
// gets back is exactly what it alone would have read.
import { request as httpRequest, Agent } from 'node:http';
import { print, type ExecutionResult } from 'graphql';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { withoutAuthentication } from '../support/app.js';
import { seedApiKey, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { test as world } from '../support/world.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';

const Points = graphql(`
  query PrPoints($org: ID!, $first: ID!, $second: ID!, $foreign: ID!) {
    organization(id: $org) { name }
    first: workspace(id: $first) { id name }
    second: workspace(id: $second) { id name }
    foreign: workspace(id: $foreign) { id name }
    again: workspace(id: $first) { slug }
  }
`);
const Pair = graphql(`
  query PrPair($a: ID!, $b: ID!) {
    a: workspace(id: $a) { name }
    b: workspace(id: $b) { name }
  }
`);
const Rename = graphql(`
  mutation PrRename($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { __typename ...ErrorFields } }
`);

type Post = { document: Parameters<typeof print>[0]; variables: object; token: string };

/**
 * Posts every request at once on the agent's open sockets, so that all of
 * them reach the server in one event-loop turn (fetch opens and writes its
 * connections over several). The first call on an agent opens its sockets.
 */
function postAll<R>(agent: Agent, url: string, requests: Post[]): Promise<ExecutionResult<R>[]> {
  const post = ({ document, variables, token }: Post) =>
    new Promise<ExecutionResult<R>>((resolve, reject) => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      const req = httpRequest(`${url}/graphql`, { method: 'POST', agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as ExecutionResult<R>));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ query: print(document), variables }));
    });
  return Promise.all(requests.map(post));
}

let statements: string[] = [];
const pointReadsTest = world
  .extend('slug', { scope: 'file' }, 'points')
  .extend('appOptions', { scope: 'file' }, {
    // Every read reaches the database: what is counted here is its statements.
    env: { HEDDLE_RESPONSE_CACHE: 'off' },
    onQuery: (e: { query: string }) => void statements.push(e.query),
  })
  .extend('other', { scope: 'file' }, async ({ t }) => {
    const token = await t.memberToken('owner@elsewhere.test');
    const organizationId = await seedOrganization(t, token, 'elsewhere');
    return { token, organizationId, workspaceId: await seedWorkspace(t, token, organizationId, 'theirs') };
  });

describeEachBackend(
  'point reads',
  (_backend, test) => {
  test('the point reads of one request cost one statement per type; another tenant’s workspace in the same batch comes back null', async ({
    t, tenant, workspaceId, other,
  }) => {
    const second = await seedWorkspace(t, tenant.token, tenant.organizationId, 'second');
    const apiKey = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId });
    const variables = { org: tenant.organizationId, first: workspaceId, second, foreign: other.workspaceId };
    for (const token of [apiKey, tenant.token]) {
      // Authenticated once before counting: the principal cache answers after that.
      await t.request(Points, variables, token);
      statements = [];
      const result = await t.request(Points, variables, token);
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        organization: { name: 'Org points' },
        first: { id: workspaceId, name: 'Workspace main' },
        second: { id: second, name: 'Workspace second' },
        foreign: null,
        again: { slug: 'main' },
      });
      // Four workspace reads in one statement (Pothos selects the same columns for both selections), the organization another.
      const reads = withoutAuthentication(statements);
      expect(reads.filter((sql) => /FROM "(?:public"\.")?Workspace"/.test(sql)), reads.join('\n')).toHaveLength(1);
      expect(reads, reads.join('\n')).toHaveLength(2);
    }
  });

  test('requests that arrive in one turn share a statement; two tenants’ requests never share one', async ({ t, tenant, workspaceId, other, teardown }) => {
    const apiKey = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId });
    const renamed = await t.request(Rename, { input: { id: other.workspaceId, name: 'Their workspace' } }, other.token);
    expect(renamed.data?.updateWorkspace.__typename).toBe('Workspace');
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    teardown.add(async () => void agent.destroy());
    const pair = (token: string) => ({ document: Pair, variables: { a: workspaceId, b: other.workspaceId }, token });
    type PairResult = { a: { name: string } | null; b: { name: string } | null };

    // One principal: twenty requests, one statement (opening the sockets and authenticating first).
    await postAll(agent, t.url, Array.from({ length: 20 }, () => pair(apiKey)));
    statements = [];
    const alone = await postAll<PairResult>(agent, t.url, Array.from({ length: 20 }, () => pair(apiKey)));
    expect(alone.map((r) => r.data)).toEqual(Array.from({ length: 20 }, () => ({ a: { name: 'Workspace main' }, b: null })));
    expect(withoutAuthentication(statements), statements.join('\n')).toHaveLength(1);

    // An API key and a member session, interleaved: two tenancy filters, two statements, each side its own rows.
    await postAll(agent, t.url, Array.from({ length: 20 }, (_, i) => pair(i % 2 ? other.token : apiKey)));
    statements = [];
    const mixed = await postAll<PairResult>(agent, t.url, Array.from({ length: 20 }, (_, i) => pair(i % 2 ? other.token : apiKey)));
    mixed.forEach((result, i) => {
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual(i % 2 ? { a: null, b: { name: 'Their workspace' } } : { a: { name: 'Workspace main' }, b: null });
    });
    expect(withoutAuthentication(statements), statements.join('\n')).toHaveLength(2);
  });

  test('a read sent after a write’s answer reads the write', async ({ t, tenant, workspaceId }) => {
    for (let round = 0; round < 20; round++) {
      const name = `Round ${round}`;
      const [renamed] = await Promise.all([
        t.request(Rename, { input: { id: workspaceId, name } }, tenant.token),
        // Concurrent reads keep batches open around the write.
        t.request(Pair, { a: workspaceId, b: workspaceId }, tenant.token),
      ]);
      expect(renamed.data?.updateWorkspace.__typename).toBe('Workspace');
      const read = await t.request(Pair, { a: workspaceId, b: workspaceId }, tenant.token);
      expect(read.data).toEqual({ a: { name }, b: { name } });
    }
  });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
  pointReadsTest,
);
