// Read only what is returned (issue #25, item 2): the sealed columns of
// connections, OAuth apps and connect sessions (secretCiphertext,
// wrappedDataKey) stay in the database when GraphQL reads those rows; only the
// credential path (resolveConnection's credentials, a refresh, hosted connect)
// reads them. The SQL each request sends is captured through Prisma's query events.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { seedApiKey, seedConnection, seedIntegration } from '../support/fixtures.js';
import { test as world } from '../support/world.js';

const Connections = graphql(`
  query ScReadConnections($ws: ID!, $org: ID!, $connection: ID!) {
    node(id: $connection) { ... on Connection { displayName status type scope } }
    workspace(id: $ws) {
      connections(first: 10) { edges { node { displayName integrationName status expiresAt } } }
      integrations(first: 10) { edges { node { alias connection { id displayName status tokenUrl } } } }
      endUsers(first: 10) { edges { node { externalId connections(first: 5) { edges { node { displayName createdAt } } } } } }
    }
    organization(id: $org) {
      connections(first: 10) { edges { node { displayName organization { slug } workspace { slug } } } }
      oauthApps { integrationName clientId scopes }
    }
  }
`);
const Rename = graphql(`
  mutation ScReadRename($input: RenameConnectionInput!) { renameConnection(input: $input) { __typename ... on Connection { displayName } } }
`);
const SetOAuthApp = graphql(`
  mutation ScReadSetOAuthApp($input: SetOAuthAppInput!) { setOAuthApp(input: $input) { __typename ... on OAuthApp { clientId } } }
`);
const CreateSession = graphql(`
  mutation ScReadCreateSession($input: CreateConnectSessionInput!) {
    createConnectSession(input: $input) { __typename ... on CreatedConnectSession { session { id status integrationName expiresAt } } }
  }
`);
const Resolve = graphql(`
  mutation ScReadResolve($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) { __typename ... on ConnectionResolution { credentials { apiKey } } }
  }
`);

const SEALED = /secretCiphertext|wrappedDataKey/;

const sealedTest = world
  /** The SQL the app runs while `statements` is a list. */
  .extend('recorder', { scope: 'file' }, () => ({ statements: null as string[] | null }))
  .extend('appOptions', { scope: 'file' }, ({ recorder }) => ({ onQuery: (e: { query: string }) => void recorder.statements?.push(e.query) }));

describeEachBackend(
  'sealed columns stay out of GraphQL reads',
  (_backend, test) => {
    /** The statements `request` ran (at least one: a recorder that sees nothing would pass anything). */
    const statementsOf = (recorder: { statements: string[] | null }) => async (request: () => Promise<{ errors?: unknown }>) => {
      recorder.statements = [];
      const result = await request();
      const statements = recorder.statements;
      recorder.statements = null;
      expect(result.errors).toBeUndefined();
      expect(statements.length).toBeGreaterThan(0);
      return statements;
    };

    test('connections read through node, lists, integrations, end users and a mutation’s answer; OAuth apps; connect sessions', async ({
      t, recorder, tenant, workspaceId, integration,
    }) => {
      const ran = statementsOf(recorder);
      await seedConnection(t, tenant.token, { scope: 'USER', workspaceId, externalId: 'sealed-sam', integrationName: 'slack' });
      await seedIntegration(t, tenant.token, { workspaceId, integrationName: 'stripe', alias: 'payments', connectionStrategy: 'PER_USER' });
      const key = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId });
      const oauthApp = { organizationId: tenant.organizationId, integrationName: 'gmail', clientId: 'sealed-gmail', clientSecret: 'sealed-client-secret' };
      expect((await t.request(SetOAuthApp, { input: oauthApp }, tenant.token)).data!.setOAuthApp.__typename).toBe('OAuthApp');

      const reads = {
        queries: await ran(() => t.request(Connections, { ws: workspaceId, org: tenant.organizationId, connection: integration.connectionId }, tenant.token)),
        rename: await ran(() => t.request(Rename, { input: { id: integration.connectionId, displayName: 'Renamed bot' } }, tenant.token)),
        session: await ran(() =>
          t.request(CreateSession, { input: { workspaceId, externalId: 'sealed-sam', integration: 'payments', redirectUrl: 'https://app.acme.test/done' } }, key),
        ),
      };
      for (const [read, statements] of Object.entries(reads)) {
        expect(statements.filter((sql) => SEALED.test(sql)), read).toEqual([]);
      }
      expect(reads.queries.some((sql) => /"Connection"/.test(sql)) && reads.queries.some((sql) => /"OAuthApp"/.test(sql))).toBe(true);
    });

    test('the credential path reads them (the check above can fail)', async ({ t, recorder, workspaceId, integration, readerKey }) => {
      const statements = await statementsOf(recorder)(() =>
        t.request(Resolve, { input: { workspaceId, integration: integration.alias } }, readerKey),
      );
      expect(statements.some((sql) => SEALED.test(sql))).toBe(true);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
  sealedTest,
);
