// Limits that keep one websocket from costing the server without bound: a cap
// on open subscriptions per connection, and a keepalive ping that drops dead
// peers. A peer that stops reading is a dead peer too: graphql-ws waits for
// each message to be written before it sends the next, so such a peer stalls
// only its own streams, and it cannot answer the next ping, so it is dropped
// within two intervals (it reconnects and resumes with sinceVersion: nothing
// is lost).
import { GraphQLError } from 'graphql';
import type { WebSocket, WebSocketServer } from 'ws';
import type { GraphqlLimits } from '../platform/config.js';

export function subscriptionLimitError(open: number, limits: GraphqlLimits['websocket']): GraphQLError | null {
  if (open < limits.maxSubscriptions) return null;
  return new GraphQLError(`at most ${limits.maxSubscriptions} subscriptions per connection`, {
    extensions: { code: 'SUBSCRIPTION_LIMIT' },
  });
}

/** Pings every socket each interval; one that has not answered the previous ping is terminated. Returns a stop function. */
export function keepAlive(server: WebSocketServer, limits: GraphqlLimits['websocket']): () => void {
  const alive = new WeakSet<WebSocket>();
  server.on('connection', (socket) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
  });
  const timer = setInterval(() => {
    for (const socket of server.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, limits.pingIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
