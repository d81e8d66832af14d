// Baseline "raw ws": one Redis subscription to the workspace's config channel
// (the one Heddle's outbox publishes to), one read of the workspace per event
// with `pg`, and a `ws` broadcast of each event to every connected socket: the
// bytes a graphql-ws subscriber of Heddle receives, built once per event.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { WebSocketServer } from 'ws';
import type { ConfigEventMessage } from '../../src/platform/pubsub.js';

const channel = `workspace-config:${process.env.BENCH_WORKSPACE_ID}`;
const subscriber = new Redis(process.env.REDIS_URL!);
const database = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
/** The workspace's global id, as Heddle's `id` field shows it. */
const workspaceGlobalId = process.env.BENCH_WORKSPACE_GLOBAL_ID!;

const server = createServer((req, res) => {
  res.writeHead(req.url === '/readyz' && subscriber.status === 'ready' ? 200 : 503).end();
});
const sockets = new WebSocketServer({ server, path: '/graphql' });

subscriber.on('message', (_channel: string, text: string) => {
  const event = JSON.parse(text) as ConfigEventMessage;
  void database
    .query<{ name: string; configVersion: number }>('SELECT "name", "configVersion" FROM "Workspace" WHERE "id" = $1', [event.subjectId])
    .then(({ rows: [workspace] }) => {
      // What graphql-ws sends for the W4 selection, with the harness's operation id "1".
      const bytes = Buffer.from(
        JSON.stringify({
          id: '1',
          type: 'next',
          payload: {
            data: {
              workspaceConfigChanged: {
                version: event.version,
                kind: event.kind,
                occurredAt: event.occurredAt,
                workspace: { id: workspaceGlobalId, name: workspace!.name, configVersion: workspace!.configVersion },
              },
            },
          },
        }),
      );
      for (const socket of sockets.clients) socket.send(bytes);
    });
});
await subscriber.subscribe(channel);

server.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => {
  for (const socket of sockets.clients) socket.terminate();
  server.close();
  subscriber.disconnect();
  void database.end();
  process.exit(0);
});
