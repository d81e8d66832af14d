// Nested reads go through the Pothos Prisma plugin: the number of SQL statements
// of one nested query does not grow with the number of objects (no N+1).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

const CreateOrganization = graphql(`
  mutation ScCreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { __typename ... on Organization { id } }
  }
`);
const CreateWorkspace = graphql(`
  mutation ScCreateWorkspace($input: CreateWorkspaceInput!) {
    createWorkspace(input: $input) { __typename ... on Workspace { id } }
  }
`);
const CreateConnection = graphql(`
  mutation ScCreateConnection($input: CreateConnectionInput!) {
    createConnection(input: $input) { __typename ... on Connection { id } ... on Error { message } }
  }
`);
const AddIntegration = graphql(`
  mutation ScAddIntegration($input: AddWorkspaceIntegrationInput!) {
    addWorkspaceIntegration(input: $input) { __typename ... on Error { message } }
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

const INTEGRATIONS = ['slack', 'github', 'notion', 'linear', 'hubspot'];
let statements: string[] = [];
let t: TestApp;
let orgId: string;
let token: string;

beforeAll(async () => {
  t = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { onQuery: (e) => statements.push(e.query) });
  token = await t.memberToken('n-plus-one@example.com');
  const org = await t.request(CreateOrganization, { input: { name: 'Big', slug: 'big' } }, token);
  orgId = (org.data!.createOrganization as { id: string }).id;
  const orgConnections: Record<string, string> = {};
  for (const integrationName of INTEGRATIONS) {
    const created = await t.request(
      CreateConnection,
      { input: { scope: 'ORGANIZATION', organizationId: orgId, type: 'SECRET_TEXT', integrationName, displayName: integrationName, credentials: { apiKey: 'k' } } },
      token,
    );
    orgConnections[integrationName] = (created.data!.createConnection as { id: string }).id;
  }
  for (let w = 0; w < 10; w++) {
    const ws = await t.request(CreateWorkspace, { input: { organizationId: orgId, name: `W${w}`, slug: `w${w}` } }, token);
    const workspaceId = (ws.data!.createWorkspace as { id: string }).id;
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
      const created = await t.request(
        CreateConnection,
        {
          input: {
            scope: 'USER', workspaceId, externalId: `user-${u}`, type: 'SECRET_TEXT', integrationName: 'slack',
            displayName: `user ${u} slack`, credentials: { apiKey: 'k' },
          },
        },
        token,
      );
      expect(created.data?.createConnection.__typename).toBe('Connection');
    }
  }
}, 240_000);
afterAll(() => t.stop());

test('organization → 10 workspaces → 5 integrations with their connection → 20 end users with their connections: at most 6 statements', async () => {
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
  const queryStatements = statements.filter((sql) => !/FROM "public"\."User"/.test(sql));
  // A counter that sees nothing would pass vacuously.
  expect(queryStatements.length).toBeGreaterThan(0);
  expect(queryStatements.length, queryStatements.join('\n')).toBeLessThanOrEqual(6);
});
