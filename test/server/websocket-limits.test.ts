// graphql-ws limits: subscriptions per connection, and a keepalive that drops
// peers that stop answering pings.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedOrganization, seedWorkspace } from '../support/fixtures.js';

let t: TestApp;
let token: string;
let workspaceId: string;
beforeAll(async () => {
  t = await startTestApp(
    { database: 'pglite', pubsub: 'memory' },
    { env: { HEDDLE_WS_MAX_SUBSCRIPTIONS: '2', HEDDLE_WS_PING_INTERVAL_MS: '200' } },
  );
  token = await t.memberToken('ws-limits@example.com');
  workspaceId = await seedWorkspace(t, token, await seedOrganization(t, token, 'ws-limits'), 'limited');
});
afterAll(() => t.stop());

const wsUrl = () => `${t.url.replace('http', 'ws')}/graphql`;

test('a connection holds at most HEDDLE_WS_MAX_SUBSCRIPTIONS subscriptions; the next one fails alone', async () => {
  const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
  const query = 'subscription($ws: ID!) { workspaceConfigChanged(workspaceId: $ws) { version } }';
  const outcomes: string[] = [];
  const open = () =>
    new Promise<void>((resolve) => {
      client.subscribe(
        { query, variables: { ws: workspaceId } },
        {
          next: () => {},
          error: (error) => {
            outcomes.push(Array.isArray(error) ? String(error[0]?.extensions?.code) : 'closed');
            resolve();
          },
          complete: () => resolve(),
        },
      );
      setTimeout(resolve, 300);
    });
  await open();
  await open();
  expect(outcomes).toEqual([]);
  await open();
  expect(outcomes).toEqual(['SUBSCRIPTION_LIMIT']);
  await client.dispose();
});

test('a peer that stops answering pings is dropped; one that answers stays', async () => {
  const connect = (autoPong: boolean) => {
    const socket = new WebSocket(wsUrl(), 'graphql-transport-ws', { autoPong });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    return { socket, closed };
  };
  const silent = connect(false);
  const lively = connect(true);
  const code = await Promise.race([silent.closed, new Promise<string>((r) => setTimeout(() => r('still open'), 3000))]);
  expect(code).toBe(1006); // terminated: no close frame for a dead peer
  expect(lively.socket.readyState).toBe(WebSocket.OPEN);
  lively.socket.close();
});
