// End users mirror the host product's users: upsertEndUser and syncEndUsers
// (one implementation), deleteEndUser, listing and search, and tenancy.
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { describeEachBackend } from '../support/backends.js';
import type { TestApp } from '../support/app.js';
import { missingId, seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { decodeId } from '../../src/platform/ids.js';
import { collectEvents } from '../support/events.js';
import { describeWorld, test as world, type Tenant } from '../support/world.js';

const Upsert = graphql(`
  mutation EuUpsert($input: UpsertEndUserInput!) {
    upsertEndUser(input: $input) {
      __typename
      ... on EndUser { id externalId displayName email avatarUrl metadata directory { id name } createdAt updatedAt }
      ...ErrorFields
      ... on NotFoundError { path }
    }
  }
`);
const Sync = graphql(`
  mutation EuSync($input: SyncEndUsersInput!) {
    syncEndUsers(input: $input) {
      __typename
      ... on SyncEndUsersResult {
        created updated unchanged failed removed
        results { index externalId status endUser { externalId displayName directory { name } } fieldErrors { path message } }
      }
      ...ErrorFields
      ... on NotFoundError { path }
    }
  }
`);
const DeleteEndUser = graphql(`
  mutation EuDelete($input: DeleteEndUserInput!) {
    deleteEndUser(input: $input) { __typename ... on Deleted { id } ...ErrorFields ... on NotFoundError { path } }
  }
`);
const SetDirectory = graphql(`
  mutation EuSetDirectory($input: SetEndUserDirectoryInput!) {
    setEndUserDirectory(input: $input) { __typename ... on EndUser { directory { name } } ...ErrorFields ... on NotFoundError { path } }
  }
`);
const EndUsers = graphql(`
  query EuEndUsers($ws: ID!, $first: Int, $after: String, $search: String, $directoryId: ID) {
    workspace(id: $ws) {
      configVersion
      directories(first: 50) { totalCount edges { node { name } } }
      endUsers(first: $first, after: $after, search: $search, directoryId: $directoryId) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { externalId } }
      }
    }
  }
`);
const EndUserByExternalId = graphql(`
  query EuByExternalId($ws: ID!, $externalId: String!) {
    workspace(id: $ws) { endUser(externalId: $externalId) { id externalId displayName email directory { name } updatedAt } }
  }
`);
const NodeById = graphql(`
  query EuNode($id: ID!) { node(id: $id) { __typename id ... on EndUser { externalId } } }
`);

describeEachBackend('end users', (_backend, test) => {
  // The helpers below act as the tenant's owner.
  let t: TestApp;
  let owner: string;
  let orgId: string;
  test.beforeAll(({ t: app, tenant }) => {
    t = app;
    ({ token: owner, organizationId: orgId } = tenant);
  });

  let workspaces = 0;
  const newWorkspace = () => seedWorkspace(t, owner, orgId, `eu-${++workspaces}`);
  const upsert = async (input: Record<string, unknown>, token = owner) =>
    (await t.request(Upsert, { input: input as never }, token)).data!.upsertEndUser;
  async function createEndUser(workspaceId: string, input: Record<string, unknown> = {}) {
    const result = await upsert({ workspaceId, externalId: `user-${Math.random().toString(36).slice(2)}`, ...input });
    if (result.__typename !== 'EndUser') throw new Error(`upsertEndUser failed: ${JSON.stringify(result)}`);
    return result;
  }
  const sync = async (input: Record<string, unknown>) => (await t.request(Sync, { input: input as never }, owner)).data!.syncEndUsers;
  const listing = async (ws: string, args: { first?: number; after?: string; search?: string; directoryId?: string } = {}) =>
    (await t.request(EndUsers, { ws, first: 100, ...args }, owner)).data!.workspace!;
  const byExternalId = async (ws: string, externalId: string) =>
    (await t.request(EndUserByExternalId, { ws, externalId }, owner)).data!.workspace!.endUser;

  describe('externalId: no whitespace, at least one non-digit, 1-256 characters', () => {
    test.each([
      ['u256', true],
      ['x'.repeat(256), true],
      ['user@example.com', true],
      ['256', false],
      ['a b', false],
      ['', false],
      ['x'.repeat(257), false],
    ])('%j is accepted: %s', async (externalId, accepted) => {
      const workspaceId = await newWorkspace();
      const result = await upsert({ workspaceId, externalId });
      if (accepted) {
        expect(result).toMatchObject({ __typename: 'EndUser', externalId });
      } else {
        expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'externalId'] }] });
        expect((await listing(workspaceId)).endUsers.totalCount).toBe(0);
      }
    });
  });

  test('upsertEndUser creates, then updates the same end user; omitted fields stay, null clears', async () => {
    const workspaceId = await newWorkspace();
    const created = await upsert({
      workspaceId,
      externalId: 'alice',
      displayName: 'Alice',
      email: 'alice@example.com',
      avatarUrl: 'https://example.com/alice.png',
      metadata: { plan: 'pro', seats: 3 },
    });
    expect(created).toMatchObject({ __typename: 'EndUser', externalId: 'alice', displayName: 'Alice', metadata: { plan: 'pro', seats: 3 }, directory: null });

    const renamed = await upsert({ workspaceId, externalId: 'alice', displayName: 'Alice A.' });
    expect(renamed).toMatchObject({ ...created, displayName: 'Alice A.', updatedAt: expect.any(String) });
    const cleared = await upsert({ workspaceId, externalId: 'alice', email: null, metadata: null });
    expect(cleared).toMatchObject({ id: (created as { id: string }).id, displayName: 'Alice A.', email: null, metadata: null });
    expect((await listing(workspaceId)).endUsers.totalCount).toBe(1);
  });

  test.each([
    ['email', 'not-an-email'],
    ['avatarUrl', 'not a url'],
    ['metadata', ['not', 'an', 'object']],
    ['displayName', ''],
    ['directory', 'has space'],
  ])('upsertEndUser rejects a bad %s with its path and writes nothing', async (field, value) => {
    const workspaceId = await newWorkspace();
    const result = await upsert({ workspaceId, externalId: 'bob', [field]: value });
    expect(result).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', field] }] });
    expect(await byExternalId(workspaceId, 'bob')).toBeNull();
  });

  test('upsertEndUser directory: a name (created when missing), omitted keeps it, null is the default directory', async () => {
    const workspaceId = await newWorkspace();
    expect(await upsert({ workspaceId, externalId: 'carol', directory: 'acme' })).toMatchObject({ directory: { name: 'acme' } });
    expect(await upsert({ workspaceId, externalId: 'dave', directory: 'acme' })).toMatchObject({ directory: { name: 'acme' } });
    expect((await listing(workspaceId)).directories.totalCount).toBe(1);
    expect(await upsert({ workspaceId, externalId: 'carol', displayName: 'Carol' })).toMatchObject({ directory: { name: 'acme' } });
    expect(await upsert({ workspaceId, externalId: 'carol', directory: 'globex' })).toMatchObject({ directory: { name: 'globex' } });
    expect(await upsert({ workspaceId, externalId: 'carol', directory: null })).toMatchObject({ directory: null });
    expect((await listing(workspaceId)).directories.edges.map((e) => e.node.name)).toEqual(['acme', 'globex']);
  });

  test('creating and syncing end users is not a config change', async () => {
    const workspaceId = await newWorkspace();
    await upsert({ workspaceId, externalId: 'erin' });
    await sync({ workspaceId, users: [{ externalId: 'frank' }, { externalId: 'erin', displayName: 'Erin' }] });
    expect((await listing(workspaceId)).configVersion).toBe(0);
  });

  test('workspace.endUsers: case-insensitive search over externalId, displayName and email; directory filter; cursor pages', async () => {
    const workspaceId = await newWorkspace();
    const carol = await createEndUser(workspaceId, { externalId: 'carol', displayName: 'Carol Danvers', email: 'carol@marvel.example', directory: 'heroes' });
    await upsert({ workspaceId, externalId: 'dave', displayName: 'Dave', email: 'dave@DANVILLE.example' });
    await upsert({ workspaceId, externalId: 'xdanx' });
    await upsert({ workspaceId, externalId: 'erin', displayName: 'Erin' });
    const names = async (args: Parameters<typeof listing>[1]) => (await listing(workspaceId, args)).endUsers.edges.map((e) => e.node.externalId);

    expect(await names({ search: 'DAN' })).toEqual(['carol', 'dave', 'xdanx']);
    expect(await names({ search: 'marvel' })).toEqual(['carol']);
    expect(await names({ search: 'nobody' })).toEqual([]);

    const heroesId = carol.directory!.id;
    expect(await names({ directoryId: heroesId })).toEqual(['carol']);
    expect(await names({ directoryId: heroesId, search: 'dave' })).toEqual([]);
    // Not a directory of this workspace, or not a directory id at all: matches nobody.
    const elsewhere = await createEndUser(await newWorkspace(), { directory: 'heroes' });
    expect(await names({ directoryId: elsewhere.directory!.id })).toEqual([]);
    expect(await names({ directoryId: 'not-an-id' })).toEqual([]);

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await listing(workspaceId, { first: 3, after })).endUsers;
      expect(page.totalCount).toBe(4);
      seen.push(...page.edges.map((e) => e.node.externalId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(seen.sort()).toEqual(['carol', 'dave', 'erin', 'xdanx']);
    expect(await byExternalId(workspaceId, 'nobody')).toBeNull();
  });

  describe('syncEndUsers', () => {
    const batch = () =>
      Array.from({ length: 1000 }, (_, i): Record<string, unknown> => ({
        externalId: `user-${i}`,
        displayName: `User ${i}`,
        email: `user-${i}@example.com`,
        directory: `team-${i % 5}`,
      }));
    const INVALID: Record<number, [Record<string, unknown>, string[]]> = {
      3: [{ externalId: '3' }, ['input', 'users', '3', 'externalId']],
      10: [{ externalId: 'has space' }, ['input', 'users', '10', 'externalId']],
      500: [{ email: 'nope' }, ['input', 'users', '500', 'email']],
      998: [{ directory: '42' }, ['input', 'users', '998', 'directory']],
      999: [{ externalId: 'user-0' }, ['input', 'users', '999', 'externalId']], // repeats item 0: the later one fails
    };
    function withInvalidItems() {
      const users = batch();
      for (const [index, [patch]] of Object.entries(INVALID)) users[Number(index)] = { ...users[Number(index)], ...patch };
      return users;
    }

    test('1,000 users: valid ones stored, each invalid one reported with its path; a re-run changes nothing', async () => {
      const workspaceId = await newWorkspace();
      const users = withInvalidItems();
      const first = await sync({ workspaceId, users });
      if (first.__typename !== 'SyncEndUsersResult') throw new Error(JSON.stringify(first));
      expect(first).toMatchObject({ created: 995, updated: 0, unchanged: 0, failed: 5, removed: 0 });
      expect(first.results).toHaveLength(1000);
      expect(first.results.map((r) => r.index)).toEqual(users.map((_, i) => i));
      for (const [index, [, path]] of Object.entries(INVALID)) {
        expect(first.results[Number(index)]).toMatchObject({ index: Number(index), status: 'FAILED', endUser: null, fieldErrors: [{ path }] });
      }
      expect(first.results[1]).toEqual({
        index: 1,
        externalId: 'user-1',
        status: 'CREATED',
        endUser: { externalId: 'user-1', displayName: 'User 1', directory: { name: 'team-1' } },
        fieldErrors: [],
      });

      const stored = await listing(workspaceId);
      expect(stored.endUsers.totalCount).toBe(995);
      expect(stored.directories.edges.map((e) => e.node.name)).toEqual(['team-0', 'team-1', 'team-2', 'team-3', 'team-4']);
      expect(await byExternalId(workspaceId, 'user-999')).toBeNull();
      expect(await byExternalId(workspaceId, 'user-0')).toMatchObject({ displayName: 'User 0' }); // the first of the repeated pair
      const before = await byExternalId(workspaceId, 'user-42');

      const again = await sync({ workspaceId, users });
      expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 995, failed: 5, removed: 0 });
      expect((await listing(workspaceId)).endUsers.totalCount).toBe(995);
      expect(await byExternalId(workspaceId, 'user-42')).toEqual(before); // not even updatedAt moved
    });

    test('a changed record is UPDATED, and only the fields it names change', async () => {
      const workspaceId = await newWorkspace();
      await sync({ workspaceId, users: [{ externalId: 'gina', displayName: 'Gina', email: 'gina@example.com', directory: 'north' }, { externalId: 'hal' }] });
      const result = await sync({ workspaceId, users: [{ externalId: 'gina', displayName: 'Gina G.' }, { externalId: 'hal' }, { externalId: 'ivy' }] });
      expect(result).toMatchObject({
        created: 1,
        updated: 1,
        unchanged: 1,
        results: [{ status: 'UPDATED' }, { status: 'UNCHANGED' }, { status: 'CREATED' }],
      });
      expect(await byExternalId(workspaceId, 'gina')).toMatchObject({ displayName: 'Gina G.', email: 'gina@example.com', directory: { name: 'north' } });
    });

    test('removeMissing deletes the end users the call does not name, and their connections', async () => {
      const workspaceId = await newWorkspace();
      await sync({ workspaceId, users: batch() });
      const doomedConnection = await seedConnection(t, owner, { scope: 'USER', workspaceId, externalId: 'user-7', integrationName: 'slack' });
      const keptConnection = await seedConnection(t, owner, { scope: 'USER', workspaceId, externalId: 'user-1', integrationName: 'slack' });

      // user-2 is named by an item that fails validation: a typo must not delete it.
      const users = [{ externalId: 'user-0' }, { externalId: 'user-1' }, { externalId: 'user-2', email: 'typo' }, { externalId: 'newcomer' }];
      const result = await sync({ workspaceId, users, removeMissing: true });
      expect(result).toMatchObject({ created: 1, unchanged: 2, failed: 1, removed: 997 });

      const remaining = await listing(workspaceId);
      expect(remaining.endUsers.edges.map((e) => e.node.externalId).sort()).toEqual(['newcomer', 'user-0', 'user-1', 'user-2']);
      expect((await t.request(NodeById, { id: doomedConnection }, owner)).data?.node).toBeNull();
      expect((await t.request(NodeById, { id: keptConnection }, owner)).data?.node).toMatchObject({ id: keptConnection });
    });

    test('removeMissing announces its removals to every instance in chunks of 1,000 end users, not one message each', async () => {
      const workspaceId = await newWorkspace();
      await sync({ workspaceId, users: batch() });
      await sync({ workspaceId, users: Array.from({ length: 200 }, (_, i) => ({ externalId: `extra-${i}` })) });
      // Other test files share the Redis and delete end users too: this workspace's removals.
      const doomed = await t.app.database.prisma.endUser.findMany({
        where: { workspaceId: decodeId(workspaceId, 'Workspace')!, externalId: { not: 'user-0' } },
        select: { id: true },
      });
      const doomedIds = new Set(doomed.map((row) => row.id));
      const revocations = collectEvents(t.app.services.pubsub, 'access-revoked');
      try {
        const result = await sync({ workspaceId, users: [{ externalId: 'user-0' }], removeMissing: true });
        expect(result).toMatchObject({ removed: 1199 });
        const removals = () =>
          revocations.events.filter((message) => message.kind === 'endUsers').filter((message) => message.endUserIds.some((id) => doomedIds.has(id)));
        await expect.poll(() => removals().map((message) => message.endUserIds.length)).toEqual([1000, 199]);
        expect(new Set(removals().flatMap((message) => message.endUserIds))).toEqual(doomedIds);
      } finally {
        revocations.stop();
      }
    });

    test('more than 1,000 users is a ValidationError on input.users, and nothing is written', async () => {
      const workspaceId = await newWorkspace();
      const users = [...batch(), { externalId: 'one-too-many' }];
      const result = await sync({ workspaceId, users, removeMissing: true });
      expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'users'] }] });
      const after = await listing(workspaceId);
      expect(after.endUsers.totalCount).toBe(0);
      expect(after.directories.totalCount).toBe(0);
    });
  });

  test('deleteEndUser deletes the end user and its connections; a second delete is NOT_FOUND', async () => {
    const workspaceId = await newWorkspace();
    const user = await createEndUser(workspaceId, { externalId: 'dave' });
    const connectionId = await seedConnection(t, owner, { scope: 'USER', workspaceId, externalId: 'dave', integrationName: 'slack' });
    const deleted = await t.request(DeleteEndUser, { input: { id: user.id } }, owner);
    expect(deleted.data?.deleteEndUser).toEqual({ __typename: 'Deleted', id: user.id });
    expect((await t.request(NodeById, { id: user.id }, owner)).data?.node).toBeNull();
    expect((await t.request(NodeById, { id: connectionId }, owner)).data?.node).toBeNull();
    const again = await t.request(DeleteEndUser, { input: { id: user.id } }, owner);
    expect(again.data?.deleteEndUser).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'id'] });
  });

  test("another tenant's workspace and end user ids answer exactly like ids that do not exist", async () => {
    const workspaceId = await newWorkspace();
    const user = await createEndUser(workspaceId, { externalId: 'private-user' });
    const stranger = await t.memberToken('eu-stranger@example.com');
    const strangersWorkspace = await seedWorkspace(t, stranger, await seedOrganization(t, stranger, 'eu-stranger'), 'mine');
    const strangersUser = (await upsert({ workspaceId: strangersWorkspace, externalId: 'own-user' }, stranger)) as { id: string };

    const asStranger = {
      upsert: (ws: string) => upsert({ workspaceId: ws, externalId: 'intruder' }, stranger),
      sync: async (ws: string) => (await t.request(Sync, { input: { workspaceId: ws, users: [{ externalId: 'intruder' }] } }, stranger)).data?.syncEndUsers,
      delete: async (id: string) => (await t.request(DeleteEndUser, { input: { id } }, stranger)).data?.deleteEndUser,
      move: async (id: string) => (await t.request(SetDirectory, { input: { endUserId: id, directoryId: null } }, stranger)).data?.setEndUserDirectory,
      node: async (id: string) => (await t.request(NodeById, { id }, stranger)).data?.node,
      entity: async (id: string) =>
        (await t.requestRaw<{ _entities: unknown[] }>('query($r: [_Any!]!) { _entities(representations: $r) { ... on EndUser { externalId } } }', { r: [{ __typename: 'EndUser', id }] }, stranger)).data?._entities,
    };
    expect(await asStranger.upsert(workspaceId)).toEqual(await asStranger.upsert(missingId('Workspace')));
    expect(await asStranger.upsert(workspaceId)).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'workspaceId'] });
    expect(await asStranger.sync(workspaceId)).toEqual(await asStranger.sync(missingId('Workspace')));
    expect(await asStranger.sync(workspaceId)).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'workspaceId'] });
    expect(await asStranger.delete(user.id)).toEqual(await asStranger.delete(missingId('EndUser')));
    expect(await asStranger.delete(user.id)).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'id'] });
    expect(await asStranger.move(user.id)).toEqual(await asStranger.move(missingId('EndUser')));
    expect(await asStranger.move(user.id)).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'endUserId'] });
    expect(await asStranger.node(user.id)).toBeNull();
    expect(await asStranger.entity(user.id)).toEqual([null]);
    // The stranger's own end user resolves through the same paths.
    expect(await asStranger.node(strangersUser.id)).toMatchObject({ __typename: 'EndUser', externalId: 'own-user' });
    expect(await asStranger.entity(strangersUser.id)).toEqual([{ externalId: 'own-user' }]);

    // Nothing was written for the owner's workspace, and the user is still there.
    expect((await listing(workspaceId)).endUsers.edges.map((e) => e.node.externalId)).toEqual(['private-user']);
  });
});

let statements = 0;
const costTest = world.extend('appOptions', { scope: 'file' }, { onQuery: () => void statements++ });

describeWorld('syncEndUsers cost', (test) => {
  async function statementsFor(t: TestApp, { token }: Tenant, workspaceId: string, users: { externalId: string }[]) {
    statements = 0;
    const result = await t.request(Sync, { input: { workspaceId, users } }, token);
    expect(result.data?.syncEndUsers.__typename).toBe('SyncEndUsersResult');
    return statements;
  }
  const users = (count: number) => Array.from({ length: count }, (_, i) => ({ externalId: `user-${i}`, displayName: `User ${i}`, directory: `team-${i % 7}` }));

  // Selecting each result's end user and its directory must not cost a statement per item either.
  test('the number of SQL statements does not grow with the number of users', async ({ t, tenant }) => {
    const { token, organizationId: orgId } = tenant;
    const small = await statementsFor(t, tenant, await seedWorkspace(t, token, orgId, 'small'), users(10));
    const large = await seedWorkspace(t, token, orgId, 'large');
    expect(await statementsFor(t, tenant, large, users(1000))).toBe(small);
    // Unchanged records write nothing, so a re-run costs no more than the first run.
    expect(await statementsFor(t, tenant, large, users(1000))).toBeLessThanOrEqual(small);
  });
}, costTest);
