// Limits that keep one websocket from costing the server without bound:
// a cap on open subscriptions per connection, a keepalive ping that drops
// dead peers, and a slow-consumer cut-off so unsent events cannot pile up in
// memory (the client reconnects and resumes with sinceVersion: nothing is lost).
import { GraphQLError } from 'graphql';
import type { WebSocket, WebSocketServer } from 'ws';
import type { GraphqlLimits } from '../config.js';

/** Close code for a peer that reads too slowly (1013: try again later). */
export const SLOW_CONSUMER_CLOSE = 1013;

export function subscriptionLimitError(open: number, limits: GraphqlLimits['websocket']): GraphQLError | null {
  if (open < limits.maxSubscriptions) return null;
  return new GraphQLError(`at most ${limits.maxSubscriptions} subscriptions per connection`, {
    extensions: { code: 'SUBSCRIPTION_LIMIT' },
  });
}

/** Closes the socket when it has more unsent bytes queued than allowed. */
export function dropSlowConsumer(socket: WebSocket, limits: GraphqlLimits['websocket']): void {
  if (socket.bufferedAmount > limits.maxBufferedBytes) socket.close(SLOW_CONSUMER_CLOSE, 'slow consumer');
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
