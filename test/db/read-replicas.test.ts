// DATABASE_REPLICA_URLS against a real streaming replica (test/support/replication.ts).
// Replay is paused on the replica, so a write on the primary is observably not
// there: whatever sees it read the primary, whatever misses it read the replica.
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { startTestApp, subscribeWs } from '../support/app.js';
import type { Backend } from '../support/backends.js';
import { seedApiKey, seedWorkspace } from '../support/fixtures.js';
import { postgresBinaries, startReplication, type Replication } from '../support/replication.js';
import { REQUIRE_SERVICES } from '../support/services.js';
import { describeWorld, test as world } from '../support/world.js';
import { decodeGlobalId } from '../../src/platform/ids.js';
import { readFromReplicas } from '../../src/platform/db/replicas.js';

const rowId = (globalId: string) => decodeGlobalId(globalId)!.id;

const OrganizationName = graphql(`
  query RrOrganizationName($id: ID!) { organization(id: $id) { name } }
`);
const RenameOrganization = graphql(`
  mutation RrRenameOrganization($input: UpdateOrganizationInput!) {
    updateOrganization(input: $input) { __typename ... on Organization { name } ...ErrorFields }
  }
`);
const WorkspaceName = graphql(`
  query RrWorkspaceName($id: ID!) { workspace(id: $id) { name } }
`);
const RevokeApiKey = graphql(`
  mutation RrRevokeApiKey($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ...ErrorFields } }
`);
const KeyIds = graphql(`
  query RrKeyIds($id: ID!) { organization(id: $id) { apiKeys(first: 50) { edges { node { id prefix revokedAt } } } } }
`);
const Viewer = graphql(`
  query RrViewer { viewer { kind } }
`);
const WorkspaceChanged = graphql(`
  subscription RrWorkspaceChanged($ws: ID!, $since: Int) { workspaceConfigChanged(workspaceId: $ws, sinceVersion: $since) { version workspace { name } } }
`);
const RenameWorkspace = graphql(`
  mutation RrRenameWorkspace($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { __typename ... on Workspace { configVersion } ...ErrorFields } }
`);

const bin = postgresBinaries();

const test = world
  .extend('slug', { scope: 'file' }, 'replicas')
  .extend('replication', { scope: 'file' }, async ({ teardown }): Promise<Replication> => {
    const replication = await startReplication(bin!);
    teardown.add(() => replication.stop());
    return replication;
  })
  .extend('backend', { scope: 'file' }, { name: 'postgres with a read replica', database: 'postgres', pubsub: 'memory' } as Backend)
  .extend('appOptions', { scope: 'file' }, ({ replication }) => ({
    databaseUrl: replication.primaryUrl,
    env: {
      DATABASE_REPLICA_URLS: replication.replicaUrl,
      // Every request reads the database: what these tests observe is where it reads.
      HEDDLE_RESPONSE_CACHE: 'off',
      HEDDLE_AUTH_CACHE_TTL_MS: '0',
    },
  }));

const suite = bin ? describe : REQUIRE_SERVICES ? describe : describe.skip;
if (!bin && REQUIRE_SERVICES) throw new Error('read replica tests need the PostgreSQL server binaries (initdb, pg_basebackup); set PG_BINDIR');

describeWorld(
  bin ? 'read replicas' : 'read replicas (skipped: no PostgreSQL server binaries)',
  (test) => {
    test.afterEach(async ({ replication }) => {
      // A failed test must not leave the next one with a frozen replica.
      await replication.resumeReplay();
    });

    test('a query reads from the replica: a write it has not replayed is not seen, and is once replay resumes', async ({ t, tenant, replication }) => {
      await replication.caughtUp();
      await replication.pauseReplay();
      const renamed = await t.request(RenameOrganization, { input: { id: tenant.organizationId, name: 'Renamed while paused' } }, tenant.token);
      // The mutation's own read of what it wrote: the primary.
      expect(renamed.data?.updateOrganization).toEqual({ __typename: 'Organization', name: 'Renamed while paused' });

      const stale = await t.request(OrganizationName, { id: tenant.organizationId }, tenant.token);
      expect(stale.errors).toBeUndefined();
      expect(stale.data?.organization?.name).toBe('Org replicas');

      await replication.resumeReplay();
      await replication.caughtUp();
      const fresh = await t.request(OrganizationName, { id: tenant.organizationId }, tenant.token);
      expect(fresh.data?.organization?.name).toBe('Renamed while paused');
    });

    test('the response cache stores no answer read from a replica within DATABASE_REPLICA_MAX_LAG_MS of a write in its organization', async ({ tenant, replication }) => {
      // With 0 (no window), the stale answer below is kept and served after the replica caught up.
      const env = {
        DATABASE_REPLICA_URLS: replication.replicaUrl,
        HEDDLE_RESPONSE_CACHE: 'on',
        HEDDLE_RESPONSE_CACHE_TTL_MS: '60000',
        DATABASE_REPLICA_MAX_LAG_MS: '30000',
        HEDDLE_AUTH_CACHE_TTL_MS: '0',
      };
      const cached = await startTestApp({ database: 'postgres', pubsub: 'memory' }, { databaseUrl: replication.primaryUrl, env });
      try {
        const name = async () => (await cached.request(OrganizationName, { id: tenant.organizationId }, tenant.token)).data?.organization?.name;
        await replication.caughtUp();
        const before = await name();
        await replication.pauseReplay();
        const renamed = await cached.request(RenameOrganization, { input: { id: tenant.organizationId, name: 'Renamed behind the cache' } }, tenant.token);
        expect(renamed.data?.updateOrganization).toMatchObject({ name: 'Renamed behind the cache' });
        // The replica has not applied the write: its answer is stale, and must not be kept.
        expect(await name()).toBe(before);
        await replication.resumeReplay();
        await replication.caughtUp();
        expect(await name()).toBe('Renamed behind the cache');
      } finally {
        await cached.stop();
      }
    });

    test('mutations read the primary: one acting on a row another just created finds it, which queries do not yet', async ({ t, tenant, replication }) => {
      await replication.caughtUp();
      await replication.pauseReplay();
      const workspaceId = await seedWorkspace(t, tenant.token, tenant.organizationId, 'made-while-paused');
      // updateWorkspace looks the workspace up before it writes.
      const renamed = await t.request(RenameWorkspace, { input: { id: workspaceId, name: 'Found' } }, tenant.token);
      expect(renamed.data?.updateWorkspace.__typename).toBe('Workspace');
      expect((await t.request(WorkspaceName, { id: workspaceId }, tenant.token)).data?.workspace).toBeNull();
      await replication.resumeReplay();
      await replication.caughtUp();
      expect((await t.request(WorkspaceName, { id: workspaceId }, tenant.token)).data?.workspace).toEqual({ name: 'Found' });
    });

    test('a request that has written reads the primary from then on; other work reads the primary', async ({ t, tenant, replication }) => {
      const prisma = t.app.database.prisma;
      const id = rowId(tenant.organizationId);
      const name = async () => (await prisma.organization.findUniqueOrThrow({ where: { id }, select: { name: true } })).name;
      await prisma.organization.update({ where: { id }, data: { name: 'Before' } });
      await replication.caughtUp();
      await replication.pauseReplay();
      await prisma.organization.update({ where: { id }, data: { name: 'After' } });

      // Outside a query's execution (mutations, subscriptions, background work): the primary.
      expect(await name()).toBe('After');
      await readFromReplicas(async () => {
        expect(await name()).toBe('Before'); // the replica
        await prisma.organization.update({ where: { id }, data: { name: 'Own write' } });
        expect(await name()).toBe('Own write'); // its own write: the primary
      });
      // The next request starts on the replica again.
      expect(await readFromReplicas(name)).toBe('Before');
      // Inside a transaction: the primary.
      expect(await readFromReplicas(() => prisma.$transaction((tx) => tx.organization.findUniqueOrThrow({ where: { id } })))).toMatchObject({ name: 'Own write' });
    });

    test('a revoked API key fails at once although the replica has not seen the revocation', async ({ t, tenant, replication }) => {
      const plainKey = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId });
      expect((await t.request(Viewer, {}, plainKey)).data?.viewer.kind).toBe('API_KEY');
      const keys = await t.request(KeyIds, { id: tenant.organizationId }, tenant.token);
      const key = keys.data!.organization!.apiKeys.edges.map((e) => e.node).find((k) => plainKey.startsWith(k.prefix))!;
      await replication.caughtUp();
      await replication.pauseReplay();

      expect((await t.request(RevokeApiKey, { input: { id: key.id } }, tenant.token)).data?.revokeApiKey.__typename).toBe('ApiKey');
      const [onReplica] = await replication.sql<{ revokedAt: Date | null }>('replica', `SELECT "revokedAt" FROM "ApiKey" WHERE id = '${rowId(key.id)}'`);
      expect(onReplica!.revokedAt).toBeNull(); // the replica would still accept it
      const refused = await t.request(Viewer, {}, plainKey);
      expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    test('a subscription replays and delivers events with their rows read from the primary', async ({ t, tenant, workspaceId, replication }) => {
      const probe = await t.request(RenameWorkspace, { input: { id: workspaceId, name: 'Probe' } }, tenant.token);
      const since = probe.data?.updateWorkspace.__typename === 'Workspace' ? probe.data.updateWorkspace.configVersion : -1;
      await replication.caughtUp();
      await replication.pauseReplay();
      await t.request(RenameWorkspace, { input: { id: workspaceId, name: 'Replayed' } }, tenant.token);
      // Replayed from the outbox (the event after `since`), then live: no gap either way.
      const events = subscribeWs(t.wsClient(tenant.token), WorkspaceChanged, { ws: workspaceId, since });
      try {
        expect((await events.next()).data?.workspaceConfigChanged).toEqual({ version: since + 1, workspace: { name: 'Replayed' } });
        await t.request(RenameWorkspace, { input: { id: workspaceId, name: 'Live' } }, tenant.token);
        expect((await events.next()).data?.workspaceConfigChanged).toEqual({ version: since + 2, workspace: { name: 'Live' } });
      } finally {
        events.stop();
      }
    });
  },
  test,
  suite,
);
