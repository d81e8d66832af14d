// Abuse limits: for each, a request at the limit runs and one past it is
// refused before any resolver runs (no SQL statement besides authentication's
// user lookup). The limits are set small through the environment.
import { Lexer, Source, TokenKind } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CSRF_HEADER } from '../../src/app/limits.js';
import { type TestApp, startTestApp, withoutAuthentication } from '../support/app.js';

const LIMITS = {
  HEDDLE_MAX_DEPTH: '4',
  HEDDLE_MAX_ALIASES: '2',
  HEDDLE_MAX_DIRECTIVES: '2',
  HEDDLE_MAX_TOKENS: '60',
  HEDDLE_MAX_COST: '20',
  HEDDLE_MAX_BODY_BYTES: '2000',
};

let t: TestApp;
let token: string;
let workspaceId: string;
let orgId: string;
let statements: string[] = [];

beforeAll(async () => {
  t = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { env: LIMITS, onQuery: (e) => statements.push(e.query) });
  token = await t.memberToken('limits@example.com');
  // The shared fixtures select the whole ErrorFields fragment, which these small limits refuse: seed with short documents.
  const created = async (query: string) => {
    const result = await t.requestRaw<{ r: { id?: string } }>(query, {}, token);
    if (!result.data?.r.id) throw new Error(`seeding failed: ${JSON.stringify(result)}`);
    return result.data.r.id;
  };
  orgId = await created('mutation { r: createOrganization(input: { name: "L", slug: "limits" }) { ... on Organization { id } } }');
  workspaceId = await created(`mutation { r: createWorkspace(input: { organizationId: "${orgId}", name: "W", slug: "w" }) { ... on Workspace { id } } }`);
});
afterAll(() => t.stop());

/** Runs one POST and counts the statements it caused, authentication's user lookup aside. */
/** A body sent in pieces without Content-Length (chunked transfer encoding). */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, (offset += 500)));
    },
  });
}

async function post(body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  statements = [];
  const response = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body,
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit);
  const text = await response.text();
  const json = (() => {
    try {
      return JSON.parse(text) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    } catch {
      return undefined;
    }
  })();
  return { status: response.status, json, statements: withoutAuthentication(statements).length };
}

const run = (query: string, variables: Record<string, unknown> = {}) => post(JSON.stringify({ query, variables: { id: workspaceId, ...variables } }));

async function expectRuns(query: string, variables?: Record<string, unknown>) {
  const result = await run(query, variables);
  expect(result.json?.errors).toBeUndefined();
  expect(result.json?.data?.workspace ?? result.json?.data?.a ?? result.json?.data?.nodes).toBeTruthy();
  expect(result.statements).toBeGreaterThan(0);
}

async function expectRefused(query: string, message: RegExp, code: string, variables?: Record<string, unknown>) {
  const result = await run(query, variables);
  expect(result.json?.data ?? null).toBeNull();
  expect(result.json?.errors?.[0]?.message).toMatch(message);
  expect(result.json?.errors?.[0]?.extensions?.code).toBe(code);
  expect(result.statements).toBe(0);
}

function tokenCount(query: string): number {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

describe('abuse limits', () => {
  test('depth', async () => {
    await expectRuns('query($id: ID!) { workspace(id: $id) { organization { workspaces(first: 1) { totalCount } } } }');
    await expectRefused(
      'query($id: ID!) { workspace(id: $id) { organization { workspaces(first: 1) { edges { cursor } } } } }',
      /depth limit of 4 exceeded, found 5/,
      'DEPTH_LIMIT_EXCEEDED',
    );
  });

  test('aliases', async () => {
    await expectRuns('query($id: ID!) { a: workspace(id: $id) { id } b: workspace(id: $id) { id } }');
    await expectRefused(
      'query($id: ID!) { a: workspace(id: $id) { id } b: workspace(id: $id) { id } c: workspace(id: $id) { id } }',
      /Aliases limit of 2 exceeded/,
      'ALIAS_LIMIT_EXCEEDED',
    );
  });

  test('directives', async () => {
    await expectRuns('query($id: ID!) { workspace(id: $id) { id @include(if: true) slug @include(if: true) } }');
    await expectRefused(
      'query($id: ID!) { workspace(id: $id) { id @include(if: true) slug @include(if: true) name @include(if: true) } }',
      /Directives limit of 2 exceeded/,
      'DIRECTIVE_LIMIT_EXCEEDED',
    );
  });

  test('tokens', async () => {
    const query = (padding: number) => `query($id: ID!) { workspace(id: $id) { id ${'__typename '.repeat(padding)}} }`;
    const atLimit = query(60 - tokenCount(query(0)));
    expect(tokenCount(atLimit)).toBe(60);
    await expectRuns(atLimit);
    await expectRefused(query(61 - tokenCount(query(0))), /Token limit of 60 exceeded/, 'TOKEN_LIMIT_EXCEEDED');
  });

  test('cost: each field 1, a connection page multiplied by first, a list by its argument length', async () => {
    // workspace 1 + endUsers 1 + edges 1 + n × cursor 1 = 3 + n
    const paged = 'query($id: ID!, $n: Int!) { workspace(id: $id) { endUsers(first: $n) { edges { cursor } } } }';
    await expectRuns(paged, { n: 17 });
    await expectRefused(paged, /Query cost 21 exceeds the limit of 20/, 'COST_LIMIT_EXCEEDED', { n: 18 });
    // nodes 1 + ids × id 1
    const listed = 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }';
    await expectRuns(listed, { ids: Array(19).fill(workspaceId) });
    await expectRefused(listed, /Query cost 21 exceeds the limit of 20/, 'COST_LIMIT_EXCEEDED', { ids: Array(20).fill(workspaceId) });
  });

  test.each([
    ['with Content-Length', (text: string) => text],
    ['chunked, without Content-Length', chunked],
  ])('request body size: 413 past the limit, before parsing (%s)', async (_how, send) => {
    const body = (size: number) => {
      const base = JSON.stringify({ query: 'query($id: ID!) { workspace(id: $id) { id } }', variables: { id: workspaceId } });
      return base.replace('{ id } }', `{ id } }${' '.repeat(size - base.length)}`);
    };
    expect(body(2000)).toHaveLength(2000);
    const atLimit = await post(send(body(2000)));
    expect(atLimit.json?.data?.workspace).toEqual({ id: workspaceId });
    const past = await post(send(body(2001)));
    expect(past.status).toBe(413);
    expect(past.json?.errors?.[0]?.extensions?.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    expect(past.statements).toBe(0);
  });

  test('batching is off', async () => {
    const one = { query: 'query($id: ID!) { workspace(id: $id) { id } }', variables: { id: workspaceId } };
    const batch = await post(JSON.stringify([one, one]));
    expect(batch.status).toBeGreaterThanOrEqual(400);
    expect(batch.json?.data ?? null).toBeNull();
    expect(batch.statements).toBe(0);
  });

  test('CSRF: a GET or a form POST needs the header a browser cannot send without a preflight', async () => {
    const params = new URLSearchParams({ query: 'query($id: ID!) { workspace(id: $id) { id } }', variables: JSON.stringify({ id: workspaceId }) });
    const get = async (headers: Record<string, string> = {}) => {
      statements = [];
      const response = await fetch(`${t.url}/graphql?${params}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
      return { status: response.status, body: await response.json(), statements: statements.filter((s) => !/"User"/.test(s)).length };
    };
    const refused = await get();
    expect(refused.status).toBe(403);
    expect(refused.statements).toBe(0);
    const allowed = await get({ [CSRF_HEADER]: '1' });
    expect(allowed.body).toEqual({ data: { workspace: { id: workspaceId } } });

    const form = await post(`query=${encodeURIComponent('{ __typename }')}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(403);
  });

  test('GraphiQL and introspection still work outside production', async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // An introspection query is far past the small token limit here, so check the rule with a short one.
    const result = await run('{ __schema { queryType { name } } }');
    expect(result.json).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  test('graphql-ws runs under the same limits; a message larger than the body limit closes the socket (1009)', async () => {
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: `${t.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      const tooDeep = 'query($id: ID!) { workspace(id: $id) { organization { workspaces(first: 1) { edges { cursor } } } } }';
      statements = [];
      client.subscribe(
        { query: tooDeep, variables: { id: workspaceId } },
        {
          next: () => {},
          complete: () => {},
          error: (errors) => {
            expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/depth limit of 4 exceeded/), extensions: expect.objectContaining({ code: 'DEPTH_LIMIT_EXCEEDED' }) })]);
            expect(statements.filter((s) => !/"User"/.test(s))).toEqual([]);
            client.subscribe({ query: `{ __typename ${' '.repeat(2000)}}` }, { next: () => {}, error: () => {}, complete: () => {} });
          },
        },
      );
    });
    expect(await closed).toBe(1009);
  });
});
