// The response cache (issue #25 item 3): a read query's answer is kept per
// principal and rights, a committed write purges its tenant's answers before
// the writer is answered (here) and through the pub/sub (other instances), and
// secrets, connect, executions, usage and audit are never served from it.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { describeEachBackend, ALL_BACKENDS } from '../support/backends.js';
import { seedApiKey, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { test as world } from '../support/world.js';
import { startTestApp } from '../support/app.js';

const ReadWorkspace = graphql(`
  query RcWorkspace($id: ID!) {
    workspace(id: $id) { id name configVersion }
  }
`);
/** The ledger's read: its directories are read by nothing else, so their statements count the reads computed. */
const LedgerRead = graphql(`
  query RcLedger($id: ID!) {
    workspace(id: $id) { configVersion directories(first: 1) { totalCount } }
  }
`);
const RenameWorkspace = graphql(`
  mutation RcRename($input: UpdateWorkspaceInput!) {
    updateWorkspace(input: $input) { __typename ... on Workspace { name configVersion } ...ErrorFields }
  }
`);
const Workspaces = graphql(`
  query RcWorkspaces($id: ID!) {
    organization(id: $id) { workspaces(first: 10) { edges { node { slug } } } }
  }
`);
const AllowRedirects = graphql(`
  mutation RcAllowRedirects($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { __typename ...ErrorFields } }
`);
const CreateConnectSession = graphql(`
  mutation RcCreateConnectSession($input: CreateConnectSessionInput!) {
    createConnectSession(input: $input) { __typename ... on CreatedConnectSession { session { id } } ...ErrorFields }
  }
`);
const RevokeKey = graphql(`
  mutation RcRevoke($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ...ErrorFields } }
`);
const CreateKey = graphql(`
  mutation RcCreateKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { __typename ... on CreatedApiKey { plainKey apiKey { id } } ...ErrorFields }
  }
`);

/** Reads that must be computed every time, with a table each one reads. */
const NEVER_CACHED = {
  viewer: { document: graphql(`query RcViewer { viewer { organizations(first: 5) { edges { node { id } } } } }`), table: 'Organization' },
  usage: { document: graphql(`query RcUsage($id: ID!) { organization(id: $id) { usage(month: "2026-12") { resolutions } } }`), table: 'UsageCounter' },
  auditEvents: { document: graphql(`query RcAudit($id: ID!) { organization(id: $id) { auditEvents(first: 5) { edges { node { action } } } } }`), table: 'AuditEvent' },
  actionExecutions: {
    document: graphql(`query RcExecutions($id: ID!) { workspace(id: $id) { actionExecutions(first: 5) { edges { node { status } } } } }`),
    table: 'ActionExecution',
  },
  connectSession: {
    document: graphql(`query RcConnectSession($id: ID!) { node(id: $id) { ... on ConnectSession { status expiresAt } } }`),
    table: 'ConnectSession',
  },
  explainResolution: {
    document: graphql(`query RcExplain($input: ResolveConnectionInput!) { explainResolution(input: $input) { __typename } }`),
    table: 'WorkspaceIntegration',
  },
} as const;

let statements: string[] = [];
const test = world.extend('appOptions', { scope: 'file' }, { onQuery: (e: { query: string }) => void statements.push(e.query) });

/** The statements `run` made that read `table` (not the outbox relay's or the key usage's). */
async function statementsOn(table: string, run: () => Promise<unknown>): Promise<number> {
  statements = [];
  await run();
  return statements.filter((sql) => sql.includes(`"${table}"`)).length;
}

describeEachBackend(
  'response cache',
  (backend, test) => {
    test('a repeated read is answered without SQL, and the writer reads its own write at once', async ({ t, tenant, workspaceId, apiKey }) => {
      await t.request(ReadWorkspace, { id: workspaceId }, apiKey);
      const repeated = await statementsOn('Workspace', async () => {
        expect((await t.request(ReadWorkspace, { id: workspaceId }, apiKey)).data?.workspace?.name).toBe('Workspace main');
      });
      expect(repeated).toBe(0);

      const renamed = await t.request(RenameWorkspace, { input: { id: workspaceId, name: 'Renamed' } }, tenant.token);
      expect(renamed.data?.updateWorkspace).toMatchObject({ __typename: 'Workspace', name: 'Renamed' });
      // Another principal of the tenant (the key) sees the member's write too.
      const after = await t.request(ReadWorkspace, { id: workspaceId }, apiKey);
      expect(after.data?.workspace).toMatchObject({ name: 'Renamed', configVersion: renamed.data!.updateWorkspace.__typename === 'Workspace' ? renamed.data!.updateWorkspace.configVersion : -1 });
    });

    test('principals with other rights never share an answer', async ({ t, tenant, workspaceId, apiKey }) => {
      await seedWorkspace(t, tenant.token, tenant.organizationId, 'other');
      const scoped = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId, workspaceIds: [workspaceId] });
      const slugs = async (token: string) =>
        (await t.request(Workspaces, { id: tenant.organizationId }, token)).data?.organization?.workspaces.edges.map((e) => e.node.slug).sort();
      expect(await slugs(apiKey)).toEqual(['main', 'other']);
      expect(await slugs(scoped)).toEqual(['main']);
      expect(await slugs(apiKey)).toEqual(['main', 'other']);
    });

    test('a revoked key reads nothing, cached or not', async ({ t, tenant, workspaceId }) => {
      const created = (await t.request(CreateKey, { input: { organizationId: tenant.organizationId, name: 'soon revoked' } }, tenant.token)).data?.createApiKey;
      if (created?.__typename !== 'CreatedApiKey') throw new Error(JSON.stringify(created));
      const key = created.plainKey;
      expect((await t.request(ReadWorkspace, { id: workspaceId }, key)).data?.workspace?.id).toBe(workspaceId);
      await t.request(ReadWorkspace, { id: workspaceId }, key); // now answered from the cache
      expect((await t.request(RevokeKey, { input: { id: created.apiKey.id } }, tenant.token)).data?.revokeApiKey.__typename).toBe('ApiKey');
      const refused = await t.request(ReadWorkspace, { id: workspaceId }, key);
      expect(refused.data).toBeFalsy();
      expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    test('secrets, connect, executions, usage, audit and the viewer are computed every time', async ({ t, tenant, workspaceId, integration }) => {
      const origin = 'https://app.example.com';
      await t.request(AllowRedirects, { input: { id: workspaceId, allowedRedirectOrigins: [origin] } }, tenant.token);
      await seedIntegration(t, tenant.token, { workspaceId, integrationName: 'stripe', alias: 'payments', connectionStrategy: 'PER_USER' });
      const connect = (
        await t.request(CreateConnectSession, { input: { workspaceId, externalId: 'cached', integration: 'payments', redirectUrl: `${origin}/back` } }, tenant.token)
      ).data?.createConnectSession;
      if (connect?.__typename !== 'CreatedConnectSession') throw new Error(JSON.stringify(connect));
      const variables = {
        viewer: {},
        connectSession: { id: connect.session.id },
        usage: { id: tenant.organizationId },
        auditEvents: { id: tenant.organizationId },
        actionExecutions: { id: workspaceId },
        explainResolution: { input: { workspaceId, integration: integration.alias } },
      };
      for (const [name, { document, table }] of Object.entries(NEVER_CACHED)) {
        const run = () => t.request(document as never, variables[name as keyof typeof variables] as never, tenant.token);
        const first = await run();
        expect(first.errors, name).toBeUndefined();
        expect(first.data, name).toBeTruthy();
        expect(await statementsOn(table, run), name).toBeGreaterThan(0);
      }
    });

    if (backend.pubsub === 'redis') {
      test('a write on one instance is read on the other within a second', async ({ t, peer, workspaceId, apiKey, tenant }) => {
        await peer.request(ReadWorkspace, { id: workspaceId }, apiKey);
        await t.request(RenameWorkspace, { input: { id: workspaceId, name: 'Across' } }, tenant.token);
        const written = Date.now();
        await expect
          .poll(async () => (await peer.request(ReadWorkspace, { id: workspaceId }, apiKey)).data?.workspace?.name, { timeout: 1000, interval: 20 })
          .toBe('Across');
        expect(Date.now() - written).toBeLessThan(1000);
      });
    }

    test('ledger: no read breaks the guarantee over 1,000 interleaved writes and reads', async ({ t, peer, tenant, apiKey }) => {
      const workspaceId = await seedWorkspace(t, tenant.token, tenant.organizationId, 'ledger');
      const instances = [t, peer];
      const writes: { version: number; answeredAt: number; instance: number }[] = [];
      const reads: { version: number; startedAt: number; instance: number }[] = [];
      const WRITES = 200;
      let writing = true;

      async function reader(instance: number) {
        while (writing) {
          const startedAt = performance.now();
          const result = await instances[instance]!.request(LedgerRead, { id: workspaceId }, apiKey);
          reads.push({ version: result.data!.workspace!.configVersion, startedAt, instance });
        }
      }
      // Every write on the first instance: the second one hears of it only through the pub/sub.
      async function writer() {
        for (let i = 0; i < WRITES; i++) {
          const result = await t.request(RenameWorkspace, { input: { id: workspaceId, name: `v${i}` } }, tenant.token);
          const written = result.data!.updateWorkspace;
          if (written.__typename !== 'Workspace') throw new Error(JSON.stringify(result));
          writes.push({ version: written.configVersion, answeredAt: performance.now(), instance: 0 });
          // A read of its own write, on the instance that answered it.
          const own = await t.request(LedgerRead, { id: workspaceId }, apiKey);
          reads.push({ version: own.data!.workspace!.configVersion, startedAt: writes.at(-1)!.answeredAt, instance: 0 });
        }
        writing = false;
      }
      statements = [];
      await Promise.all([writer(), reader(0), reader(1)]);

      // The version a read must show at least: every write answered before it
      // started, at once on the same instance, after 1 s on another.
      const owed = (read: (typeof reads)[number]) =>
        Math.max(0, ...writes.filter((w) => w.answeredAt + (w.instance === read.instance || t === peer ? 0 : 1000) <= read.startedAt).map((w) => w.version));
      const broken = reads.filter((read) => read.version < owed(read));
      const computed = statements.filter((sql) => sql.includes('"Directory"')).length;
      expect(reads.length + writes.length).toBeGreaterThanOrEqual(1000);
      expect(computed, 'reads computed rather than answered from the cache').toBeLessThan(reads.length);
      expect(broken).toEqual([]);
    }, 120_000);
  },
  ALL_BACKENDS,
  test,
);

describeEachBackend(
  'response cache off',
  (backend) => {
    world('HEDDLE_RESPONSE_CACHE=off computes every read', async () => {
      let count = 0;
      const t = await startTestApp(backend, {
        env: { HEDDLE_RESPONSE_CACHE: 'off' },
        onQuery: (e: { query: string }) => void (e.query.includes('"Workspace"') && count++),
      });
      try {
        const token = await t.memberToken('off@cache.test');
        const organizationId = await seedOrganization(t, token, 'off');
        const workspaceId = await seedWorkspace(t, token, organizationId, 'off');
        await t.request(ReadWorkspace, { id: workspaceId }, token);
        const before = count;
        await t.request(ReadWorkspace, { id: workspaceId }, token);
        expect(count).toBeGreaterThan(before);
      } finally {
        await t.stop();
      }
    });
  },
  ALL_BACKENDS.slice(0, 1),
);
