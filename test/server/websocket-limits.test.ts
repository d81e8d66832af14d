// graphql-ws limits: subscriptions per connection, and a keepalive that drops
// peers that stop answering pings, including subscribers that stop reading.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { graphql } from '../generated/index.js';
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

const UpdateWorkspace = graphql(`
  mutation WlUpdateWorkspace($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { ... on Workspace { configVersion } } }
`);

/** Changes the workspace; returns its new configVersion. */
async function changeWorkspace(name: string): Promise<number> {
  const result = await t.request(UpdateWorkspace, { input: { id: workspaceId, name } }, token);
  return (result.data!.updateWorkspace as { configVersion: number }).configVersion;
}

test('a connection holds at most HEDDLE_WS_MAX_SUBSCRIPTIONS subscriptions; the next one fails alone', async () => {
  const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
  // Each replays the workspace's latest change: that event, or an error, is the subscribe's answer.
  const since = (await changeWorkspace('limited')) - 1;
  const query = 'subscription($ws: ID!, $since: Int) { workspaceConfigChanged(workspaceId: $ws, sinceVersion: $since) { version } }';
  const outcomes: string[] = [];
  const open = () =>
    new Promise<void>((resolve) => {
      client.subscribe(
        { query, variables: { ws: workspaceId, since } },
        {
          next: () => resolve(),
          error: (error) => {
            outcomes.push(Array.isArray(error) ? String(error[0]?.extensions?.code) : 'closed');
            resolve();
          },
          complete: () => resolve(),
        },
      );
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

/**
 * A graphql-transport-ws peer subscribed to the workspace's config events from `sinceVersion`, returned once the
 * replayed event arrives (the subscription is in place); `read: false` then stops reading its socket.
 */
async function configSubscriber(read: boolean, sinceVersion: number) {
  const socket = new WebSocket(wsUrl(), 'graphql-transport-ws');
  let events = 0;
  let pings = 0;
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('ping', () => pings++);
  await new Promise<void>((resolve) => socket.once('open', () => resolve()));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const subscribed = new Promise<void>((resolve) =>
    socket.on('message', (data) => {
      const type = (JSON.parse(String(data)) as { type: string }).type;
      if (type === 'connection_ack') {
        const query = 'subscription($ws: ID!, $since: Int) { workspaceConfigChanged(workspaceId: $ws, sinceVersion: $since) { version workspace { name } } }';
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables: { ws: workspaceId, since: sinceVersion } } }));
      }
      if (type === 'next' && ++events === 1) resolve();
    }),
  );
  await subscribed;
  // The TCP socket under the websocket: paused, nothing more is read (pings included).
  const tcp = (socket as unknown as { _socket: import('node:net').Socket })._socket;
  if (!read) tcp.pause();
  return { socket, closed, tcp, events: () => events, pings: () => pings };
}

test('a subscriber that stops reading is dropped by the keepalive; one reading the same stream keeps every event', async () => {
  const since = (await changeWorkspace('before')) - 1;
  const reader = await configSubscriber(true, since);
  const stalled = await configSubscriber(false, since);
  const stalledAtPing = reader.pings();
  const changes = 20;
  for (let i = 0; i < changes; i++) await changeWorkspace(`name ${i}`);
  await expect.poll(() => reader.events(), { timeout: 5000 }).toBe(1 + changes);
  // The keepalive ends a peer within two ping intervals of its last answer. The reader hears the same
  // server's pings: three since the other stopped reading mean those two intervals have passed.
  await expect.poll(() => reader.pings() - stalledAtPing, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
  // A paused socket does not see its own end: reading again, it finds the connection already cut
  // (without a close frame), before a ping interval passes, where a live peer would answer the next ping.
  stalled.tcp.resume();
  const code = await Promise.race([stalled.closed, new Promise<string>((r) => setTimeout(() => r('still open'), 150))]);
  expect(code).toBe(1006);
  expect(reader.events()).toBe(1 + changes);
  expect(reader.socket.readyState).toBe(WebSocket.OPEN);
  reader.socket.close();
});
