// DESIGN.md §2: no plaintext secret in the database, the logs, a published
// event or a GraphQL response, except an audited `credentials` read; and a
// ciphertext moved to another row does not decrypt.
import { afterAll, expect } from 'vitest';
import type { Connection } from '../../src/generated/prisma/client.js';
import { WITH_SEALED_COLUMNS } from '../../src/platform/crypto/credential-store.js';
import { decodeId } from '../../src/platform/ids.js';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import type { TestApp } from '../support/app.js';
import { collectEvents } from '../support/events.js';
import { seedConnection, seedIntegration } from '../support/fixtures.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';
import { test as world } from '../support/world.js';

const CANARY = 'canary-4b1d-secret';

const Resolve = graphql(`
  mutation ScResolve($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { source explanation connection { id displayName status statusReason expiresAt tokenUrl } }
      ...ErrorFields
      ... on ConnectionRequiredError { explanation }
    }
  }
`);
const ResolveCredentials = graphql(`
  mutation ScResolveCredentials($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { credentials { accessToken refreshToken clientId clientSecret apiKey username password fields } }
      ...ErrorFields
    }
  }
`);
const Everything = graphql(`
  query ScEverything($org: ID!) {
    organization(id: $org) {
      connections(first: 50) { edges { node { id displayName type scope status statusReason expiresAt tokenUrl } } }
      workspaces(first: 5) { edges { node { integrations(first: 20) { edges { node { alias connection { displayName } } } } } } }
    }
  }
`);

const variants = (secret: string) => [secret, Buffer.from(secret).toString('hex'), Buffer.from(secret).toString('base64')];

const secretsTest = world.extend('appOptions', { scope: 'file' }, ({ logs }) => ({ logStream: logs.stream }));

describeEachBackend(
  'secrets stay secret',
  (_backend, test) => {
    let server: TokenServer;
    const responses: unknown[] = [];
    let statusEvents: ReturnType<typeof collectEvents<'connection-status'>>;
    let configEvents: ReturnType<typeof collectEvents<'workspace-config'>>;

    test.beforeAll(async ({ t, tenant: { token: owner }, workspaceId }) => {
      server = await startTokenServer();
      statusEvents = collectEvents(t.app.services.pubsub, 'connection-status');
      configEvents = collectEvents(t.app.services.pubsub, 'workspace-config', Buffer.from(workspaceId, 'base64').toString().split(':')[1]!);

      const expired = new Date(Date.now() - 60_000).toISOString();
      const fixed = async (alias: string, input: Record<string, unknown>) => {
        const connectionId = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, displayName: alias, ...input });
        await seedIntegration(t, owner, { workspaceId, integrationName: input.integrationName, alias, connectionStrategy: 'FIXED', connectionId });
      };
      const oauth = (name: string) => ({
        type: 'OAUTH2', integrationName: 'gmail', tokenUrl: server.url,
        credentials: { accessToken: `${CANARY}-${name}-access`, refreshToken: `${CANARY}-${name}-refresh`, clientId: `${CANARY}-${name}-client`, clientSecret: `${CANARY}-${name}-client-secret`, expiresAt: expired },
      });
      await fixed('refreshed', oauth('refreshed'));
      await fixed('refused', oauth('refused'));
      await fixed('api-key-a', { type: 'SECRET_TEXT', integrationName: 'stripe', credentials: { apiKey: `${CANARY}-api-key-a` } });
      await fixed('api-key-b', { type: 'SECRET_TEXT', integrationName: 'stripe', credentials: { apiKey: `${CANARY}-api-key-b` } });
      await fixed('basic', { type: 'BASIC_AUTH', integrationName: 'jira', credentials: { username: `${CANARY}-user`, password: `${CANARY}-password` } });
      await fixed('custom', { type: 'CUSTOM_AUTH', integrationName: 'jira', credentials: { fields: { domain: 'acme.atlassian.net', apiToken: `${CANARY}-field` } } });
    }, 60_000);
    afterAll(async () => {
      statusEvents.stop();
      configEvents.stop();
      await server.close();
    });

    test('resolving, refreshing and failing leave no plaintext secret in responses, logs, events or the database', async ({
      t, tenant: { token: owner, organizationId: orgId }, workspaceId, readerKey: reader, logs,
    }) => {
      /** A request whose response must not carry the canary. */
      const request: TestApp['request'] = async (document, variables, token) => {
        const response = await t.request(document, variables, token);
        responses.push(response);
        return response;
      };
      server.reply = (form) =>
        form.get('refresh_token')?.includes('refused')
          ? // A provider that echoes the token in its error description.
            { status: 400, body: { error: 'invalid_grant', error_description: `refresh token ${form.get('refresh_token')} was revoked` } }
          : { body: { access_token: `${CANARY}-fresh-access`, refresh_token: `${CANARY}-rotated-refresh`, expires_in: 3600 } };
      const resolve = (integration: string, token = owner) => request(Resolve, { input: { workspaceId, integration } }, token);
      expect((await resolve('refreshed')).data?.resolveConnection).toMatchObject({ source: 'FIXED', connection: { status: 'ACTIVE' } });
      expect((await resolve('refused')).data?.resolveConnection).toMatchObject({ code: 'CONNECTION_REQUIRED' });
      for (const alias of ['api-key-a', 'basic', 'custom', 'refused']) await resolve(alias, reader);
      await request(Everything, { org: orgId }, owner);
      expect(server.calls).toHaveLength(2);
      // Other test files share the Redis: count this workspace's status changes (the refused refresh's).
      const workspaceRow = decodeId(workspaceId, 'Workspace');
      await expect.poll(() => statusEvents.events.filter((event) => event.workspaceId === workspaceRow).length).toBe(1);

      // The audited read is the one place the secret comes out.
      const read = await t.request(ResolveCredentials, { input: { workspaceId, integration: 'refreshed' } }, reader);
      expect(read.data?.resolveConnection).toMatchObject({
        credentials: { accessToken: `${CANARY}-fresh-access`, refreshToken: `${CANARY}-rotated-refresh`, clientSecret: `${CANARY}-refreshed-client-secret` },
      });

      const dump: string[] = [];
      const tables = await t.app.database.prisma.$queryRaw<{ name: string }[]>`
        SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
      for (const { name } of tables) {
        const rows = await t.app.database.prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT to_jsonb(t)::text AS row FROM "${name}" t`);
        dump.push(...rows.map((r) => r.row));
      }
      const places = {
        database: dump.join('\n'),
        logs: logs.text,
        events: JSON.stringify([statusEvents.events, configEvents.events]),
        responses: JSON.stringify(responses),
      };
      // None of the places is empty: the check would pass vacuously.
      expect(places.database).toContain('"secretCiphertext"');
      expect(places.logs).toContain('token refresh failed');
      expect(configEvents.events.length).toBeGreaterThan(0);
      for (const [place, text] of Object.entries(places)) {
        for (const form of variants(CANARY)) expect(text.includes(form), `${place} contains ${form}`).toBe(false);
      }
    });

    test('swapping two connections’ ciphertexts makes both fail to decrypt, and each failed read is audited', async ({ t, workspaceId, readerKey: reader }) => {
      const prisma = t.app.database.prisma;
      const [a, b] = await Promise.all(['api-key-a', 'api-key-b'].map((displayName) => prisma.connection.findFirstOrThrow({ where: { displayName }, omit: WITH_SEALED_COLUMNS })));
      const swap = (to: Connection, from: Connection) =>
        prisma.connection.update({ where: { id: to.id }, data: { secretCiphertext: from.secretCiphertext, wrappedDataKey: from.wrappedDataKey, keyVersion: from.keyVersion } });
      await swap(a!, b!);
      await swap(b!, a!);
      for (const alias of ['api-key-a', 'api-key-b']) {
        const result = await t.request(ResolveCredentials, { input: { workspaceId, integration: alias } }, reader);
        expect(result.data?.resolveConnection).toMatchObject({ __typename: 'ConnectionResolution', credentials: null });
        expect(result.errors?.[0]?.path).toEqual(['resolveConnection', 'credentials']);
        for (const form of variants(CANARY)) expect(JSON.stringify(result)).not.toContain(form);
      }
      const failures = await prisma.auditEvent.findMany({ where: { action: 'connection.credentials.read', outcome: 'FAILURE' } });
      expect(failures.map((e) => e.targetId).sort()).toEqual([a!.id, b!.id].sort());
    });
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'pglite' || backend.pubsub === 'redis'),
  secretsTest,
);
