// Concurrency (issue #23 item 3): 50 concurrent identical calls of a create,
// upsert or delete have exactly one winner; the others get a defined answer
// (the existing row, UPDATED/UNCHANGED, CONFLICT or NOT_FOUND), never an
// internal error, and the last committed write is whole. PostgreSQL only:
// PGlite runs one statement at a time, so nothing races there.
import { expect } from 'vitest';
import type { TestApp } from '../support/app.js';
import { describeEachBackend, ALL_BACKENDS } from '../support/backends.js';
import { ERROR_SELECTION } from '../support/errors.js';

const CALLS = 50;

describeEachBackend(
  'concurrent identical mutations have one winner',
  (_backend, test) => {
    let t: TestApp;
    let owner: string;
    let orgId: string;
    let workspaceId: string;
    let apiKey: string;
    let counter = 0;
    const fresh = (prefix: string) => `${prefix}-${++counter}`;

    /** What a call answered: the result's typename, or the code of a top-level error. */
    type Answer = { kind: string; row: Record<string, any> };
    async function run(name: string, inputType: string, input: (i: number) => Record<string, unknown>, select = '', token = owner) {
      const query = `mutation($input: ${inputType}!) { r: ${name}(input: $input) { __typename ${ERROR_SELECTION} ${select} } }`;
      const results = await Promise.all(Array.from({ length: CALLS }, (_, i) => t.requestRaw<{ r: Record<string, any> }>(query, { input: input(i) }, token)));
      return results.map((result): Answer => ({
        kind: result.errors?.length ? `error ${String(result.errors[0]!.extensions?.code)}` : result.data!.r.__typename,
        row: result.data?.r ?? {},
      }));
    }
    const tally = (answers: Answer[]) => answers.reduce<Record<string, number>>((counts, a) => ({ ...counts, [a.kind]: (counts[a.kind] ?? 0) + 1 }), {});

    async function make(name: string, inputType: string, input: Record<string, unknown>, token = owner): Promise<string> {
      const result = await t.requestRaw<{ r: { id?: string } }>(
        `mutation($input: ${inputType}!) { r: ${name}(input: $input) { __typename ... on Node { id } ${ERROR_SELECTION} } }`,
        { input },
        token,
      );
      const id = result.data?.r.id;
      if (!id) throw new Error(`${name}: ${JSON.stringify(result)}`);
      return id;
    }

    test.beforeAll(async ({ t: app, tenant, workspaceId: ws, apiKey: key }) => {
      [t, owner, orgId, workspaceId, apiKey] = [app, tenant.token, tenant.organizationId, ws, key];
    });

    const makeConnection = () =>
      make('createConnection', 'CreateConnectionInput', {
        scope: 'WORKSPACE', workspaceId, type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'c', credentials: { apiKey: 'k' },
      });
    const deletes: [string, string, () => Promise<string>][] = [
      ['deleteWorkspace', 'DeleteWorkspaceInput', () => make('createWorkspace', 'CreateWorkspaceInput', { organizationId: orgId, name: 'W', slug: fresh('ws') })],
      ['deleteConnection', 'DeleteConnectionInput', makeConnection],
      ['removeWorkspaceIntegration', 'RemoveWorkspaceIntegrationInput', () =>
        make('addWorkspaceIntegration', 'AddWorkspaceIntegrationInput', { workspaceId, integrationName: 'slack', alias: fresh('slack'), connectionStrategy: 'PER_USER' })],
      ['deleteMcpServer', 'DeleteMcpServerInput', async () => {
        const created = await t.requestRaw<{ r: { server: { id: string } } }>(
          `mutation($input: CreateMcpServerInput!) { r: createMcpServer(input: $input) { ... on McpServerWithToken { server { id } } } }`,
          { input: { workspaceId, name: fresh('mcp') } },
          owner,
        );
        return created.data!.r.server.id;
      }],
      ['deleteTrigger', 'DeleteTriggerInput', () =>
        make('createTrigger', 'CreateTriggerInput', { workspaceId, integrationName: 'slack', eventName: 'new_message', callbackUrl: 'https://hooks.example.com/x' })],
      ['deleteDirectory', 'DeleteDirectoryInput', () => make('createDirectory', 'CreateDirectoryInput', { workspaceId, name: fresh('dir') })],
      ['deleteEndUser', 'DeleteEndUserInput', () => make('upsertEndUser', 'UpsertEndUserInput', { workspaceId, externalId: fresh('user') })],
      ['deleteSpace', 'DeleteSpaceInput', () => make('createSpace', 'CreateSpaceInput', { workspaceId, uid: fresh('space') })],
      ['deleteOAuthApp', 'DeleteOAuthAppInput', () =>
        make('setOAuthApp', 'SetOAuthAppInput', { organizationId: orgId, integrationName: 'github', clientId: 'c', clientSecret: 's' })],
      ['removeMember', 'RemoveMemberInput', async () => {
        const email = `${fresh('member')}@example.com`;
        const invite = await make('inviteMember', 'InviteMemberInput', { organizationId: orgId, email, role: 'MEMBER' });
        return make('acceptInvite', 'AcceptInviteInput', { id: invite }, await t.memberToken(email));
      }],
      ['deleteOrganization', 'DeleteOrganizationInput', () => make('createOrganization', 'CreateOrganizationInput', { name: 'Gone', slug: fresh('gone') })],
    ];

    test.each(deletes)('%s: one Deleted, the rest NOT_FOUND', async (name, inputType, target) => {
      const id = await target();
      const answers = await run(name, inputType, () => ({ id }), '... on Deleted { id }');
      expect(tally(answers)).toEqual({ Deleted: 1, NotFoundError: CALLS - 1 });
    });

    test('createWorkspace, createDirectory, createSpace and addWorkspaceIntegration with one key: one created, the rest CONFLICT', async () => {
      const slug = fresh('same');
      expect(tally(await run('createWorkspace', 'CreateWorkspaceInput', () => ({ organizationId: orgId, name: 'Same', slug })))).toEqual({
        Workspace: 1,
        ConflictError: CALLS - 1,
      });
      expect(tally(await run('createDirectory', 'CreateDirectoryInput', () => ({ workspaceId, name: slug })))).toEqual({ Directory: 1, ConflictError: CALLS - 1 });
      expect(tally(await run('createSpace', 'CreateSpaceInput', () => ({ workspaceId, uid: slug })))).toEqual({ Space: 1, ConflictError: CALLS - 1 });
      expect(
        tally(await run('addWorkspaceIntegration', 'AddWorkspaceIntegrationInput', () => ({ workspaceId, integrationName: 'slack', alias: slug, connectionStrategy: 'PER_USER' }))),
      ).toEqual({ WorkspaceIntegration: 1, AliasConflictError: CALLS - 1 });
      expect(tally(await run('createOrganization', 'CreateOrganizationInput', () => ({ name: 'Same', slug })))).toEqual({
        Organization: 1,
        ConflictError: CALLS - 1,
      });
    });

    test("inviteMember and acceptInvite (the invitee's first requests): one invite, one membership, the rest CONFLICT", async () => {
      const email = `${fresh('invitee')}@example.com`;
      const invites = await run('inviteMember', 'InviteMemberInput', () => ({ organizationId: orgId, email, role: 'MEMBER' }), '... on Invite { id }');
      expect(tally(invites)).toEqual({ Invite: 1, ConflictError: CALLS - 1 });
      const invite = invites.find((a) => a.kind === 'Invite')!.row.id as string;
      const accepted = await run('acceptInvite', 'AcceptInviteInput', () => ({ id: invite }), '', await t.memberToken(email));
      expect(tally(accepted)).toEqual({ Member: 1, ConflictError: CALLS - 1 });
    });

    test('upsertEndUser: one end user, every call answers it, and the stored row is one call whole', async () => {
      const externalId = fresh('upserted');
      const answers = await run('upsertEndUser', 'UpsertEndUserInput', (i) => ({ workspaceId, externalId, displayName: `Name ${i}`, email: `u${i}@example.com` }), '... on EndUser { id displayName email }');
      expect(tally(answers)).toEqual({ EndUser: CALLS });
      expect(new Set(answers.map((a) => a.row.id)).size).toBe(1);
      const rows = await t.app.database.prisma.endUser.findMany({ where: { externalId } });
      expect(rows).toHaveLength(1);
      const i = Number(rows[0]!.displayName!.slice('Name '.length));
      expect(rows[0]!.email).toBe(`u${i}@example.com`);
    });

    test('syncEndUsers of one new end user: exactly one call reports it CREATED', async () => {
      const externalId = fresh('synced');
      const answers = await run('syncEndUsers', 'SyncEndUsersInput', () => ({ workspaceId, users: [{ externalId, displayName: 'Synced' }] }), '... on SyncEndUsersResult { created updated unchanged failed }');
      expect(tally(answers)).toEqual({ SyncEndUsersResult: CALLS });
      expect(answers.reduce((sum, a) => sum + a.row.created, 0)).toBe(1);
      expect(answers.reduce((sum, a) => sum + a.row.failed, 0)).toBe(0);
    });

    test('issueEndUserToken for one new externalId: one end user behind every token', async () => {
      const externalId = fresh('token-holder');
      const answers = await run('issueEndUserToken', 'IssueEndUserTokenInput', () => ({ workspaceId, externalId }), '... on EndUserToken { endUser { id } }', apiKey);
      expect(tally(answers)).toEqual({ EndUserToken: CALLS });
      expect(new Set(answers.map((a) => a.row.endUser.id)).size).toBe(1);
    });

    test('setOAuthApp: one app, every call answers it, the stored client is one call whole', async () => {
      const answers = await run(
        'setOAuthApp',
        'SetOAuthAppInput',
        (i) => ({ organizationId: orgId, integrationName: 'slack', clientId: `client-${i}`, clientSecret: `secret-${i}`, scopes: [`scope-${i}`] }),
        '... on OAuthApp { id clientId scopes }',
      );
      expect(tally(answers)).toEqual({ OAuthApp: CALLS });
      expect(new Set(answers.map((a) => a.row.id)).size).toBe(1);
      const [app] = await t.app.database.prisma.oAuthApp.findMany({ where: { organizationId: { not: undefined }, integrationName: 'slack', clientId: { startsWith: 'client-' } } });
      const i = app!.clientId.slice('client-'.length);
      expect(app!.scopes).toEqual([`scope-${i}`]);
    });

    test('createConnection has no natural key: every call creates its own connection', async () => {
      const answers = await run(
        'createConnection',
        'CreateConnectionInput',
        () => ({ scope: 'WORKSPACE', workspaceId, type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'same', credentials: { apiKey: 'k' } }),
        '... on Connection { id }',
      );
      expect(tally(answers)).toEqual({ Connection: CALLS });
      expect(new Set(answers.map((a) => a.row.id)).size).toBe(CALLS);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'postgres' && backend.pubsub === 'memory'),
);
