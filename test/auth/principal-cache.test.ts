// Cached principals (issue #25, item 1): a credential seen recently costs no
// statement, and what makes it stale reaches every instance's cache. On Redis
// the change goes through one instance (`t`) and the credential is used on
// another (`peer`); in-process, both are the same instance.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test as vitest } from 'vitest';
import { PrincipalCache } from '../../src/auth/principal-cache.js';
import type { Principal } from '../../src/auth/principal.js';
import { createLogger } from '../../src/platform/logger.js';
import { openPubSub } from '../../src/platform/pubsub.js';
import { graphql } from '../generated/index.js';
import { createPostgresDatabase, startTestApp, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend, unavailable, type Backend } from '../support/backends.js';
import { seedApiKey, seedEndUser, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { freePort, killRedis, startRedis } from '../support/redis.js';
import { test as world } from '../support/world.js';

const Viewer = graphql(`query PcViewer { viewer { kind } }`);
const Keys = graphql(`query PcKeys($org: ID!) { organization(id: $org) { apiKeys(first: 50) { edges { node { prefix lastUsedAt } } } } }`);
const CreateKey = graphql(`
  mutation PcCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreatedApiKey { plainKey apiKey { id } } } }
`);
const RevokeKey = graphql(`mutation PcRevokeKey($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename } }`);
const Invite = graphql(`mutation PcInvite($input: InviteMemberInput!) { inviteMember(input: $input) { ... on Invite { id } } }`);
const Accept = graphql(`mutation PcAccept($input: AcceptInviteInput!) { acceptInvite(input: $input) { ... on Member { id } } }`);
const UpdateRole = graphql(`
  mutation PcUpdateRole($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { __typename ... on Member { role } } }
`);
/** Invites are for ADMINs: a MEMBER reading them is FORBIDDEN. */
const Invites = graphql(`query PcInvites($org: ID!) { organization(id: $org) { invites(first: 5) { totalCount } } }`);
const IssueToken = graphql(`
  mutation PcIssueToken($input: IssueEndUserTokenInput!) { issueEndUserToken(input: $input) { ... on EndUserToken { token } } }
`);
const SetDirectory = graphql(`
  mutation PcSetDirectory($input: SetEndUserDirectoryInput!) { setEndUserDirectory(input: $input) { __typename } }
`);
const Node = graphql(`query PcNode($id: ID!) { node(id: $id) { id } }`);

/** The statements that authenticate a request: an API key's, a member session's or an end-user token's read. */
const AUTHENTICATION = /FROM "ApiKey" k|FROM "User" u|FROM "EndUser" u/;

/** The SQL each instance ran (the same list when `peer` is `t`). */
interface Ran {
  t: string[];
  peer: string[];
}

const cacheTest = world
  .extend('ran', { scope: 'file' }, (): Ran => ({ t: [], peer: [] }))
  .extend('appOptions', { scope: 'file' }, ({ ran }) => ({ onQuery: (e: { query: string }) => void ran.t.push(e.query) }))
  // The world's peer, with its own statement log.
  .extend('peer', { scope: 'file' }, async ({ backend, database, teardown, t, ran }) => {
    if (backend.pubsub !== 'redis') {
      ran.peer = ran.t;
      return t;
    }
    const peer = await startTestApp(backend, { databaseUrl: database?.url, onQuery: (e) => void ran.peer.push(e.query) });
    teardown.add(() => peer.stop());
    return peer;
  });

/** How many authenticating statements `request` ran on the instance whose log is `log`. */
async function authenticationsOf(log: string[], request: () => Promise<unknown>): Promise<number> {
  log.length = 0;
  await request();
  return log.filter((sql) => AUTHENTICATION.test(sql)).length;
}

const codeOf = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

describeEachBackend(
  'cached principals',
  (backend, test) => {
    test('a credential seen recently runs no authentication statement: API keys, member sessions, end-user tokens', async ({ t, ran, tenant, workspaceId }) => {
      const key = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId });
      const issued = await t.request(IssueToken, { input: { workspaceId, externalId: 'cached-eve', expiresIn: 600 } }, key);
      const credentials = {
        apiKey: await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId }),
        member: await t.memberToken(`cached-${backend.database}-${backend.pubsub}@example.com`),
        endUser: (issued.data!.issueEndUserToken as { token: string }).token,
      };
      for (const [kind, token] of Object.entries(credentials)) {
        const first = await authenticationsOf(ran.t, () => t.request(Viewer, undefined, token));
        const second = await authenticationsOf(ran.t, async () => expect((await t.request(Viewer, undefined, token)).errors).toBeUndefined());
        expect({ kind, first: first > 0, second }).toEqual({ kind, first: true, second: 0 });
      }
    });

    test("an API key's use is recorded on a cached request too", async ({ t, tenant }) => {
      const created = await t.request(CreateKey, { input: { organizationId: tenant.organizationId, name: 'touched' } }, tenant.token);
      const { plainKey } = created.data!.createApiKey as { plainKey: string };
      const lastUsedAt = async () => {
        await t.app.services.apiKeyUsage.flush();
        const keys = (await t.request(Keys, { org: tenant.organizationId }, tenant.token)).data!.organization!.apiKeys.edges;
        return keys.find((e) => plainKey.startsWith(e.node.prefix))!.node.lastUsedAt as string;
      };
      await t.request(Viewer, undefined, plainKey); // read from the database, then cached
      const first = await lastUsedAt();
      await t.request(Viewer, undefined, plainKey); // from the cache
      expect(Date.parse(await lastUsedAt())).toBeGreaterThan(Date.parse(first));
    });

    test('a key revoked on one instance fails on the other within 1 s', async ({ t, peer, ran, tenant }) => {
      const created = await t.request(CreateKey, { input: { organizationId: tenant.organizationId, name: 'revoked' } }, tenant.token);
      const { plainKey, apiKey } = created.data!.createApiKey as { plainKey: string; apiKey: { id: string } };
      await peer.request(Viewer, undefined, plainKey);
      expect(await authenticationsOf(ran.peer, () => peer.request(Viewer, undefined, plainKey)), 'cached on the peer').toBe(0);

      expect((await t.request(RevokeKey, { input: { id: apiKey.id } }, tenant.token)).data!.revokeApiKey.__typename).toBe('ApiKey');
      await expect.poll(async () => codeOf(await peer.request(Viewer, undefined, plainKey)), { timeout: 1000, interval: 20 }).toBe('UNAUTHENTICATED');
      // On the instance that revoked it, at once.
      expect(codeOf(await t.request(Viewer, undefined, plainKey))).toBe('UNAUTHENTICATED');
    });

    test("a member's role downgrade removes field access on the other instance at once", async ({ t, peer, ran, tenant }) => {
      const email = `downgraded-${backend.database}-${backend.pubsub}@example.com`;
      const admin = await t.memberToken(email);
      const invite = await t.request(Invite, { input: { organizationId: tenant.organizationId, email, role: 'ADMIN' } }, tenant.token);
      const member = await t.request(Accept, { input: { id: (invite.data!.inviteMember as { id: string }).id } }, admin);
      const memberId = (member.data!.acceptInvite as { id: string }).id;

      expect((await peer.request(Invites, { org: tenant.organizationId }, admin)).errors).toBeUndefined();
      expect(await authenticationsOf(ran.peer, () => peer.request(Invites, { org: tenant.organizationId }, admin)), 'cached on the peer').toBe(0);

      const downgraded = await t.request(UpdateRole, { input: { id: memberId, role: 'MEMBER' } }, tenant.token);
      expect(downgraded.data!.updateMemberRole).toEqual({ __typename: 'Member', role: 'MEMBER' });
      expect(codeOf(await peer.request(Invites, { org: tenant.organizationId }, admin))).toBe('FORBIDDEN');
    });

    test('an end user moved to another directory has its new peers at once on the other instance', async ({ t, peer, ran, tenant, workspaceId }) => {
      const mover = await seedEndUser(t, tenant.token, { workspaceId, externalId: 'mover', directory: 'before' });
      const stayer = await seedEndUser(t, tenant.token, { workspaceId, externalId: 'stayer', directory: 'before' });
      const elsewhere = await seedEndUser(t, tenant.token, { workspaceId, externalId: 'elsewhere', directory: 'after' });
      const key = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId });
      const issued = await t.request(IssueToken, { input: { workspaceId, externalId: 'mover', expiresIn: 600 } }, key);
      const token = (issued.data!.issueEndUserToken as { token: string }).token;
      const sees = async (id: string) => (await peer.request(Node, { id }, token)).data?.node?.id === id;

      expect(await sees(stayer.id)).toBe(true);
      expect(await authenticationsOf(ran.peer, () => sees(stayer.id)), 'cached on the peer').toBe(0);

      const moved = await t.request(SetDirectory, { input: { endUserId: mover.id, directoryId: elsewhere.directoryId } }, tenant.token);
      expect(moved.data!.setEndUserDirectory.__typename).toBe('EndUser');
      expect({ stayer: await sees(stayer.id), elsewhere: await sees(elsewhere.id) }).toEqual({ stayer: false, elsewhere: true });
    });
  },
  ALL_BACKENDS,
  cacheTest,
);

// Redis of this test's own serves the peer, so that it can stop for the peer alone.
const REDIS: Backend = { name: 'postgres + redis', database: 'postgres', pubsub: 'redis' };
const TTL_MS = 5000;
const skip = unavailable(REDIS);

describe.skipIf(skip)('cached principals while Redis is down', () => {
  let redis: ChildProcess;
  let redisPort: number;
  let first: TestApp;
  let second: TestApp;
  const ranOnSecond: string[] = [];
  let drop: () => Promise<void>;
  let owner: string;
  let orgId: string;

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    const database = await createPostgresDatabase();
    drop = database.drop;
    const env = { HEDDLE_AUTH_CACHE_TTL_MS: String(TTL_MS) };
    first = await startTestApp(REDIS, { databaseUrl: database.url, env });
    second = await startTestApp(REDIS, {
      databaseUrl: database.url,
      env: { ...env, REDIS_URL: `redis://127.0.0.1:${redisPort}` },
      onQuery: (e) => void ranOnSecond.push(e.query),
    });
    owner = await first.memberToken('outage@example.com');
    orgId = await seedOrganization(first, owner, 'outage');
    await seedWorkspace(first, owner, orgId, 'main');
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    if (redis) await killRedis(redis);
    await drop?.();
  });

  /** A new key, cached on `second`; returns it and when it was cached. */
  async function keyCachedOnSecond(name: string) {
    const created = await first.request(CreateKey, { input: { organizationId: orgId, name } }, owner);
    const { plainKey, apiKey } = created.data!.createApiKey as { plainKey: string; apiKey: { id: string } };
    const cachedAt = Date.now();
    expect((await second.request(Viewer, undefined, plainKey)).errors).toBeUndefined();
    expect(await authenticationsOf(ranOnSecond, () => second.request(Viewer, undefined, plainKey)), 'cached').toBe(0);
    return { plainKey, id: apiKey.id, cachedAt };
  }

  vitest('a key revoked while the instance hears nothing fails there within HEDDLE_AUTH_CACHE_TTL_MS', async () => {
    const key = await keyCachedOnSecond('during the outage');
    await killRedis(redis);
    expect((await first.request(RevokeKey, { input: { id: key.id } }, owner)).data!.revokeApiKey.__typename).toBe('ApiKey');
    // The premise: the message did not reach the second instance, which still answers from its cache.
    expect((await second.request(Viewer, undefined, key.plainKey)).data?.viewer.kind).toBe('API_KEY');
    const deadline = key.cachedAt + TTL_MS + 500; // the TTL, and one request's time
    await expect
      .poll(async () => codeOf(await second.request(Viewer, undefined, key.plainKey)), { timeout: deadline - Date.now(), interval: 50 })
      .toBe('UNAUTHENTICATED');
  }, 20_000);

  vitest('when Redis is back, the instance drops everything it cached (messages were missed meanwhile)', async () => {
    const key = await keyCachedOnSecond('missed while down');
    expect((await first.request(RevokeKey, { input: { id: key.id } }, owner)).data!.revokeApiKey.__typename).toBe('ApiKey');
    redis = await startRedis(redisPort);
    await expect
      .poll(async () => codeOf(await second.request(Viewer, undefined, key.plainKey)), { timeout: TTL_MS, interval: 50 })
      .toBe('UNAUTHENTICATED');
    // Well before its TTL would have dropped it: the reconnection did.
    expect(Date.now() - key.cachedAt).toBeLessThan(TTL_MS - 1000);
  }, 20_000);
});

describe('a read that a change overtakes', () => {
  const key = (apiKeyId: string): Principal => ({ kind: 'apiKey', apiKeyId, organizationId: 'org', workspaceIds: null, permissions: [], expiresAt: null });

  /** Reads `principal` for `tokenHash` while `during` runs, then tells whether the next request reads it again. */
  async function readAgainAfter(during: (cache: PrincipalCache) => void, principal = key('k1')) {
    const cache = new PrincipalCache(await openPubSub({ kind: 'memory' }, createLogger('silent')), 5000);
    cache.start();
    let finish!: () => void;
    const inFlight = cache.principalOf('hash', () => new Promise<Principal>((resolve) => (finish = () => resolve(principal))));
    during(cache);
    finish();
    await inFlight;
    let reads = 0;
    await cache.principalOf('hash', async () => (reads++, principal));
    cache.stop();
    return reads === 1;
  }

  vitest('is not kept when the change names it: it may predate the change', async () => {
    expect(await readAgainAfter((cache) => cache.apply({ topic: 'access-revoked', message: { kind: 'apiKey', apiKeyId: 'k1' } }))).toBe(true);
  });

  vitest("is kept when the change names someone else (other instances' traffic does not empty the cache)", async () => {
    expect(await readAgainAfter((cache) => cache.apply({ topic: 'access-revoked', message: { kind: 'apiKey', apiKeyId: 'k2' } }))).toBe(false);
  });
});
