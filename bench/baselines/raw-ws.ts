// Baseline "raw ws": one Redis subscription to the workspace's config channel
// (the one Heddle's outbox publishes to) and a `ws` broadcast of each event to
// every connected socket: the bytes a graphql-ws subscriber of Heddle receives,
// built once per event instead of once per subscriber.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import type { ConfigEventMessage } from '../../src/platform/pubsub.js';

const channel = `workspace-config:${process.env.BENCH_WORKSPACE_ID}`;
const subscriber = new Redis(process.env.REDIS_URL!);

const server = createServer((req, res) => {
  res.writeHead(req.url === '/readyz' && subscriber.status === 'ready' ? 200 : 503).end();
});
const sockets = new WebSocketServer({ server, path: '/graphql' });

subscriber.on('message', (_channel: string, text: string) => {
  const event = JSON.parse(text) as ConfigEventMessage;
  // What graphql-ws sends for `{ version kind occurredAt }`, with the harness's operation id "1".
  const bytes = Buffer.from(
    JSON.stringify({
      id: '1',
      type: 'next',
      payload: { data: { workspaceConfigChanged: { version: event.version, kind: event.kind, occurredAt: event.occurredAt } } },
    }),
  );
  for (const socket of sockets.clients) socket.send(bytes);
});
await subscriber.subscribe(channel);

server.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => {
  for (const socket of sockets.clients) socket.terminate();
  server.close();
  subscriber.disconnect();
  process.exit(0);
});
