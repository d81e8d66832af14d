// Nested reads go through the Pothos Prisma plugin: the number of SQL statements
// of one nested query does not grow with the number of objects (no N+1).
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { withoutAuthentication } from '../support/app.js';
import { seedConnection, seedWorkspace } from '../support/fixtures.js';
import { test as world } from '../support/world.js';

const AddIntegration = graphql(`
  mutation ScAddIntegration($input: AddWorkspaceIntegrationInput!) {
    addWorkspaceIntegration(input: $input) { __typename ...ErrorFields }
  }
`);
const Nested = graphql(`
  query ScNested($id: ID!) {
    organization(id: $id) {
      name
      workspaces(first: 10) {
        totalCount
        edges {
          node {
            slug
            integrations(first: 5) {
              totalCount
              edges { node { alias connectionStrategy connection { displayName status } } }
            }
            endUsers(first: 20) {
              totalCount
              edges { node { externalId connections(first: 5) { edges { node { displayName integrationName } } } } }
            }
          }
        }
      }
    }
  }
`);

const Peers = graphql(`
  query ScPeers($id: ID!, $users: Int!) {
    organization(id: $id) {
      workspaces(first: 10) {
        edges { node { endUsers(first: $users) { edges { node { externalId peers(first: 5) { totalCount edges { node { externalId } } } } } } } }
      }
    }
  }
`);

const INTEGRATIONS = ['slack', 'github', 'notion', 'linear', 'hubspot'];
let statements: string[] = [];
const test = world.extend('appOptions', { scope: 'file' }, { onQuery: (e: { query: string }) => void statements.push(e.query) });

test.beforeAll(async ({ t, tenant: { token, organizationId: orgId } }) => {
  const orgConnections: Record<string, string> = {};
  for (const integrationName of INTEGRATIONS) {
    orgConnections[integrationName] = await seedConnection(t, token, { scope: 'ORGANIZATION', organizationId: orgId, integrationName });
  }
  for (let w = 0; w < 10; w++) {
    const workspaceId = await seedWorkspace(t, token, orgId, `w${w}`);
    for (const integrationName of INTEGRATIONS) {
      const added = await t.request(
        AddIntegration,
        { input: { workspaceId, integrationName, connectionStrategy: 'FIXED', connectionId: orgConnections[integrationName] } },
        token,
      );
      expect(added.data?.addWorkspaceIntegration.__typename).toBe('WorkspaceIntegration');
    }
    for (let u = 0; u < 20; u++) {
      // The first connection for an unknown externalId creates the end user.
      await seedConnection(t, token, { scope: 'USER', workspaceId, externalId: `user-${u}`, integrationName: 'slack', displayName: `user ${u} slack` });
    }
  }
}, 240_000);

test('organization → 10 workspaces → 5 integrations with their connection → 20 end users with their connections: at most 6 statements', async ({
  t, tenant: { token, organizationId: orgId },
}) => {
  statements = [];
  const result = await t.request(Nested, { id: orgId }, token);
  expect(result.errors).toBeUndefined();
  const workspaces = result.data!.organization!.workspaces.edges;
  expect(workspaces).toHaveLength(10);
  for (const { node } of workspaces) {
    expect(node.integrations.edges).toHaveLength(5);
    expect(node.integrations.edges.every((e) => e.node.connection?.status === 'ACTIVE')).toBe(true);
    expect(node.endUsers.edges).toHaveLength(20);
    expect(node.endUsers.edges.every((e) => e.node.connections.edges.length === 1)).toBe(true);
  }
  // Authentication reads the user once; everything else is the query itself.
  const queryStatements = withoutAuthentication(statements);
  // A counter that sees nothing would pass vacuously.
  expect(queryStatements.length).toBeGreaterThan(0);
  expect(queryStatements.length, queryStatements.join('\n')).toBeLessThanOrEqual(6);
});

// Issue #23: the peers of every end user of a page are one statement, however
// many end users the page holds (it used to be two statements per end user).
test('organization → 10 workspaces → end users → their peers with totalCount: one statement for all the peers', async ({
  t, tenant: { token, organizationId: orgId },
}) => {
  const peersStatements = async (users: number) => {
    statements = [];
    const result = await t.request(Peers, { id: orgId, users }, token);
    expect(result.errors).toBeUndefined();
    const endUsers = result.data!.organization!.workspaces.edges.flatMap((w) => w.node.endUsers.edges.map((e) => e.node));
    expect(endUsers).toHaveLength(10 * users);
    // Everyone is in their workspace's default directory: 19 peers each, 5 on the page.
    for (const user of endUsers) {
      expect(user.peers.totalCount).toBe(19);
      expect(user.peers.edges.map((e) => e.node.externalId)).not.toContain(user.externalId);
      expect(user.peers.edges).toHaveLength(5);
    }
    return withoutAuthentication(statements);
  };
  const few = await peersStatements(2);
  const many = await peersStatements(20);
  const readsPeers = (sql: string) => /"SpaceMember" mine/.test(sql);
  expect(many.filter(readsPeers), many.join('\n')).toHaveLength(1);
  expect(many.length, many.join('\n')).toBe(few.length);
});
