// Directories and spaces, and the interaction rule they define: two end users
// can interact when they share a directory (no directory = the workspace's
// default one) or are both members of at least one common space.
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { describeEachBackend } from '../support/backends.js';
import type { TestApp } from '../support/app.js';
import { missingId, seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { describeWorld, test as world, type Tenant } from '../support/world.js';

const CreateDirectory = graphql(`
  mutation DsCreateDirectory($input: CreateDirectoryInput!) {
    createDirectory(input: $input) {
      __typename
      ... on Directory { id name }
      ...ErrorFields
      ... on ConflictError { path }
      ... on NotFoundError { path }
    }
  }
`);
const RenameDirectory = graphql(`
  mutation DsRenameDirectory($input: RenameDirectoryInput!) {
    renameDirectory(input: $input) {
      __typename
      ... on Directory { id name }
      ...ErrorFields
      ... on ConflictError { path }
      ... on NotFoundError { path }
    }
  }
`);
const DeleteDirectory = graphql(`
  mutation DsDeleteDirectory($input: DeleteDirectoryInput!) {
    deleteDirectory(input: $input) { __typename ... on Deleted { id } ...ErrorFields ... on NotFoundError { path } }
  }
`);
const Upsert = graphql(`
  mutation DsUpsert($input: UpsertEndUserInput!) {
    upsertEndUser(input: $input) { __typename ... on EndUser { id externalId } ...ErrorFields }
  }
`);
const SetDirectory = graphql(`
  mutation DsSetDirectory($input: SetEndUserDirectoryInput!) {
    setEndUserDirectory(input: $input) {
      __typename
      ... on EndUser { directory { name } }
      ...ErrorFields
      ... on NotFoundError { path }
    }
  }
`);
const Directory = graphql(`
  query DsDirectory($id: ID!) {
    node(id: $id) { ... on Directory { name endUsers(first: 20) { totalCount edges { node { externalId } } } } }
  }
`);
const CreateSpace = graphql(`
  mutation DsCreateSpace($input: CreateSpaceInput!) {
    createSpace(input: $input) {
      __typename
      ... on Space { id uid name }
      ...ErrorFields
      ... on ConflictError { path }
      ... on NotFoundError { path }
    }
  }
`);
const UpdateSpace = graphql(`
  mutation DsUpdateSpace($input: UpdateSpaceInput!) {
    updateSpace(input: $input) {
      __typename
      ... on Space { uid name }
      ...ErrorFields
      ... on NotFoundError { path }
    }
  }
`);
const DeleteSpace = graphql(`
  mutation DsDeleteSpace($input: DeleteSpaceInput!) {
    deleteSpace(input: $input) { __typename ... on Deleted { id } ...ErrorFields ... on NotFoundError { path } }
  }
`);
const AddMembers = graphql(`
  mutation DsAddMembers($input: SpaceMembersInput!) {
    addSpaceMembers(input: $input) {
      __typename
      ... on Space { members(first: 20) { totalCount edges { node { externalId } } } }
      ...ErrorFields
      ... on NotFoundError { path }
    }
  }
`);
const RemoveMembers = graphql(`
  mutation DsRemoveMembers($input: SpaceMembersInput!) {
    removeSpaceMembers(input: $input) {
      __typename
      ... on Space { members(first: 20) { totalCount edges { node { externalId } } } }
      ...ErrorFields
      ... on NotFoundError { path }
    }
  }
`);
const WorkspaceLists = graphql(`
  query DsWorkspaceLists($ws: ID!) {
    workspace(id: $ws) {
      directories(first: 20) { totalCount edges { node { name } } }
      spaces(first: 20) { totalCount edges { node { uid name members(first: 20) { totalCount edges { node { externalId } } } } } }
    }
  }
`);
const Interaction = graphql(`
  query DsInteraction($ws: ID!, $externalId: String!, $other: String!) {
    workspace(id: $ws) {
      endUser(externalId: $externalId) {
        canInteractWith(externalId: $other)
        peers(first: 50) { totalCount edges { node { externalId } } }
        spaces(first: 10) { totalCount edges { node { uid } } }
      }
    }
  }
`);
const MembersPage = graphql(`
  query DsMembersPage($id: ID!, $after: String) {
    node(id: $id) {
      ... on Space { members(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { externalId } } } }
    }
  }
`);
const Nested = graphql(`
  query DsNested($ws: ID!) {
    workspace(id: $ws) {
      spaces(first: 20) {
        edges {
          node {
            uid
            members(first: 20) {
              totalCount
              edges { node { externalId directory { name } spaces(first: 20) { totalCount edges { node { uid } } } } }
            }
          }
        }
      }
      directories(first: 20) { edges { node { name endUsers(first: 20) { totalCount edges { node { externalId } } } } } }
    }
  }
`);
const NodeById = graphql(`
  query DsNode($id: ID!) { node(id: $id) { __typename id } }
`);
const CreateApiKey = graphql(`
  mutation DsCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { __typename ... on CreatedApiKey { plainKey } ...ErrorFields }
  }
`);
const IssueToken = graphql(`
  mutation DsIssueToken($input: IssueEndUserTokenInput!) {
    issueEndUserToken(input: $input) { __typename ... on EndUserToken { token } ...ErrorFields }
  }
`);
const AsEndUser = graphql(`
  query DsAsEndUser($ws: ID!) {
    viewer {
      endUser {
        externalId
        peers(first: 20) { edges { node { externalId peers(first: 20) { edges { node { externalId } } } } } }
        spaces(first: 10) { totalCount }
      }
    }
    workspace(id: $ws) { id }
  }
`);

describeEachBackend('directories, spaces and who can interact', (_backend, test) => {
  // The helpers below act as the tenant's owner.
  let t: TestApp;
  let owner: string;
  let orgId: string;
  test.beforeAll(({ t: app, tenant }) => {
    t = app;
    ({ token: owner, organizationId: orgId } = tenant);
  });

  let workspaces = 0;
  const newWorkspace = () => seedWorkspace(t, owner, orgId, `ds-${++workspaces}`);
  const createDirectory = async (workspaceId: string, name: string, token = owner) =>
    (await t.request(CreateDirectory, { input: { workspaceId, name } }, token)).data!.createDirectory;
  const createSpace = async (workspaceId: string, uid: string, name?: string) =>
    (await t.request(CreateSpace, { input: { workspaceId, uid, name } }, owner)).data!.createSpace;
  const idOf = (result: { __typename: string; id?: string }) => {
    if (!result.id) throw new Error(`expected an object, got ${JSON.stringify(result)}`);
    return result.id;
  };
  async function endUser(workspaceId: string, externalId: string, directory?: string | null, token = owner): Promise<string> {
    const input = { workspaceId, externalId, ...(directory === undefined ? {} : { directory }) };
    return idOf((await t.request(Upsert, { input }, token)).data!.upsertEndUser);
  }
  const setDirectory = async (endUserId: string, directoryId: string | null, token = owner) =>
    (await t.request(SetDirectory, { input: { endUserId, directoryId } }, token)).data!.setEndUserDirectory;
  const addMembers = async (spaceId: string, endUserIds: string[], token = owner) =>
    (await t.request(AddMembers, { input: { spaceId, endUserIds } }, token)).data!.addSpaceMembers;
  const removeMembers = async (spaceId: string, endUserIds: string[]) =>
    (await t.request(RemoveMembers, { input: { spaceId, endUserIds } }, owner)).data!.removeSpaceMembers;
  const lists = async (ws: string) => (await t.request(WorkspaceLists, { ws }, owner)).data!.workspace!;
  const interaction = async (ws: string, externalId: string, other: string) =>
    (await t.request(Interaction, { ws, externalId, other }, owner)).data!.workspace!.endUser!;
  const canInteract = async (ws: string, a: string, b: string) => (await interaction(ws, a, b)).canInteractWith;
  const directoryMembers = async (directoryId: string) => {
    const node = (await t.request(Directory, { id: directoryId }, owner)).data!.node;
    if (!node || !('endUsers' in node)) throw new Error(`no directory ${directoryId}`);
    return node.endUsers.edges.map((e) => e.node.externalId).sort();
  };
  const peersOf = async (ws: string, externalId: string) =>
    (await interaction(ws, externalId, externalId)).peers.edges.map((e) => e.node.externalId).sort();

  describe('directory names follow the externalId rule', () => {
    test.each([
      ['u256', true],
      ['acme-corp', true],
      ['x'.repeat(256), true],
      ['256', false],
      ['a b', false],
      ['', false],
      ['x'.repeat(257), false],
    ])('%j is accepted: %s', async (name, accepted) => {
      const workspaceId = await newWorkspace();
      const created = await createDirectory(workspaceId, name);
      if (accepted) expect(created).toMatchObject({ __typename: 'Directory', name });
      else expect(created).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'name'] }] });
      expect((await lists(workspaceId)).directories.totalCount).toBe(accepted ? 1 : 0);
    });
  });

  test('directory names are unique per workspace: CONFLICT on create and rename, fine in another workspace', async () => {
    const workspaceId = await newWorkspace();
    await createDirectory(workspaceId, 'acme');
    const other = idOf(await createDirectory(workspaceId, 'globex'));
    expect(await createDirectory(workspaceId, 'acme')).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', path: ['input', 'name'] });
    const rename = async (name: string) => (await t.request(RenameDirectory, { input: { id: other, name } }, owner)).data!.renameDirectory;
    expect(await rename('acme')).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', path: ['input', 'name'] });
    expect(await rename('4 2')).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'name'] }] });
    expect(await rename('initech')).toEqual({ __typename: 'Directory', id: other, name: 'initech' });
    expect((await lists(workspaceId)).directories.edges.map((e) => e.node.name)).toEqual(['acme', 'initech']);
    expect(await createDirectory(await newWorkspace(), 'acme')).toMatchObject({ __typename: 'Directory', name: 'acme' });
  });

  test('an end user is in one directory at most: moving replaces the old one; null is the default directory', async () => {
    const ws = await newWorkspace();
    const first = idOf(await createDirectory(ws, 'first'));
    const second = idOf(await createDirectory(ws, 'second'));
    const mover = await endUser(ws, 'mover', 'first');
    await endUser(ws, 'stayer', 'first');
    await endUser(ws, 'loner');
    expect(await directoryMembers(first)).toEqual(['mover', 'stayer']);

    expect(await setDirectory(mover, second)).toEqual({ __typename: 'EndUser', directory: { name: 'second' } });
    expect(await directoryMembers(first)).toEqual(['stayer']);
    expect(await directoryMembers(second)).toEqual(['mover']);
    expect(await peersOf(ws, 'stayer')).toEqual([]);

    expect(await setDirectory(mover, null)).toEqual({ __typename: 'EndUser', directory: null });
    expect(await directoryMembers(second)).toEqual([]);
    expect(await peersOf(ws, 'mover')).toEqual(['loner']);
  });

  test("setEndUserDirectory: another workspace's directory is NOT_FOUND on input.directoryId", async () => {
    const ws = await newWorkspace();
    const home = idOf(await createDirectory(ws, 'home'));
    const user = await endUser(ws, 'pat', 'home');
    const foreign = idOf(await createDirectory(await newWorkspace(), 'away'));
    expect(await setDirectory(user, foreign)).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'directoryId'] });
    expect(await setDirectory(user, foreign)).toEqual(await setDirectory(user, missingId('Directory')));
    expect(await setDirectory(user, 'garbage')).toEqual(await setDirectory(user, missingId('Directory')));
    expect(await directoryMembers(home)).toEqual(['pat']);
    expect(await directoryMembers(foreign)).toEqual([]);
  });

  test("deleting a directory moves its end users to the default directory and deletes its DIRECTORY connections", async () => {
    const ws = await newWorkspace();
    const doomed = idOf(await createDirectory(ws, 'doomed'));
    await endUser(ws, 'ann', 'doomed');
    await endUser(ws, 'ben', 'doomed');
    await endUser(ws, 'cal');
    await endUser(ws, 'dee', 'kept');
    const connection = await seedConnection(t, owner, { scope: 'DIRECTORY', directoryId: doomed, integrationName: 'slack' });
    expect(await canInteract(ws, 'ann', 'cal')).toBe(false);

    const deleted = await t.request(DeleteDirectory, { input: { id: doomed } }, owner);
    expect(deleted.data?.deleteDirectory).toEqual({ __typename: 'Deleted', id: doomed });
    expect((await t.request(NodeById, { id: doomed }, owner)).data?.node).toBeNull();
    expect((await t.request(NodeById, { id: connection }, owner)).data?.node).toBeNull();
    expect(await canInteract(ws, 'ann', 'cal')).toBe(true);
    expect(await peersOf(ws, 'ann')).toEqual(['ben', 'cal']);
    expect(await peersOf(ws, 'dee')).toEqual([]);
    expect((await lists(ws)).directories.edges.map((e) => e.node.name)).toEqual(['kept']);
    expect((await t.request(DeleteDirectory, { input: { id: doomed } }, owner)).data?.deleteDirectory).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'id'] });
  });

  describe('space uids follow the externalId rule', () => {
    test.each([
      ['u256', true],
      ['deal-room', true],
      ['x'.repeat(256), true],
      ['256', false],
      ['a b', false],
      ['', false],
      ['x'.repeat(257), false],
    ])('%j is accepted: %s', async (uid, accepted) => {
      const workspaceId = await newWorkspace();
      const created = await createSpace(workspaceId, uid);
      if (accepted) expect(created).toMatchObject({ __typename: 'Space', uid, name: null });
      else expect(created).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'uid'] }] });
      expect((await lists(workspaceId)).spaces.totalCount).toBe(accepted ? 1 : 0);
    });
  });

  test('space uids are unique per workspace; updateSpace changes the name only when given; deleteSpace', async () => {
    const ws = await newWorkspace();
    const space = idOf(await createSpace(ws, 'room-1', 'Room one'));
    expect(await createSpace(ws, 'room-1')).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', path: ['input', 'uid'] });
    expect(await createSpace(await newWorkspace(), 'room-1')).toMatchObject({ __typename: 'Space' });

    const update = async (input: { name?: string | null }) => (await t.request(UpdateSpace, { input: { id: space, ...input } }, owner)).data!.updateSpace;
    expect(await update({ name: 'Board room' })).toEqual({ __typename: 'Space', uid: 'room-1', name: 'Board room' });
    expect(await update({})).toEqual({ __typename: 'Space', uid: 'room-1', name: 'Board room' });
    expect(await update({ name: '' })).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'name'] }] });
    expect(await update({ name: null })).toEqual({ __typename: 'Space', uid: 'room-1', name: null });

    const deleted = await t.request(DeleteSpace, { input: { id: space } }, owner);
    expect(deleted.data?.deleteSpace).toEqual({ __typename: 'Deleted', id: space });
    expect((await lists(ws)).spaces.totalCount).toBe(0);
    expect((await t.request(DeleteSpace, { input: { id: space } }, owner)).data?.deleteSpace).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'id'] });
  });

  test('space members come from any directory of the same workspace; adding twice is a no-op; others are NOT_FOUND by index', async () => {
    const ws = await newWorkspace();
    const space = idOf(await createSpace(ws, 'deal-room'));
    const north = await endUser(ws, 'north-1', 'north');
    const south = await endUser(ws, 'south-1', 'south');
    const plain = await endUser(ws, 'plain-1');
    const outsider = await endUser(await newWorkspace(), 'outsider');

    const added = await addMembers(space, [north, south]);
    expect(added).toMatchObject({ __typename: 'Space', members: { totalCount: 2 } });
    expect(await addMembers(space, [south, north, south, plain])).toMatchObject({ members: { totalCount: 3 } });

    expect(await addMembers(space, [plain, outsider])).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'endUserIds', '1'] });
    expect(await addMembers(space, [missingId('EndUser')])).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'endUserIds', '0'] });
    expect(await addMembers(space, ['not-an-id'])).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'endUserIds', '0'] });
    expect(await removeMembers(space, [north, outsider])).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'endUserIds', '1'] });

    const removed = await removeMembers(space, [north, north]);
    expect(removed).toMatchObject({ __typename: 'Space', members: { totalCount: 2 } });
    expect((removed as { members: { edges: { node: { externalId: string } }[] } }).members.edges.map((e) => e.node.externalId).sort()).toEqual([
      'plain-1',
      'south-1',
    ]);
    expect((await interaction(ws, 'south-1', 'x')).spaces).toEqual({ totalCount: 1, edges: [{ node: { uid: 'deal-room' } }] });
    expect((await interaction(ws, 'north-1', 'x')).spaces).toEqual({ totalCount: 0, edges: [] });
  });

  test('space members page by cursor', async () => {
    const ws = await newWorkspace();
    const space = idOf(await createSpace(ws, 'big-room'));
    const names = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e'];
    await addMembers(space, await Promise.all(names.map((name) => endUser(ws, name))));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const node = (await t.request(MembersPage, { id: space, after }, owner)).data!.node;
      if (!node || !('members' in node)) throw new Error('no space');
      expect(node.members.totalCount).toBe(5);
      seen.push(...node.members.edges.map((e) => e.node.externalId));
      if (!node.members.pageInfo.hasNextPage) break;
      after = node.members.pageInfo.endCursor!;
    }
    expect(seen.sort()).toEqual(names);
  });

  test('same directory, or both in the default directory: can interact; different directories: cannot; nobody is their own peer', async () => {
    const ws = await newWorkspace();
    await endUser(ws, 'd1', 'north');
    await endUser(ws, 'd2', 'north');
    await endUser(ws, 's1', 'south');
    await endUser(ws, 'n1');
    await endUser(ws, 'n2');

    expect(await canInteract(ws, 'd1', 'd2')).toBe(true);
    expect(await canInteract(ws, 'n1', 'n2')).toBe(true);
    expect(await canInteract(ws, 'd1', 's1')).toBe(false);
    expect(await canInteract(ws, 'd1', 'n1')).toBe(false);
    expect(await canInteract(ws, 'd1', 'd1')).toBe(false);
    expect(await canInteract(ws, 'd1', 'nobody')).toBe(false);
    expect(await peersOf(ws, 'd1')).toEqual(['d2']);
    expect(await peersOf(ws, 'n1')).toEqual(['n2']);
    expect(await peersOf(ws, 's1')).toEqual([]);
    expect((await interaction(ws, 'd1', 'x')).peers.totalCount).toBe(1);

    // Same directory name in another workspace is another directory.
    const elsewhere = await newWorkspace();
    await endUser(elsewhere, 'd3', 'north');
    expect(await canInteract(ws, 'd1', 'd3')).toBe(false);
  });

  test('a common space lets end users of different directories interact, until one of them leaves', async () => {
    const ws = await newWorkspace();
    const d1 = await endUser(ws, 'd1', 'north');
    await endUser(ws, 'd2', 'north');
    const s1 = await endUser(ws, 's1', 'south');
    const n1 = await endUser(ws, 'n1');
    expect(await canInteract(ws, 'd1', 's1')).toBe(false);

    const room = idOf(await createSpace(ws, 'deal-room'));
    const lobby = idOf(await createSpace(ws, 'lobby'));
    await addMembers(room, [d1, s1]);
    expect(await canInteract(ws, 'd1', 's1')).toBe(true);
    expect(await canInteract(ws, 's1', 'd1')).toBe(true);
    expect(await canInteract(ws, 's1', 'd2')).toBe(false); // d2 shares d1's directory, not a space with s1
    expect(await peersOf(ws, 'd1')).toEqual(['d2', 's1']);
    expect(await peersOf(ws, 's1')).toEqual(['d1']);

    // Two common spaces: still one peer, and leaving one of them keeps the other.
    await addMembers(lobby, [d1, s1, n1]);
    expect((await interaction(ws, 's1', 'x')).peers.totalCount).toBe(2);
    await removeMembers(lobby, [s1]);
    expect(await canInteract(ws, 'd1', 's1')).toBe(true);

    await removeMembers(room, [s1]);
    expect(await canInteract(ws, 'd1', 's1')).toBe(false);
    expect(await canInteract(ws, 's1', 'd1')).toBe(false);
    expect(await canInteract(ws, 'd1', 'n1')).toBe(true); // still together in the lobby

    await t.request(DeleteSpace, { input: { id: lobby } }, owner);
    expect(await canInteract(ws, 'd1', 'n1')).toBe(false);
  });

  test('an end-user token sees itself and its peers only, however it navigates', async () => {
    const ws = await newWorkspace();
    const eve = await endUser(ws, 'eve', 'team-a');
    const frank = await endUser(ws, 'frank', 'team-b');
    await endUser(ws, 'grace', 'team-b'); // frank's peer, not eve's
    const room = idOf(await createSpace(ws, 'eve-and-frank'));
    await addMembers(room, [eve, frank]);

    const key = (await t.request(CreateApiKey, { input: { organizationId: orgId, name: 'ds issuer' } }, owner)).data!.createApiKey;
    if (key.__typename !== 'CreatedApiKey') throw new Error(JSON.stringify(key));
    const issued = (await t.request(IssueToken, { input: { workspaceId: ws, externalId: 'eve' } }, key.plainKey)).data!.issueEndUserToken;
    if (issued.__typename !== 'EndUserToken') throw new Error(JSON.stringify(issued));

    const seen = (await t.request(AsEndUser, { ws }, issued.token)).data!;
    expect(seen.viewer.endUser).toEqual({
      externalId: 'eve',
      // frank's own peers are eve and grace; eve may only see herself among them.
      peers: { edges: [{ node: { externalId: 'frank', peers: { edges: [{ node: { externalId: 'eve' } }] } } }] },
      spaces: { totalCount: 0 },
    });
    expect(seen.workspace).toBeNull();
  });

  test("another tenant's directory, space and workspace ids answer exactly like ids that do not exist", async () => {
    const ws = await newWorkspace();
    const directory = idOf(await createDirectory(ws, 'private-dir'));
    const space = idOf(await createSpace(ws, 'private-space'));
    const user = await endUser(ws, 'private-user');
    const stranger = await t.memberToken('ds-stranger@example.com');
    const strangersWs = await seedWorkspace(t, stranger, await seedOrganization(t, stranger, 'ds-stranger'), 'mine');
    const strangersUser = await endUser(strangersWs, 'own-user', undefined, stranger);

    const as = (token: string) => ({
      createDirectory: (workspaceId: string) => createDirectory(workspaceId, 'intruders', token),
      rename: async (id: string) => (await t.request(RenameDirectory, { input: { id, name: 'taken-over' } }, token)).data?.renameDirectory,
      deleteDirectory: async (id: string) => (await t.request(DeleteDirectory, { input: { id } }, token)).data?.deleteDirectory,
      createSpace: async (workspaceId: string) => (await t.request(CreateSpace, { input: { workspaceId, uid: 'intruders' } }, token)).data?.createSpace,
      updateSpace: async (id: string) => (await t.request(UpdateSpace, { input: { id, name: 'Mine now' } }, token)).data?.updateSpace,
      deleteSpace: async (id: string) => (await t.request(DeleteSpace, { input: { id } }, token)).data?.deleteSpace,
      join: (spaceId: string, endUserId: string) => addMembers(spaceId, [endUserId], token),
      move: (endUserId: string, directoryId: string) => setDirectory(endUserId, directoryId, token),
      node: async (id: string) => (await t.request(NodeById, { id }, token)).data?.node,
    });
    const s = as(stranger);
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>, string[]][] = [
      ['createDirectory', () => s.createDirectory(ws), () => s.createDirectory(missingId('Workspace')), ['input', 'workspaceId']],
      ['renameDirectory', () => s.rename(directory), () => s.rename(missingId('Directory')), ['input', 'id']],
      ['deleteDirectory', () => s.deleteDirectory(directory), () => s.deleteDirectory(missingId('Directory')), ['input', 'id']],
      ['createSpace', () => s.createSpace(ws), () => s.createSpace(missingId('Workspace')), ['input', 'workspaceId']],
      ['updateSpace', () => s.updateSpace(space), () => s.updateSpace(missingId('Space')), ['input', 'id']],
      ['deleteSpace', () => s.deleteSpace(space), () => s.deleteSpace(missingId('Space')), ['input', 'id']],
      ['addSpaceMembers', () => s.join(space, strangersUser), () => s.join(missingId('Space'), strangersUser), ['input', 'spaceId']],
      ['setEndUserDirectory', () => s.move(strangersUser, directory), () => s.move(strangersUser, missingId('Directory')), ['input', 'directoryId']],
    ];
    for (const [name, foreign, missing, path] of cases) {
      const answer = await foreign();
      expect(answer, name).toEqual(await missing());
      expect(answer, name).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND', path });
    }
    // The owner's own end user cannot be pulled into the stranger's space either.
    const strangersSpace = idOf((await t.request(CreateSpace, { input: { workspaceId: strangersWs, uid: 'theirs' } }, stranger)).data!.createSpace);
    expect(await s.join(strangersSpace, user)).toEqual(await s.join(strangersSpace, missingId('EndUser')));
    for (const id of [directory, space, user]) expect(await s.node(id)).toBeNull();

    // Nothing changed for the owner.
    const after = await lists(ws);
    expect(after.directories.edges.map((e) => e.node.name)).toEqual(['private-dir']);
    expect(after.spaces.edges).toEqual([{ node: { uid: 'private-space', name: null, members: { totalCount: 0, edges: [] } } }]);
  });
});

let statements = 0;
const costTest = world.extend('appOptions', { scope: 'file' }, { onQuery: () => void statements++ });

describeWorld('membership and directory lists cost', (test) => {

  /** A workspace with `size` spaces and directories, each with `size` members. */
  async function workspaceOfSize(t: TestApp, { token, organizationId: orgId }: Tenant, size: number): Promise<string> {
    const ws = await seedWorkspace(t, token, orgId, `size-${size}`);
    for (let s = 0; s < size; s++) {
      const space = (await t.request(CreateSpace, { input: { workspaceId: ws, uid: `space-${s}` } }, token)).data!.createSpace as { id: string };
      const members: string[] = [];
      for (let u = 0; u < size; u++) {
        const input = { workspaceId: ws, externalId: `user-${s}-${u}`, directory: `dir-${s}` };
        members.push(((await t.request(Upsert, { input }, token)).data!.upsertEndUser as { id: string }).id);
      }
      await t.request(AddMembers, { input: { spaceId: space.id, endUserIds: members } }, token);
    }
    return ws;
  }

  test('spaces → members → their directory and spaces, and directories → end users: statements do not grow with the data', async ({ t, tenant }) => {
    const counts: number[] = [];
    for (const size of [2, 6]) {
      const ws = await workspaceOfSize(t, tenant, size);
      statements = 0;
      const result = await t.request(Nested, { ws }, tenant.token);
      expect(result.errors).toBeUndefined();
      const spaces = result.data!.workspace!.spaces.edges;
      expect(spaces).toHaveLength(size);
      expect(spaces.every((s) => s.node.members.totalCount === size && s.node.members.edges[0]!.node.spaces.totalCount === 1)).toBe(true);
      counts.push(statements);
    }
    expect(counts[1]).toBe(counts[0]);
  });
}, costTest);
