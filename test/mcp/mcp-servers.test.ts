// MCP servers in the graph (issue #7): create/update/rotate/delete, a token
// shown once and stored only as a hash, and tools that follow the workspace's
// integrations in every case, in the same transaction, with one
// mcpToolsChanged event per change.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { databaseText, subscribeWs, withoutAuthentication, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { catalogActions, seedMcpServer } from '../support/mcp.js';
import { test as world } from '../support/world.js';

const Server = graphql(`
  query MsServer($id: ID!) {
    node(id: $id) {
      ... on McpServer {
        name endUserAccess tokenPrefix toolsVersion endpointPath
        tools { name description inputSchema action integrationName connectionStrategy requiresEndUser integration { alias } }
      }
    }
  }
`);
const UpdateIntegration = graphql(`
  mutation MsUpdateIntegration($input: UpdateWorkspaceIntegrationInput!) {
    updateWorkspaceIntegration(input: $input) { __typename ...ErrorFields }
  }
`);
const AddIntegration = graphql(`
  mutation MsAddIntegration($input: AddWorkspaceIntegrationInput!) {
    addWorkspaceIntegration(input: $input) { __typename ...ErrorFields }
  }
`);
const RemoveIntegration = graphql(`
  mutation MsRemoveIntegration($input: RemoveWorkspaceIntegrationInput!) { removeWorkspaceIntegration(input: $input) { __typename } }
`);
const UpdateServer = graphql(`
  mutation MsUpdateServer($input: UpdateMcpServerInput!) {
    updateMcpServer(input: $input) { __typename ... on McpServer { name endUserAccess } ...ErrorFields }
  }
`);
const DeleteServer = graphql(`mutation MsDelete($input: DeleteMcpServerInput!) { deleteMcpServer(input: $input) { __typename } }`);
const ToolsChanged = graphql(`
  subscription MsToolsChanged($id: ID!, $since: Int) {
    mcpToolsChanged(mcpServerId: $id, sinceVersion: $since) { version added removed changed tools { name connectionStrategy } }
  }
`);
const ConfigChanged = graphql(`
  subscription MsConfigChanged($id: ID!, $since: Int) {
    workspaceConfigChanged(workspaceId: $id, sinceVersion: $since) { version kind mcpServer { name } }
  }
`);
const WorkspaceServers = graphql(`
  query MsWorkspaceServers($id: ID!) { workspace(id: $id) { configVersion mcpServers(first: 10) { totalCount edges { node { name } } } } }
`);

type ServerView = {
  toolsVersion: number;
  tools: { name: string; connectionStrategy: string; requiresEndUser: boolean; description: string; inputSchema: unknown }[];
};

let statements: string[] = [];
const serversTest = world.extend('appOptions', { scope: 'file' }, { onQuery: (event: { query: string }) => void statements.push(event.query) });

describeEachBackend('MCP servers', (_backend, test) => {
  let t: TestApp;
  let owner: string;
  let workspaceId: string;
  let slackConnection: string;

  const view = async (id: string): Promise<ServerView> => {
    const result = await t.request(Server, { id }, owner);
    return result.data?.node as ServerView;
  };
  const toolNames = async (id: string) => (await view(id)).tools.map((tool) => tool.name);

  test.beforeAll(async ({ t: app, tenant, workspaceId: ws }) => {
    [t, owner, workspaceId] = [app, tenant.token, ws];
    slackConnection = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
  });

  test('the token is returned once, starts with mcp_, and is stored nowhere in plaintext', async () => {
    const server = await seedMcpServer(t, owner, { workspaceId, name: 'secretive' });
    expect(server.token).toMatch(/^mcp_[A-Za-z0-9_-]{43}$/);
    const seen = (await t.request(Server, { id: server.id }, owner)).data?.node as { tokenPrefix: string; endUserAccess: string };
    expect(server.token.startsWith(seen.tokenPrefix)).toBe(true);
    expect(seen.endUserAccess).toBe('RESTRICTED');
    expect(await databaseText(t)).not.toContain(server.token.slice(seen.tokenPrefix.length));
  });

  test('tools follow the integrations in every case: add, alias change, allowedActions change, strategy change, remove', async () => {
    const ws = await seedWorkspace(t, owner, await seedOrganization(t, owner, 'follow'), 'w');
    const connection = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'slack' });
    const server = await seedMcpServer(t, owner, { workspaceId: ws });
    const slack = await catalogActions(t, 'slack');
    const events = subscribeWs(t.wsClient(owner), ToolsChanged, { id: server.id, since: 0 });
    const expectStep = async (version: number, tools: string[], diff: { added?: string[]; removed?: string[]; changed?: string[] }) => {
      const current = await view(server.id);
      expect(current.toolsVersion).toBe(version);
      expect(current.tools.map((tool) => tool.name)).toEqual([...tools].sort());
      const { data, errors } = await events.next();
      expect(errors).toBeUndefined();
      const event = data!.mcpToolsChanged;
      expect(event.version).toBe(version);
      expect(event.tools.map((tool) => tool.name)).toEqual([...tools].sort());
      expect({ added: [...event.added].sort(), removed: [...event.removed].sort(), changed: [...event.changed].sort() }).toEqual({
        added: [...(diff.added ?? [])].sort(),
        removed: [...(diff.removed ?? [])].sort(),
        changed: [...(diff.changed ?? [])].sort(),
      });
      return current;
    };
    const named = (alias: string, actions = slack) => actions.map((a) => `${alias}__${a.name}`);

    try {
      expect(await view(server.id)).toMatchObject({ toolsVersion: 0, tools: [] });

      // add
      const id = await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'slack', alias: 'chat', connectionStrategy: 'FIXED', connectionId: connection });
      const added = await expectStep(1, named('chat'), { added: named('chat') });
      const firstAction = slack[0]!;
      expect(added.tools.find((tool) => tool.name === `chat__${firstAction.name}`)).toMatchObject({
        description: firstAction.description,
        inputSchema: firstAction.inputSchema,
        connectionStrategy: 'FIXED',
        requiresEndUser: false,
      });

      // alias change: every tool renamed
      await t.request(UpdateIntegration, { input: { id, alias: 'team-chat' } }, owner);
      await expectStep(2, named('team-chat'), { added: named('team-chat'), removed: named('chat') });

      // allowedActions change: only the allowed ones remain
      const kept = slack.slice(0, 2);
      await t.request(UpdateIntegration, { input: { id, allowedActions: kept.map((a) => a.name) } }, owner);
      await expectStep(3, named('team-chat', kept), { removed: named('team-chat', slack.slice(2)) });

      // strategy change: same names, a new definition
      await t.request(UpdateIntegration, { input: { id, connectionStrategy: 'PER_USER', connectionId: null } }, owner);
      const perUser = await expectStep(4, named('team-chat', kept), { changed: named('team-chat', kept) });
      expect(perUser.tools.every((tool) => tool.connectionStrategy === 'PER_USER' && tool.requiresEndUser)).toBe(true);

      // remove
      await t.request(RemoveIntegration, { input: { id } }, owner);
      await expectStep(5, [], { removed: named('team-chat', kept) });
    } finally {
      events.stop();
    }
  });

  test("reading a server's tools with their integrations costs two statements, however many tools", async () => {
    const ws = await seedWorkspace(t, owner, await seedOrganization(t, owner, 'count'), 'w');
    const server = await seedMcpServer(t, owner, { workspaceId: ws });
    for (const [integrationName, alias] of [['slack', 'a'], ['github', 'b'], ['gmail', 'c']]) {
      await seedIntegration(t, owner, { workspaceId: ws, integrationName, alias, connectionStrategy: 'PER_USER' });
    }
    statements = [];
    const tools = (await view(server.id)).tools as unknown as { integration: { alias: string } }[];
    const counted = withoutAuthentication(statements);
    expect(tools.length).toBeGreaterThan(10);
    expect(new Set(tools.map((tool) => tool.integration.alias))).toEqual(new Set(['a', 'b', 'c']));
    // The server (node), then every tool's integration in one batch.
    expect(counted, counted.join('\n')).toHaveLength(2);
  });

  test('a change that leaves the tools as they are, or fails, does not move toolsVersion', async () => {
    const server = await seedMcpServer(t, owner, { workspaceId, name: 'steady' });
    const fallbackA = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'github' });
    const fallbackB = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'github' });
    const id = await seedIntegration(t, owner, {
      workspaceId, integrationName: 'github', alias: 'code', connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId: fallbackA,
    });
    const before = await view(server.id);
    // Another fallback connection: config changes, the tools do not.
    await t.request(UpdateIntegration, { input: { id, connectionId: fallbackB } }, owner);
    // An alias that is taken, and an action that does not exist: refused, nothing written.
    await seedIntegration(t, owner, { workspaceId, integrationName: 'slack', alias: 'taken', connectionStrategy: 'FIXED', connectionId: slackConnection });
    const afterTaken = await view(server.id);
    expect((await t.request(UpdateIntegration, { input: { id, alias: 'taken' } }, owner)).data?.updateWorkspaceIntegration).toMatchObject({ code: 'ALIAS_CONFLICT' });
    expect((await t.request(UpdateIntegration, { input: { id, allowedActions: ['no_such_action'] } }, owner)).data?.updateWorkspaceIntegration).toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    const duplicate = await t.request(AddIntegration, { input: { workspaceId, integrationName: 'slack', alias: 'code', connectionStrategy: 'PER_USER' } }, owner);
    expect(duplicate.data?.addWorkspaceIntegration).toMatchObject({ code: 'ALIAS_CONFLICT' });
    expect(afterTaken.toolsVersion).toBe(before.toolsVersion + 1);
    expect(await view(server.id)).toEqual(afterTaken);
  });

  test('a new server starts with the workspace’s current tools; server changes are config changes of the workspace', async () => {
    const ws = await seedWorkspace(t, owner, await seedOrganization(t, owner, 'config'), 'w');
    const connection = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'slack' });
    const integration = await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'slack', alias: 'chat', connectionStrategy: 'FIXED', connectionId: connection });
    const since = (await t.request(WorkspaceServers, { id: ws }, owner)).data!.workspace!.configVersion;
    const server = await seedMcpServer(t, owner, { workspaceId: ws, name: 'first' });
    expect(await toolNames(server.id)).toEqual((await catalogActions(t, 'slack')).map((a) => `chat__${a.name}`).sort());
    expect((await view(server.id)).toolsVersion).toBe(0);
    const renamed = await t.request(UpdateServer, { input: { id: server.id, name: 'renamed', endUserAccess: 'OPEN' } }, owner);
    expect(renamed.data?.updateMcpServer).toEqual({ __typename: 'McpServer', name: 'renamed', endUserAccess: 'OPEN' });
    const invalid = await t.request(UpdateServer, { input: { id: server.id, name: '' } }, owner);
    expect(invalid.data?.updateMcpServer).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'name'] }] });

    // Replayed from the outbox (the server is read when the event is delivered), then the delete live.
    const config = subscribeWs(t.wsClient(owner), ConfigChanged, { id: ws, since });
    try {
      expect((await config.next()).data?.workspaceConfigChanged).toEqual({ version: since + 1, kind: 'MCP_SERVER_ADDED', mcpServer: { name: 'renamed' } });
      expect((await config.next()).data?.workspaceConfigChanged).toEqual({ version: since + 2, kind: 'MCP_SERVER_UPDATED', mcpServer: { name: 'renamed' } });
      // A tools change, replayed to the tool subscription from version 0: once it arrives, the subscription is in place.
      await t.request(UpdateIntegration, { input: { id: integration, alias: 'talk' } }, owner);
      expect((await config.next()).data?.workspaceConfigChanged).toEqual({ version: since + 3, kind: 'INTEGRATION_UPDATED', mcpServer: null });
      const tools = subscribeWs(t.wsClient(owner), ToolsChanged, { id: server.id, since: 0 });
      expect((await tools.next()).data?.mcpToolsChanged).toMatchObject({ version: 1 });
      const ended = tools.next().then(
        () => 'an event',
        (errors: unknown) => errors,
      );
      await t.request(DeleteServer, { input: { id: server.id } }, owner);
      expect((await config.next()).data?.workspaceConfigChanged).toEqual({ version: since + 4, kind: 'MCP_SERVER_REMOVED', mcpServer: null });
      // Its tool subscription ends rather than staying open forever.
      expect(await ended).toEqual([{ message: 'subscription ended: the MCP server was deleted', extensions: { code: 'UNAUTHENTICATED' } }]);
    } finally {
      config.stop();
    }
    const listed = (await t.request(WorkspaceServers, { id: ws }, owner)).data!.workspace!;
    expect(listed).toEqual({ configVersion: since + 4, mcpServers: { totalCount: 0, edges: [] } });
  });
}, ALL_BACKENDS, serversTest);
