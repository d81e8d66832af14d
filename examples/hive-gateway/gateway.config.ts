// Hive Gateway configuration for Heddle composed with your own subgraphs.
// The Hive Gateway CLI reads `gatewayConfig` from gateway.config.ts in its
// working directory:
//
//   npx hive-gateway supergraph ./supergraph.graphql
//
// Heddle's own tests run a gateway with exactly this object
// (test/federation/gateway.test.ts). See docs/federation.md.
import type { GatewayConfigSupergraph } from '@graphql-hive/gateway-runtime';

/** The subgraph name Heddle has in the supergraph (compose.ts: `heddle=…`). */
export const HEDDLE_SUBGRAPH = 'heddle';

/** Sent to Heddle when it runs with HEDDLE_ROUTER_SECRET; empty values are ignored by Heddle without one. */
const routerSecret: [string, string] = ['x-heddle-router-secret', '{env.HEDDLE_ROUTER_SECRET}'];

export const gatewayConfig = {
  propagateHeaders: {
    // Heddle decides who is calling from the client's own Authorization header.
    // graphql-ws clients put it in connection_init ({ authorization }), which
    // the gateway merges into context.headers too.
    fromClientToSubgraphs: ({ context, subgraphName }) => {
      const authorization = context.headers?.authorization;
      return subgraphName === HEDDLE_SUBGRAPH && authorization ? { authorization } : {};
    },
  },
  transportEntries: {
    [HEDDLE_SUBGRAPH]: {
      headers: [routerSecret],
      options: {
        // Subscriptions go to Heddle over graphql-ws on its GraphQL path, one
        // socket per client token, which Heddle authenticates in connection_init.
        subscriptions: {
          kind: 'ws',
          location: '/graphql',
          headers: [routerSecret],
          options: { connectionParams: { authorization: '{context.headers.authorization}' } },
        },
      },
    },
  },
} satisfies Omit<GatewayConfigSupergraph, 'supergraph'>;
