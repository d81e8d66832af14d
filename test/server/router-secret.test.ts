// With HEDDLE_ROUTER_SECRET set, only callers sending it (the gateway) reach
// GraphQL over HTTP, SSE or graphql-ws; the health endpoints stay open.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ROUTER_SECRET_HEADER } from '../../src/auth/router-secret.js';
import { startTestApp, type TestApp } from '../support/app.js';

const SECRET = 'router-secret-for-tests-0123456789';
let t: TestApp;
beforeAll(async () => void (t = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { env: { HEDDLE_ROUTER_SECRET: SECRET } })));
afterAll(() => t.stop());

const post = (headers: Record<string, string>, accept = 'application/json') =>
  fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: JSON.stringify({ query: '{ __typename }' }),
  });

test('HTTP and SSE without the matching header are refused with 401', async () => {
  for (const headers of [{} as Record<string, string>, { [ROUTER_SECRET_HEADER]: 'wrong' }, { [ROUTER_SECRET_HEADER]: `${SECRET}x` }]) {
    expect((await post(headers)).status).toBe(401);
    expect((await post(headers, 'text/event-stream')).status).toBe(401);
  }
  const trusted = await post({ [ROUTER_SECRET_HEADER]: SECRET });
  expect(await trusted.json()).toEqual({ data: { __typename: 'Query' } });
});

test('a websocket upgrade without the header is refused with 401; with it graphql-ws works', async () => {
  const url = `${t.url.replace('http', 'ws')}/graphql`;
  const status = await new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('open', () => reject(new Error('opened without the router secret')));
  });
  expect(status).toBe(401);

  // The gateway sends the secret on the upgrade request.
  class TrustedSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: { [ROUTER_SECRET_HEADER]: SECRET } });
    }
  }
  const client = createClient({ url, webSocketImpl: TrustedSocket, retryAttempts: 0 });
  const result = await new Promise((resolve, reject) => {
    client.subscribe({ query: '{ __typename }' }, { next: resolve, error: reject, complete: () => {} });
  });
  expect(result).toEqual({ data: { __typename: 'Query' } });
  await client.dispose();
});

test('a gateway that forwards Authorization on the upgrade request, not in connection_init, is authenticated by it', async () => {
  const token = await t.memberToken('upgrade-header@example.com');
  class GatewaySocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: { [ROUTER_SECRET_HEADER]: SECRET, authorization: `Bearer ${token}` } });
    }
  }
  const client = createClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: GatewaySocket, retryAttempts: 0 });
  const result = await new Promise((resolve, reject) => {
    client.subscribe({ query: '{ viewer { kind } }' }, { next: resolve, error: reject, complete: () => {} });
  });
  expect(result).toEqual({ data: { viewer: { kind: 'MEMBER' } } });
  await client.dispose();
});

test('health endpoints stay open', async () => {
  expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
});
