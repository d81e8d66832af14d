// A small subgraph standing for the host product ("accounts") in federation
// tests: it adds fields to Heddle's EndUser and Workspace through their keys,
// references Organization, Connection and McpServer, and shares PageInfo. Served by a
// real Yoga server on loopback so a real gateway can call it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';

export const ACCOUNTS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])

  type Query {
    account(id: ID!): Account
    accounts(first: Int = 10): AccountConnection!
  }

  "The host product's own user account."
  type Account @key(fields: "id") {
    id: ID!
    name: String!
    "The Heddle end user mirroring this account."
    endUser: EndUser
    workspace: Workspace
    organization: Organization
    primaryConnection: Connection
    "The MCP server the account's assistant uses."
    assistantTools: McpServer
  }

  type AccountConnection {
    edges: [AccountEdge!]!
    pageInfo: PageInfo!
  }

  type AccountEdge {
    cursor: String!
    node: Account!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type EndUser @key(fields: "id") {
    id: ID!
    "The account this end user mirrors."
    account: Account
  }

  type Workspace @key(fields: "id") {
    id: ID!
    "The host product's billing plan for this workspace."
    plan: String!
  }

  type Organization @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Connection @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type McpServer @key(fields: "id", resolvable: false) {
    id: ID!
  }
`;

/** An account; the ids are Heddle global ids the host product stored when it synced its users. */
export interface Account {
  id: string;
  name: string;
  endUserId?: string;
  workspaceId?: string;
  organizationId?: string;
  connectionId?: string;
  mcpServerId?: string;
  plan?: string;
}

const ref = (id: string | undefined) => (id ? { id } : null);

export function accountsSchema(accounts: Account[]) {
  const byId = (id: string) => accounts.find((a) => a.id === id) ?? null;
  return buildSubgraphSchema({
    typeDefs: parse(ACCOUNTS_SDL),
    resolvers: {
      Query: {
        account: (_: unknown, { id }: { id: string }) => byId(id),
        accounts: (_: unknown, { first }: { first: number }) => ({
          edges: accounts.slice(0, first).map((node) => ({ cursor: node.id, node })),
          pageInfo: { hasNextPage: accounts.length > first, hasPreviousPage: false, startCursor: null, endCursor: null },
        }),
      },
      Account: {
        __resolveReference: ({ id }: { id: string }) => byId(id),
        endUser: (a: Account) => ref(a.endUserId),
        workspace: (a: Account) => ref(a.workspaceId),
        organization: (a: Account) => ref(a.organizationId),
        primaryConnection: (a: Account) => ref(a.connectionId),
        assistantTools: (a: Account) => ref(a.mcpServerId),
      },
      EndUser: {
        account: ({ id }: { id: string }) => accounts.find((a) => a.endUserId === id) ?? null,
      },
      Workspace: {
        plan: ({ id }: { id: string }) => accounts.find((a) => a.workspaceId === id)?.plan ?? 'free',
      },
    },
  });
}

export async function startAccountsSubgraph(accounts: Account[]): Promise<{ url: string; stop(): Promise<void> }> {
  const yoga = createYoga({ schema: accountsSchema(accounts), graphqlEndpoint: '/graphql', logging: false });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
