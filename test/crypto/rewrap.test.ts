// Key rotation: every connection's data key is re-wrapped under the newest
// master key, in batches, while the service keeps resolving with the old and
// new keys in its ring; afterwards the new key alone opens every secret.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createCredentialStore, openConnectionSecret, parseKeyRing, WITH_SEALED_COLUMNS } from '../../src/platform/crypto/credential-store.js';
import { rewrapDataKeys } from '../../src/platform/crypto/rewrap.js';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { createPostgresDatabase, startTestApp, type TestApp } from '../support/app.js';
import { seedApiKey, seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { runCli } from '../support/process.js';

const ResolveSecret = graphql(`
  mutation RwResolve($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { credentials { apiKey } }
      ...ErrorFields
    }
  }
`);

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const CONNECTIONS = 12;

/** An organization with CONNECTIONS FIXED integrations (aliases key-0…), each with its own secret. */
async function seed(t: TestApp): Promise<{ workspaceId: string; reader: string }> {
  const owner = await t.memberToken('rotation@example.com');
  const orgId = await seedOrganization(t, owner, 'rotation');
  const workspaceId = await seedWorkspace(t, owner, orgId, 'main');
  for (let i = 0; i < CONNECTIONS; i++) {
    const connectionId = await seedConnection(t, owner, {
      scope: 'WORKSPACE', workspaceId, integrationName: 'stripe', displayName: `key ${i}`, credentials: { apiKey: `secret-${i}` },
    });
    await seedIntegration(t, owner, { workspaceId, integrationName: 'stripe', alias: `key-${i}`, connectionStrategy: 'FIXED', connectionId });
  }
  return { workspaceId, reader: await seedApiKey(t, owner, { organizationId: orgId, permissions: ['CREDENTIALS_READ'] }) };
}

async function expectEveryRowOpensWith(t: TestApp, ring: string, version: number) {
  const store = createCredentialStore(parseKeyRing(ring));
  const rows = await t.app.database.prisma.connection.findMany({ orderBy: { displayName: 'asc' }, omit: WITH_SEALED_COLUMNS });
  expect(rows).toHaveLength(CONNECTIONS);
  for (const row of rows) {
    expect(row.keyVersion).toBe(version);
    expect(openConnectionSecret(store, row).apiKey).toBe(`secret-${row.displayName.split(' ')[1]}`);
  }
}

describeEachBackend(
  'rewrapDataKeys',
  (backend) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(backend, { env: { HEDDLE_ENCRYPTION_KEYS: `1:${K1}` } });
      await seed(t);
    }, 60_000);
    afterAll(() => t.stop());

    test('sealed under ring {1}, rewrapped with ring {1,2} in batches: every row is on version 2, and ring {2} alone opens it', async () => {
      const store = createCredentialStore(parseKeyRing(`1:${K1},2:${K2}`));
      const batches: number[] = [];
      const report = await rewrapDataKeys(t.app.database.prisma, store, { batchSize: 5, onBatch: (p) => batches.push(p.rewrapped) });
      expect(report).toEqual({ keyVersion: 2, rewrapped: CONNECTIONS, failed: [], remaining: 0 });
      expect(batches).toEqual([5, 10, 12]);
      await expectEveryRowOpensWith(t, `2:${K2}`, 2);
      // A second run finds nothing to do.
      expect(await rewrapDataKeys(t.app.database.prisma, store)).toMatchObject({ rewrapped: 0, remaining: 0 });
    });

    test('rows whose master key left the ring are reported, not lost', async () => {
      const report = await rewrapDataKeys(t.app.database.prisma, createCredentialStore(parseKeyRing(`3:${randomBytes(32).toString('base64')}`)));
      expect(report.rewrapped).toBe(0);
      expect(report.failed).toHaveLength(CONNECTIONS);
      expect(report.failed[0]!.reason).toMatch(/version 2 is not in the key ring/);
      await expectEveryRowOpensWith(t, `2:${K2}`, 2);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
);

// Several instances on one PostgreSQL database: the realistic rotation.
describeEachBackend(
  'npm run heddle -- rewrap-keys while the service resolves',
  (backend) => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    const apps: TestApp[] = [];
    beforeAll(async () => {
      database = await createPostgresDatabase();
    });
    afterAll(async () => {
      for (const app of apps) await app.stop();
      await database.drop();
    });
    const start = async (keys: string) => {
      const app = await startTestApp(backend, { databaseUrl: database.url, env: { HEDDLE_ENCRYPTION_KEYS: keys } });
      apps.push(app);
      return app;
    };

    test('zero failed resolutions during the rotation; afterwards the new key alone serves', async () => {
      // Before the rotation every secret is on key 1.
      const before = await start(`1:${K1}`);
      const { workspaceId, reader } = await seed(before);
      // Step 1 of a rotation: the instances restart with both keys (key 2 newest).
      const during = await start(`1:${K1},2:${K2}`);
      const resolveAll = (t: TestApp) =>
        Promise.all(
          Array.from({ length: CONNECTIONS }, (_, i) =>
            t.request(ResolveSecret, { input: { workspaceId, integration: `key-${i}` } }, reader).then((r) => ({ i, r })),
          ),
        );
      let running = true;
      let resolutions = 0;
      const failures: unknown[] = [];
      const load = (async () => {
        while (running) {
          for (const { i, r } of await resolveAll(during)) {
            resolutions++;
            const resolution = r.data?.resolveConnection;
            if (r.errors || resolution?.__typename !== 'ConnectionResolution' || resolution.credentials?.apiKey !== `secret-${i}`) {
              failures.push(r);
            }
          }
        }
      })();
      // Step 2: the command, a separate process, while resolutions run.
      const cli = await runCli(['rewrap-keys', '--batch-size', '4'], { DATABASE_URL: database.url, HEDDLE_ENCRYPTION_KEYS: `1:${K1},2:${K2}` });
      running = false;
      await load;
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      // Not a terminal: plain progress lines, the last one counting every key.
      expect(cli.stdout).toMatch(new RegExp(`^${CONNECTIONS}/${CONNECTIONS} data keys, ${CONNECTIONS} ok, 0 failed$`, 'm'));
      expect(cli.stdout).toContain(`rewrapped ${CONNECTIONS} data keys (connections, OAuth apps, connect sessions) to master key version 2; 0 failed; 0 remaining`);
      expect(failures).toEqual([]);
      expect(resolutions).toBeGreaterThan(CONNECTIONS);
      await expectEveryRowOpensWith(during, `2:${K2}`, 2);

      // Step 3: key 1 leaves the ring.
      const after = await start(`2:${K2}`);
      for (const { i, r } of await resolveAll(after)) expect(r.data?.resolveConnection).toEqual({ __typename: 'ConnectionResolution', credentials: { apiKey: `secret-${i}` } });
    }, 60_000);
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'postgres' && backend.pubsub === 'memory'),
);
