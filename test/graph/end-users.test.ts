import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { describeEachBackend } from '../support/backends.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';

const Upsert = graphql(`
  mutation EuUpsert($input: UpsertEndUserInput!) {
    upsertEndUser(input: $input) {
      __typename
      ... on EndUser { id externalId displayName email directory { id name } }
      ... on Error { code message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`);
const Sync = graphql(`
  mutation EuSync($input: SyncEndUsersInput!) {
    syncEndUsers(input: $input) {
      __typename
      ... on SyncEndUsersResult {
        created updated unchanged failed removed
        results { index externalId status fieldErrors { path message } }
      }
      ... on Error { code }
      ... on ValidationError { fieldErrors { path } }
    }
  }
`);
const CreateDirectory = graphql(`
  mutation EuCreateDirectory($input: CreateDirectoryInput!) {
    createDirectory(input: $input) {
      __typename ... on Directory { id name } ... on Error { code } ... on ValidationError { fieldErrors { path } }
    }
  }
`);
const SetDirectory = graphql(`
  mutation EuSetDirectory($input: SetEndUserDirectoryInput!) {
    setEndUserDirectory(input: $input) { __typename ... on EndUser { directory { name } } ... on Error { code } }
  }
`);
const CreateSpace = graphql(`
  mutation EuCreateSpace($input: CreateSpaceInput!) {
    createSpace(input: $input) {
      __typename ... on Space { id uid } ... on Error { code } ... on ValidationError { fieldErrors { path } }
    }
  }
`);
const AddMembers = graphql(`
  mutation EuAddMembers($input: SpaceMembersInput!) {
    addSpaceMembers(input: $input) { __typename ... on Space { members(first: 10) { totalCount } } ... on Error { code } }
  }
`);
const RemoveMembers = graphql(`
  mutation EuRemoveMembers($input: SpaceMembersInput!) {
    removeSpaceMembers(input: $input) { __typename ... on Space { members(first: 10) { totalCount } } ... on Error { code } }
  }
`);
const Interaction = graphql(`
  query EuInteraction($ws: ID!, $externalId: String!, $other: String!) {
    workspace(id: $ws) {
      endUser(externalId: $externalId) {
        canInteractWith(externalId: $other)
        peers(first: 50) { totalCount edges { node { externalId } } }
      }
    }
  }
`);
const EndUsers = graphql(`
  query EuEndUsers($ws: ID!, $search: String, $directoryId: ID) {
    workspace(id: $ws) { endUsers(first: 5, search: $search, directoryId: $directoryId) { totalCount edges { node { externalId } } } }
  }
`);
const DeleteEndUser = graphql(`
  mutation EuDeleteEndUser($input: DeleteEndUserInput!) {
    deleteEndUser(input: $input) { __typename ... on Deleted { id } ... on Error { code } }
  }
`);
const NodeById = graphql(`
  query EuNode($id: ID!) { node(id: $id) { id } }
`);

describeEachBackend('end users, directories and spaces', (backend) => {
  let t: TestApp;
  let token: string;
  let orgId: string;
  beforeAll(async () => {
    t = await startTestApp(backend);
    token = await t.memberToken('eu@example.com');
    orgId = await seedOrganization(t, token, 'eu');
  });
  afterAll(() => t.stop());

  let count = 0;
  async function newWorkspace(): Promise<string> {
    const slug = `eu-${++count}`;
    return seedWorkspace(t, token, orgId, slug);
  }
  const upsert = (input: Record<string, unknown>) => t.request(Upsert, { input: input as never }, token).then((r) => r.data!.upsertEndUser);
  const endUserId = async (workspaceId: string, externalId: string) => ((await upsert({ workspaceId, externalId })) as { id: string }).id;
  const interaction = async (ws: string, externalId: string, other: string) =>
    (await t.request(Interaction, { ws, externalId, other }, token)).data!.workspace!.endUser!;

  test.each([
    ['u256', true],
    ['256', false],
    ['a b', false],
    ['', false],
    ['x'.repeat(257), false],
    ['x'.repeat(256), true],
  ])('externalId %j valid: %s', async (externalId, ok) => {
    const result = await upsert({ workspaceId: await newWorkspace(), externalId });
    if (ok) expect(result).toMatchObject({ __typename: 'EndUser', externalId });
    else expect(result).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'externalId'] }] });
  });

  test('upsert creates, then updates the same end user; omitted fields stay', async () => {
    const workspaceId = await newWorkspace();
    const created = await upsert({ workspaceId, externalId: 'alice', displayName: 'Alice', email: 'alice@example.com' });
    const updated = await upsert({ workspaceId, externalId: 'alice', displayName: 'Alice A.' });
    expect(updated).toEqual({ ...(created as object), displayName: 'Alice A.' });
    const badEmail = await upsert({ workspaceId, externalId: 'alice', email: 'not-an-email' });
    expect(badEmail).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'email'] }] });
  });

  test('directory names follow the externalId rule and are unique per workspace', async () => {
    const workspaceId = await newWorkspace();
    const ok = await t.request(CreateDirectory, { input: { workspaceId, name: 'acme-corp' } }, token);
    expect(ok.data?.createDirectory).toMatchObject({ __typename: 'Directory', name: 'acme-corp' });
    const dup = await t.request(CreateDirectory, { input: { workspaceId, name: 'acme-corp' } }, token);
    expect(dup.data?.createDirectory).toMatchObject({ code: 'CONFLICT' });
    const bad = await t.request(CreateDirectory, { input: { workspaceId, name: '42' } }, token);
    expect(bad.data?.createDirectory).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'name'] }] });
    const elsewhere = await t.request(CreateDirectory, { input: { workspaceId: await newWorkspace(), name: 'acme-corp' } }, token);
    expect(elsewhere.data?.createDirectory.__typename).toBe('Directory');
  });

  test('an end user is in one directory at most; moving it replaces the old one', async () => {
    const workspaceId = await newWorkspace();
    const user = await upsert({ workspaceId, externalId: 'mover', directory: 'first' });
    expect(user).toMatchObject({ directory: { name: 'first' } });
    const second = await t.request(CreateDirectory, { input: { workspaceId, name: 'second' } }, token);
    const secondId = (second.data!.createDirectory as { id: string }).id;
    const moved = await t.request(SetDirectory, { input: { endUserId: (user as { id: string }).id, directoryId: secondId } }, token);
    expect(moved.data?.setEndUserDirectory).toEqual({ __typename: 'EndUser', directory: { name: 'second' } });
    const inFirst = await t.request(EndUsers, { ws: workspaceId, directoryId: (user as { directory: { id: string } }).directory.id }, token);
    expect(inFirst.data?.workspace?.endUsers.totalCount).toBe(0);
    const toDefault = await t.request(SetDirectory, { input: { endUserId: (user as { id: string }).id, directoryId: null } }, token);
    expect(toDefault.data?.setEndUserDirectory).toEqual({ __typename: 'EndUser', directory: null });

    const foreignDirectory = await t.request(CreateDirectory, { input: { workspaceId: await newWorkspace(), name: 'foreign' } }, token);
    const refused = await t.request(
      SetDirectory,
      { input: { endUserId: (user as { id: string }).id, directoryId: (foreignDirectory.data!.createDirectory as { id: string }).id } },
      token,
    );
    expect(refused.data?.setEndUserDirectory).toMatchObject({ code: 'NOT_FOUND' });
  });

  test('same directory or a common space lets end users interact; nothing else does', async () => {
    const ws = await newWorkspace();
    await upsert({ workspaceId: ws, externalId: 'd1', directory: 'north' });
    await upsert({ workspaceId: ws, externalId: 'd2', directory: 'north' });
    await upsert({ workspaceId: ws, externalId: 's1', directory: 'south' });
    await upsert({ workspaceId: ws, externalId: 'n1' });
    await upsert({ workspaceId: ws, externalId: 'n2' });

    expect(await interaction(ws, 'd1', 'd2')).toMatchObject({ canInteractWith: true, peers: { totalCount: 1, edges: [{ node: { externalId: 'd2' } }] } });
    expect((await interaction(ws, 'n1', 'n2')).canInteractWith).toBe(true); // the default directory is shared
    expect((await interaction(ws, 'd1', 's1')).canInteractWith).toBe(false);
    expect((await interaction(ws, 'd1', 'n1')).canInteractWith).toBe(false);
    expect((await interaction(ws, 'd1', 'd1')).canInteractWith).toBe(false);
    expect((await interaction(ws, 'd1', 'nobody')).canInteractWith).toBe(false);

    const space = await t.request(CreateSpace, { input: { workspaceId: ws, uid: 'deal-room' } }, token);
    const spaceId = (space.data!.createSpace as { id: string }).id;
    const members = [await endUserId(ws, 'd1'), await endUserId(ws, 's1')];
    const added = await t.request(AddMembers, { input: { spaceId, endUserIds: members } }, token);
    expect(added.data?.addSpaceMembers).toEqual({ __typename: 'Space', members: { totalCount: 2 } });
    const again = await t.request(AddMembers, { input: { spaceId, endUserIds: members } }, token);
    expect(again.data?.addSpaceMembers).toEqual({ __typename: 'Space', members: { totalCount: 2 } });
    expect((await interaction(ws, 'd1', 's1')).canInteractWith).toBe(true);
    expect((await interaction(ws, 's1', 'd1')).canInteractWith).toBe(true);
    expect((await interaction(ws, 's1', 'd2')).canInteractWith).toBe(false);

    await t.request(RemoveMembers, { input: { spaceId, endUserIds: [members[1]!] } }, token);
    expect((await interaction(ws, 'd1', 's1')).canInteractWith).toBe(false);
  });

  test('space uids follow the externalId rule and are unique; members must be of the same workspace', async () => {
    const ws = await newWorkspace();
    expect((await t.request(CreateSpace, { input: { workspaceId: ws, uid: '123' } }, token)).data?.createSpace).toMatchObject({
      code: 'VALIDATION_ERROR',
      fieldErrors: [{ path: ['input', 'uid'] }],
    });
    const space = await t.request(CreateSpace, { input: { workspaceId: ws, uid: 'room-1' } }, token);
    expect((await t.request(CreateSpace, { input: { workspaceId: ws, uid: 'room-1' } }, token)).data?.createSpace).toMatchObject({ code: 'CONFLICT' });
    const outsider = await endUserId(await newWorkspace(), 'outsider');
    const refused = await t.request(AddMembers, { input: { spaceId: (space.data!.createSpace as { id: string }).id, endUserIds: [outsider] } }, token);
    expect(refused.data?.addSpaceMembers).toMatchObject({ code: 'NOT_FOUND' });
  });

  test('syncEndUsers: 1,000 users, invalid ones reported by path, a re-run changes nothing, removeMissing deletes the rest and their connections', async () => {
    const workspaceId = await newWorkspace();
    const users = Array.from({ length: 1000 }, (_, i) => ({ externalId: `user-${i}`, displayName: `User ${i}`, directory: `team-${i % 5}` }));
    const invalidAt = [10, 500, 999];
    users[10] = { ...users[10]!, externalId: '10' };
    users[500] = { ...users[500]!, externalId: 'has space' };
    (users[999] as Record<string, unknown>).email = 'nope';

    const first = await t.request(Sync, { input: { workspaceId, users } }, token);
    const summary = first.data!.syncEndUsers as { created: number; failed: number; results: { index: number; status: string; fieldErrors: { path: string[] }[] }[] };
    expect(summary).toMatchObject({ created: 997, updated: 0, unchanged: 0, failed: 3, removed: 0 });
    for (const index of invalidAt) {
      expect(summary.results[index]).toMatchObject({ index, status: 'FAILED' });
      expect(summary.results[index]!.fieldErrors[0]!.path.slice(0, 3)).toEqual(['input', 'users', String(index)]);
    }
    expect((await t.request(EndUsers, { ws: workspaceId }, token)).data?.workspace?.endUsers.totalCount).toBe(997);

    const second = await t.request(Sync, { input: { workspaceId, users } }, token);
    expect(second.data?.syncEndUsers).toMatchObject({ created: 0, updated: 0, unchanged: 997, failed: 3, removed: 0 });

    const connectionId = await seedConnection(t, token, { scope: 'USER', workspaceId, externalId: 'user-7', integrationName: 'slack' });
    const kept = users.slice(0, 5).filter((_, i) => i !== 3).map((u) => ({ externalId: u.externalId }));
    const third = await t.request(Sync, { input: { workspaceId, users: kept, removeMissing: true } }, token);
    expect(third.data?.syncEndUsers).toMatchObject({ unchanged: 4, removed: 993 });
    expect((await t.request(EndUsers, { ws: workspaceId }, token)).data?.workspace?.endUsers.totalCount).toBe(4);
    expect((await t.request(NodeById, { id: connectionId }, token)).data?.node).toBeNull();
  });

  test('more than 1,000 users is a ValidationError and writes nothing', async () => {
    const workspaceId = await newWorkspace();
    const users = Array.from({ length: 1001 }, (_, i) => ({ externalId: `u${i}` }));
    const result = await t.request(Sync, { input: { workspaceId, users } }, token);
    expect(result.data?.syncEndUsers).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'users'] }] });
    expect((await t.request(EndUsers, { ws: workspaceId }, token)).data?.workspace?.endUsers.totalCount).toBe(0);
  });

  test('end users can be searched; deleting one deletes its connections', async () => {
    const workspaceId = await newWorkspace();
    await upsert({ workspaceId, externalId: 'carol', displayName: 'Carol Danvers', email: 'carol@marvel.example' });
    await upsert({ workspaceId, externalId: 'dave', displayName: 'Dave' });
    const found = await t.request(EndUsers, { ws: workspaceId, search: 'DANV' }, token);
    expect(found.data?.workspace?.endUsers.edges.map((e) => e.node.externalId)).toEqual(['carol']);

    const connectionId = await seedConnection(t, token, { scope: 'USER', workspaceId, externalId: 'dave', integrationName: 'slack' });
    const deleted = await t.request(DeleteEndUser, { input: { id: await endUserId(workspaceId, 'dave') } }, token);
    expect(deleted.data?.deleteEndUser.__typename).toBe('Deleted');
    expect((await t.request(NodeById, { id: connectionId }, token)).data?.node).toBeNull();
  });

  test("another tenant's end users, directories and spaces are NOT_FOUND", async () => {
    const workspaceId = await newWorkspace();
    const user = await endUserId(workspaceId, 'private-user');
    const space = await t.request(CreateSpace, { input: { workspaceId, uid: 'private-space' } }, token);
    const spaceId = (space.data!.createSpace as { id: string }).id;
    const stranger = await t.memberToken('eu-stranger@example.com');
    expect((await t.request(NodeById, { id: user }, stranger)).data?.node).toBeNull();
    expect((await t.request(DeleteEndUser, { input: { id: user } }, stranger)).data?.deleteEndUser).toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.request(AddMembers, { input: { spaceId, endUserIds: [user] } }, stranger)).data?.addSpaceMembers).toMatchObject({ code: 'NOT_FOUND' });
    const upsertForeign = await t.request(Upsert, { input: { workspaceId, externalId: 'intruder' } }, stranger);
    expect(upsertForeign.data?.upsertEndUser).toMatchObject({ code: 'NOT_FOUND' });
  });
});
