import { createHash } from 'node:crypto';
import { expect, vi } from 'vitest';
import { graphql } from '../generated/index.js';
import { databaseText, type TestApp } from '../support/app.js';
import { seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { test as world } from '../support/world.js';

const CreateApiKey = graphql(`
  mutation AkCreate($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      __typename
      ... on CreatedApiKey { plainKey apiKey { id prefix permissions workspaces { id } } }
      ...ErrorFields
    }
  }
`);
const RevokeApiKey = graphql(`
  mutation AkRevoke($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) { __typename ... on ApiKey { revokedAt } ...ErrorFields }
  }
`);
const Viewer = graphql(`
  query AkViewer { viewer { kind organizations(first: 5) { edges { node { slug workspaces(first: 10) { totalCount } } } } } }
`);
const DeleteWorkspace = graphql(`
  mutation AkDeleteWorkspace($input: DeleteWorkspaceInput!) { deleteWorkspace(input: $input) { __typename ...ErrorFields } }
`);
const Workspace = graphql(`
  query AkWorkspace($id: ID!) { workspace(id: $id) { slug } }
`);
const Keys = graphql(`
  query AkKeys($org: ID!) { organization(id: $org) { apiKeys(first: 10) { edges { node { prefix lastUsedAt revokedAt } } } } }
`);
const IssueToken = graphql(`
  mutation AkIssue($input: IssueEndUserTokenInput!) {
    issueEndUserToken(input: $input) {
      __typename
      ... on EndUserToken { token expiresAt endUser { id externalId } }
      ...ErrorFields
    }
  }
`);
const Upsert = graphql(`
  mutation AkUpsert($input: UpsertEndUserInput!) { upsertEndUser(input: $input) { __typename ... on EndUser { id } } }
`);
const AsEndUser = graphql(`
  query AkAsEndUser($ws: ID!, $other: ID!, $connection: ID!, $foreignConnection: ID!) {
    viewer { kind endUser { externalId peers(first: 10) { edges { node { externalId } } } connections(first: 10) { totalCount } } }
    workspace(id: $ws) { id }
    other: node(id: $other) { id }
    own: node(id: $connection) { id }
    foreign: node(id: $foreignConnection) { id }
  }
`);

const test = world
  .extend('slug', { scope: 'file' }, 'keys')
  .extend('appOptions', { scope: 'file' }, ({ logs }) => ({ logStream: logs.stream }));

/** Runs `fn` with the clock moved `ms` ahead, as if that much time had passed: only Date is faked, timers and I/O run on. */
async function later<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
  try {
    return await fn();
  } finally {
    vi.useRealTimers();
  }
}

// The helpers below act as the tenant's owner.
let t: TestApp;
let owner: string;
let orgId: string;
let prodId: string;
let stagingId: string;
let logs: { text: string };
test.beforeAll(async ({ t: app, tenant, logs: appLogs }) => {
  t = app;
  logs = appLogs;
  ({ token: owner, organizationId: orgId } = tenant);
  prodId = await seedWorkspace(t, owner, orgId, 'prod');
  stagingId = await seedWorkspace(t, owner, orgId, 'staging');
});

async function createKey(input: Record<string, unknown>) {
  const result = await t.request(CreateApiKey, { input: { organizationId: orgId, name: 'backend', ...input } as never }, owner);
  const created = result.data!.createApiKey;
  if (created.__typename !== 'CreatedApiKey') throw new Error(JSON.stringify(result));
  return created;
}

test('a canary key appears in no table, log line or response except the one that created it', async () => {
  const created = await createKey({});
  const canary = created.plainKey;
  // Use it, fail with a tampered copy, revoke it: every path that could echo it.
  expect((await t.request(Viewer, undefined, canary)).data?.viewer.kind).toBe('API_KEY');
  const tampered = await t.request(Viewer, undefined, `${canary}x`);
  await t.request(RevokeApiKey, { input: { id: created.apiKey.id } }, canary);
  const afterRevoke = await t.request(Viewer, undefined, canary);
  const listed = await t.request(Keys, { org: orgId }, owner);
  const audit = await t.requestRaw('query($id: ID!) { organization(id: $id) { auditEvents(first: 50) { edges { node { action details targetId } } } } }', { id: orgId }, owner);
  await t.app.services.apiKeyUsage.flush();
  expect(JSON.stringify([tampered, afterRevoke, listed, audit])).not.toContain(canary);
  expect(await databaseText(t)).not.toContain(canary);
  expect(logs.text).not.toContain(canary);
});

test('a new key is shown once; only its hash and prefix are stored, and it never reaches the logs', async () => {
  const created = await createKey({});
  expect(created.plainKey).toMatch(/^hdl_[A-Za-z0-9_-]{43}$/);
  expect(created.plainKey.startsWith(created.apiKey.prefix)).toBe(true);
  const row = await t.app.database.prisma.apiKey.findUniqueOrThrow({ where: { keyHash: createHash('sha256').update(created.plainKey).digest('hex') } });
  expect(JSON.stringify(row)).not.toContain(created.plainKey);
  const listed = await t.request(Keys, { org: orgId }, owner);
  expect(JSON.stringify(listed)).not.toContain(created.plainKey);
  expect((await t.request(Viewer, undefined, created.plainKey)).data?.viewer.kind).toBe('API_KEY');
  expect(logs.text).not.toContain(created.plainKey);
});

test('an org-wide key acts inside its organization only; lastUsedAt is recorded without a write per request', async () => {
  const { plainKey } = await createKey({ name: 'org-wide' });
  const viewer = await t.request(Viewer, undefined, plainKey);
  expect(viewer.data?.viewer.organizations.edges).toEqual([{ node: { slug: 'keys', workspaces: { totalCount: 2 } } }]);
  const otherOwner = await t.memberToken('other-keys@example.com');
  const foreignWorkspace = await seedWorkspace(t, otherOwner, await seedOrganization(t, otherOwner, 'other-keys'), 'theirs');
  expect((await t.request(Workspace, { id: foreignWorkspace }, plainKey)).data?.workspace).toBeNull();

  const before = (await t.request(Keys, { org: orgId }, owner)).data!.organization!.apiKeys.edges.find((e) => plainKey.startsWith(e.node.prefix));
  expect(before?.node.lastUsedAt).toBeNull();
  await t.app.services.apiKeyUsage.flush();
  const after = (await t.request(Keys, { org: orgId }, owner)).data!.organization!.apiKeys.edges.find((e) => plainKey.startsWith(e.node.prefix));
  expect(after?.node.lastUsedAt).not.toBeNull();
});

test('a workspace-restricted key lists only its workspaces and gets SCOPE_DENIED outside them', async () => {
  const { plainKey, apiKey } = await createKey({ name: 'prod only', workspaceIds: [prodId] });
  expect(apiKey.workspaces).toEqual([{ id: prodId }]);
  expect((await t.request(Workspace, { id: prodId }, plainKey)).data?.workspace).toEqual({ slug: 'prod' });
  const outside = await t.request(Workspace, { id: stagingId }, plainKey);
  expect(outside.data?.workspace ?? null).toBeNull();
  expect(outside.errors?.[0]?.extensions?.code).toBe('SCOPE_DENIED');
  const viewer = await t.request(Viewer, undefined, plainKey);
  expect(viewer.data?.viewer.organizations.edges[0]?.node.workspaces.totalCount).toBe(1);
});

test("a key restricted to workspaces is revoked when the last of them is deleted, never widened to the organization", async () => {
  const doomed = [await seedWorkspace(t, owner, orgId, 'doomed-a'), await seedWorkspace(t, owner, orgId, 'doomed-b')];
  const { plainKey } = await createKey({ name: 'doomed only', workspaceIds: doomed });
  const visible = async () => (await t.request(Viewer, undefined, plainKey)).data?.viewer.organizations.edges[0]?.node.workspaces.totalCount;
  expect(await visible()).toBe(2);
  expect((await t.request(DeleteWorkspace, { input: { id: doomed[0]! } }, owner)).data?.deleteWorkspace.__typename).toBe('Deleted');
  expect(await visible()).toBe(1); // still restricted, to the one left
  expect((await t.request(Workspace, { id: prodId }, plainKey)).errors?.[0]?.extensions?.code).toBe('SCOPE_DENIED');
  expect((await t.request(DeleteWorkspace, { input: { id: doomed[1]! } }, owner)).data?.deleteWorkspace.__typename).toBe('Deleted');
  const after = await t.request(Workspace, { id: prodId }, plainKey);
  expect(after.data?.workspace ?? null).toBeNull();
  expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});

test('a revoked key fails on its next request; an expired key fails', async () => {
  const { plainKey, apiKey } = await createKey({ name: 'to revoke' });
  expect((await t.request(Viewer, undefined, plainKey)).data?.viewer.kind).toBe('API_KEY');
  const revoked = await t.request(RevokeApiKey, { input: { id: apiKey.id } }, owner);
  expect(revoked.data?.revokeApiKey.__typename).toBe('ApiKey');
  expect((await t.request(Viewer, undefined, plainKey)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

  const soon = await createKey({ name: 'short-lived', expiresAt: new Date(Date.now() + 1000).toISOString() });
  expect((await t.request(Viewer, undefined, soon.plainKey)).data?.viewer.kind).toBe('API_KEY');
  const expired = await later(1100, () => t.request(Viewer, undefined, soon.plainKey));
  expect(expired.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  const past = await t.request(CreateApiKey, { input: { organizationId: orgId, name: 'x', expiresAt: '2000-01-01T00:00:00Z' } }, owner);
  expect(past.data?.createApiKey).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'expiresAt'] }] });
});

test('end-user tokens: API keys only, at most 24 h; the token sees itself, its connections and its peers, nothing else', async () => {
  const { plainKey } = await createKey({ name: 'issuer' });
  const asMember = await t.request(IssueToken, { input: { workspaceId: prodId, externalId: 'eve' } }, owner);
  expect(asMember.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const tooLong = await t.request(IssueToken, { input: { workspaceId: prodId, externalId: 'eve', expiresIn: 86_401 } }, plainKey);
  expect(tooLong.data?.issueEndUserToken).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'expiresIn'] }] });

  await t.request(Upsert, { input: { workspaceId: prodId, externalId: 'frank', directory: 'team-a' } }, owner);
  const stranger = await t.request(Upsert, { input: { workspaceId: prodId, externalId: 'grace', directory: 'team-b' } }, owner);
  await t.request(Upsert, { input: { workspaceId: prodId, externalId: 'eve', directory: 'team-a' } }, owner);
  const own = await seedConnection(t, owner, { scope: 'USER', workspaceId: prodId, externalId: 'eve', integrationName: 'slack' });
  const franks = await seedConnection(t, owner, { scope: 'USER', workspaceId: prodId, externalId: 'frank', integrationName: 'slack' });

  const issued = await t.request(IssueToken, { input: { workspaceId: prodId, externalId: 'eve', expiresIn: 2 } }, plainKey);
  const { token } = issued.data!.issueEndUserToken as { token: string };
  const seen = await t.request(
    AsEndUser,
    { ws: prodId, other: (stranger.data!.upsertEndUser as { id: string }).id, connection: own, foreignConnection: franks },
    token,
  );
  expect(seen.data).toEqual({
    viewer: { kind: 'END_USER', endUser: { externalId: 'eve', peers: { edges: [{ node: { externalId: 'frank' } }] }, connections: { totalCount: 1 } } },
    workspace: null,
    other: null,
    own: { id: own },
    foreign: null,
  });
  const expired = await later(2100, () => t.request(Viewer, undefined, token));
  expect(expired.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});
