// End to end through a real gateway: Hive Gateway's runtime on loopback,
// configured with examples/hive-gateway/gateway.config.ts as documented,
// composing Heddle (with a router secret) and an accounts subgraph standing for
// the host product. Everything, fixtures included, goes through the gateway.
// The documents span both subgraphs, so they are strings, not typed documents.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, getGraphQLWSOptions, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse, type ExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { composeSupergraph } from '../../examples/hive-gateway/compose.js';
import { gatewayConfig, HEDDLE_SUBGRAPH } from '../../examples/hive-gateway/gateway.config.js';
import { startAccountsSubgraph, type Account } from '../support/accounts-subgraph.js';
import { startTestApp, subscribeSse, subscribeWs, type TestApp } from '../support/app.js';
import { ERROR_SELECTION } from '../support/errors.js';

const ROUTER_SECRET = 'gateway-test-router-secret-0123456789';

// Results of documents that span both subgraphs: untyped.
type Data = Record<string, any>;

describe('through Hive Gateway', () => {
  let heddle: TestApp;
  let accounts: Awaited<ReturnType<typeof startAccountsSubgraph>>;
  const accountRows: Account[] = [];
  let gateway: GatewayRuntime;
  let server: Server;
  let gatewayUrl: string;
  let token: string;
  let workspaceId: string;
  let endUserId: string;

  /** POST to the gateway, as the holder of `token` when given. */
  async function query(document: string, variables: Record<string, unknown> = {}, bearer?: string): Promise<ExecutionResult<Data>> {
    const response = await fetch(`${gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query: document, variables }),
    });
    return response.json() as Promise<ExecutionResult<Data>>;
  }

  async function mutate(document: string, variables: Record<string, unknown>, field: string): Promise<Data> {
    const result = await query(document, variables, token);
    expect(result.errors).toBeUndefined();
    const value = result.data![field] as Data;
    if (!('id' in value)) throw new Error(`${field} failed: ${JSON.stringify(value)}`);
    return value;
  }

  beforeAll(async () => {
    // The gateway config reads the secret from its environment, as a deployed gateway would.
    process.env.HEDDLE_ROUTER_SECRET = ROUTER_SECRET;
    heddle = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { env: { HEDDLE_ROUTER_SECRET: ROUTER_SECRET } });
    accounts = await startAccountsSubgraph(accountRows);
    const supergraph = await composeSupergraph([
      { name: HEDDLE_SUBGRAPH, url: `${heddle.url}/graphql` },
      { name: 'accounts', url: accounts.url },
    ]);
    gateway = createGatewayRuntime({ ...gatewayConfig, supergraph, logging: false });
    server = createServer(gateway);
    await gateway.getSchema(); // before accepting websockets
    useServer(
      getGraphQLWSOptions<Record<string, unknown>, Extra>(gateway, (ctx) => ({ req: ctx.extra.request, socket: ctx.extra.socket })),
      new WebSocketServer({ server, path: '/graphql' }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    token = await heddle.memberToken('gateway@example.com');
    const org = await mutate(
      `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { ... on Organization { id } ${ERROR_SELECTION} } }`,
      { input: { name: 'Acme', slug: 'acme' } },
      'createOrganization',
    );
    workspaceId = (
      await mutate(
        `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ... on Workspace { id } ${ERROR_SELECTION} } }`,
        { input: { organizationId: org.id, name: 'Production', slug: 'prod' } },
        'createWorkspace',
      )
    ).id;
    endUserId = (
      await mutate(
        `mutation($input: UpsertEndUserInput!) { upsertEndUser(input: $input) { ... on EndUser { id } ${ERROR_SELECTION} } }`,
        { input: { workspaceId, externalId: 'ada' } },
        'upsertEndUser',
      )
    ).id;
    // The host product stores Heddle's ids when it syncs its users.
    accountRows.push({ id: 'acct-ada', name: 'Ada Lovelace', endUserId, workspaceId, organizationId: org.id, plan: 'team' });
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await gateway?.dispose();
    await accounts?.stop();
    await heddle?.stop();
  });

  test('Heddle answers only the gateway: directly, without the router secret, it is 401', async () => {
    const direct = await fetch(`${heddle.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(direct.status).toBe(401);
  });

  test('a query from Heddle into the host product: workspace → plan, end users → their accounts', async () => {
    const result = await query(
      `query($ws: ID!) {
        workspace(id: $ws) { name plan endUsers(first: 5) { totalCount edges { node { externalId account { name } } } } }
      }`,
      { ws: workspaceId },
      token,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      workspace: { name: 'Production', plan: 'team', endUsers: { totalCount: 1, edges: [{ node: { externalId: 'ada', account: { name: 'Ada Lovelace' } } }] } },
    });
  });

  test("a query from the host product into Heddle's entities carries the client's Authorization", async () => {
    const document = `{
      account(id: "acct-ada") { name endUser { externalId } workspace { slug plan } organization { slug } }
    }`;
    const asMember = await query(document, {}, token);
    expect(asMember.errors).toBeUndefined();
    expect(asMember.data).toEqual({
      account: { name: 'Ada Lovelace', endUser: { externalId: 'ada' }, workspace: { slug: 'prod', plan: 'team' }, organization: { slug: 'acme' } },
    });
    // Without the header Heddle sees an anonymous caller: its entities stay hidden.
    const anonymous = await query(document);
    expect(anonymous.data?.account?.name).toBe('Ada Lovelace');
    expect(anonymous.data?.account?.endUser ?? null).toBeNull();
    expect(JSON.stringify(anonymous)).not.toMatch(/"prod"|"acme"|"ada"/);

    expect((await query('{ viewer { kind } }', {}, token)).data).toEqual({ viewer: { kind: 'MEMBER' } });
    expect((await query('{ viewer { kind } }')).data).toEqual({ viewer: { kind: 'ANONYMOUS' } });
  });

  test('workspaceConfigChanged through the gateway, over SSE and graphql-ws, with the host product fields of each event', async () => {
    const subscription = parse(`
      subscription($ws: ID!, $since: Int) {
        workspaceConfigChanged(workspaceId: $ws, sinceVersion: $since) { version kind workspace { name plan } }
      }
    `) as TypedDocumentNode<Data, { ws: string; since: number }>;
    const variables = { ws: workspaceId, since: 0 };
    const sse = await subscribeSse(gatewayUrl, subscription, variables, token);
    const ws = subscribeWs(
      createClient({
        url: `${gatewayUrl.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      }),
      subscription,
      variables,
    );
    const rename = (name: string) =>
      mutate(
        `mutation($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { ... on Workspace { id configVersion } ${ERROR_SELECTION} } }`,
        { input: { id: workspaceId, name } },
        'updateWorkspace',
      );

    await rename('Renamed');
    for (const event of await Promise.all([sse.next(), ws.next()])) {
      expect(event).toEqual({ data: { workspaceConfigChanged: { version: 1, kind: 'WORKSPACE_UPDATED', workspace: { name: 'Renamed', plan: 'team' } } } });
    }
    // The host product's field is fetched again for the next event, not cached for the subscription.
    accountRows[0]!.plan = 'enterprise';
    await rename('Renamed again');
    for (const event of await Promise.all([sse.next(), ws.next()])) {
      expect(event.data?.workspaceConfigChanged).toEqual({ version: 2, kind: 'WORKSPACE_UPDATED', workspace: { name: 'Renamed again', plan: 'enterprise' } });
    }
    sse.stop();
    ws.stop();
  });

  test('a subscription without Authorization is refused by Heddle through the gateway', async () => {
    const document = parse('subscription($ws: ID!) { workspaceConfigChanged(workspaceId: $ws) { version } }') as TypedDocumentNode<Data, { ws: string }>;
    const sse = await subscribeSse(gatewayUrl, document, { ws: workspaceId });
    const result = await sse.next();
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|NOT_FOUND/);
    sse.stop();
  });
});
