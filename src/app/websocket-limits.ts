// Limits that keep one websocket from costing the server without bound: a cap
// on open subscriptions per connection here, and graphql-ws's own keepalive
// (useServer's third argument, set in app.ts): it pings each socket every
// interval and terminates one that has not answered within the next interval.
// A peer that stops reading is a dead peer too: graphql-ws waits for each
// message to be written before it sends the next, so such a peer stalls only
// its own streams, and it cannot answer the ping, so it is dropped within two
// intervals (it reconnects and resumes with sinceVersion: nothing is lost).
import { GraphQLError } from 'graphql';
import type { GraphqlLimits } from '../platform/config.js';

export function subscriptionLimitError(open: number, limits: GraphqlLimits['websocket']): GraphQLError | null {
  if (open < limits.maxSubscriptions) return null;
  return new GraphQLError(`at most ${limits.maxSubscriptions} subscriptions per connection`, {
    extensions: { code: 'SUBSCRIPTION_LIMIT' },
  });
}
