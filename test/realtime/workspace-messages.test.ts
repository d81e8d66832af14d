// A subscriber of a workspace's doorbell topics (connection status, connect
// sessions) that does not read keeps the latest unread message per row, and
// never makes a publisher fail: the pub/sub's own per-subscriber queue is
// unbounded and throws inside publish() past 1,024 unread messages.
// (The buffering is the transport's neighbour, not part of it: the in-process pub/sub shows it.)
import { expect, test } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { openPubSub, workspaceMessages } from '../../src/platform/pubsub.js';

test('a reader that falls behind keeps the latest message per row, and publishers never fail', async () => {
  const pubsub = await openPubSub({ kind: 'memory' }, createLogger('silent'));
  const stop = new AbortController();
  const workspaceId = crypto.randomUUID();
  const messages = workspaceMessages(pubsub, 'connection-status', workspaceId, stop.signal);
  const first = messages.next(); // listening from here on
  const [c1, c2, c3] = ['c1', 'c2', 'c3'];
  // 3,001 messages about three connections of this workspace, as many about other workspaces.
  const burst = [...Array.from({ length: 3000 }, (_, i) => [c1, c2, c3][i % 3]!), c1];
  for (const connectionId of burst) {
    pubsub.pubsub.publish('connection-status', { workspaceId, connectionId });
    pubsub.pubsub.publish('connection-status', { workspaceId: crypto.randomUUID(), connectionId });
  }
  const received = [(await first).value.connectionId];
  for (let i = 0; i < 2; i++) received.push((await messages.next()).value.connectionId);
  // One message per connection, in the order of their first unread message.
  expect(received).toEqual([c1, c2, c3]);
  const more = await Promise.race([messages.next(), new Promise<'none'>((resolve) => setTimeout(() => resolve('none'), 100))]);
  expect(more).toBe('none');
  stop.abort();
  await pubsub.close();
});
