// The MCP endpoint (issue #7) with the official MCP SDK client: tools/list for
// the server token and for end users, notifications/tools/list_changed across
// instances, a PER_USER tool called without an end user, and 401/403/404.
// tools/call running actions: tools-call.test.ts.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { subscribeWs, type TestApp } from '../support/app.js';
import { describeEachBackend } from '../support/backends.js';
import { seedConnection, seedConnectionStatus, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { catalogActions, connectMcp, initializeRaw, issueEndUserToken, rotateMcpToken, seedMcpServer, type SeededMcpServer } from '../support/mcp.js';
import { signEndUserToken } from '../../src/auth/principal.js';
import { getProvider } from '../../src/modules/catalog/providers.js';
import { TEST_JWT_SECRET } from '../support/app.js';

const ToolsChanged = graphql(`
  subscription McpToolsChanged($id: ID!, $since: Int) {
    mcpToolsChanged(mcpServerId: $id, sinceVersion: $since) { version added removed tools { name } server { toolsVersion } }
  }
`);
const ServerVersion = graphql(`query McpServerVersion($id: ID!) { node(id: $id) { ... on McpServer { toolsVersion } } }`);
const DeleteServer = graphql(`mutation McpDelete($input: DeleteMcpServerInput!) { deleteMcpServer(input: $input) { __typename } }`);
const EndUsers = graphql(`
  query McpEndUsers($id: ID!) { workspace(id: $id) { endUsers(first: 50) { edges { node { externalId } } } } }
`);

const names = (alias: string, actions: { name: string }[]) => actions.map((a) => `${alias}__${a.name}`);
const sorted = (list: string[]) => [...list].sort();

describeEachBackend('MCP endpoint', (_backend, test) => {
  // On Redis the MCP client talks to `second` (the world's peer) while changes go through `first`.
  let first: TestApp;
  let second: TestApp;
  let owner: string;
  let apiKey: string;
  let workspaceId: string;
  let server: SeededMcpServer;
  let slackActions: { name: string; description: string; inputSchema: unknown }[];
  let githubActions: { name: string }[];
  let gmailActions: { name: string }[];
  let slackConnection: string;
  /** The same server, as reached on the instance the MCP clients use. */
  const mcpUrl = () => server.url.replace(first.url, second.url);

  const endUserToken = async (externalId: string) => (await issueEndUserToken(first, apiKey, { workspaceId, externalId })).token;

  test.beforeAll(async ({ t, peer, tenant, workspaceId: ws, apiKey: key }) => {
    [first, second, owner, workspaceId, apiKey] = [t, peer, tenant.token, ws, key];
    slackActions = await catalogActions(first, 'slack');
    githubActions = await catalogActions(first, 'github');
    gmailActions = await catalogActions(first, 'gmail');
    slackConnection = await seedConnection(first, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
    const githubFallback = await seedConnection(first, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'github' });
    await seedIntegration(first, owner, {
      workspaceId, integrationName: 'slack', alias: 'bot', connectionStrategy: 'FIXED', connectionId: slackConnection,
      allowedActions: slackActions.slice(0, 2).map((a) => a.name),
    });
    await seedIntegration(first, owner, {
      workspaceId, integrationName: 'github', alias: 'gh', connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId: githubFallback,
    });
    await seedIntegration(first, owner, { workspaceId, integrationName: 'gmail', alias: 'mail', connectionStrategy: 'PER_USER' });
    server = await seedMcpServer(first, owner, { workspaceId });
  }, 60_000);

  test('the SDK client lists {alias}__{action} tools of FIXED and PER_USER_WITH_FALLBACK integrations, with the catalog entries', async () => {
    const mcp = await connectMcp(mcpUrl(), server.token);
    try {
      expect(mcp.client.getServerCapabilities()?.tools).toEqual({ listChanged: true });
      expect(mcp.client.getInstructions()).toMatch(/tools\/call runs the action/);
      const { tools } = await mcp.client.listTools();
      expect(sorted(tools.map((tool) => tool.name))).toEqual(sorted([...names('bot', slackActions.slice(0, 2)), ...names('gh', githubActions)]));
      const first = slackActions[0]!;
      const provided = getProvider('slack')!.actions[first.name]!;
      expect(tools.find((tool) => tool.name === `bot__${first.name}`)).toEqual({
        name: `bot__${first.name}`,
        description: first.description,
        inputSchema: first.inputSchema,
        outputSchema: provided.outputSchema,
        annotations: { readOnlyHint: provided.readOnly, destructiveHint: provided.destructive, idempotentHint: provided.idempotent, openWorldHint: true },
      });
    } finally {
      await mcp.close();
    }
  });

  test('adding an integration notifies the connected client, relists, and mcpToolsChanged reports the added tools', async () => {
    const mcp = await connectMcp(mcpUrl(), server.token);
    const before = await mcp.toolNames();
    const version = await first.request(ServerVersion, { id: server.id }, owner);
    const since = (version.data?.node as { toolsVersion: number }).toolsVersion;
    const events = subscribeWs(second.wsClient(owner), ToolsChanged, { id: server.id, since });
    try {
      const notified = mcp.nextListChanged();
      const event = events.next();
      const notion = await seedConnection(first, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'notion' });
      await seedIntegration(first, owner, { workspaceId, integrationName: 'notion', alias: 'docs', connectionStrategy: 'FIXED', connectionId: notion });
      await notified;
      const notionTools = names('docs', await catalogActions(first, 'notion'));
      expect(await mcp.toolNames()).toEqual(sorted([...before, ...notionTools]));
      const { data, errors } = await event;
      expect(errors).toBeUndefined();
      expect(data?.mcpToolsChanged).toMatchObject({ version: since + 1, removed: [], server: { toolsVersion: since + 1 } });
      expect(sorted(data!.mcpToolsChanged.added)).toEqual(sorted(notionTools));
      expect(data!.mcpToolsChanged.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining([...before, ...notionTools]));
    } finally {
      events.stop();
      await mcp.close();
    }
  });

  test('an end-user token sees exactly the tools that resolve for that end user; a new connection adds its tools and notifies', async () => {
    const token = await endUserToken('alice');
    const mcp = await connectMcp(mcpUrl(), token);
    try {
      // FIXED and the fallback resolve; PER_USER gmail needs alice's own connection.
      const fixedAndFallback = await mcp.toolNames();
      expect(fixedAndFallback.some((name) => name.startsWith('mail__'))).toBe(false);
      expect(fixedAndFallback).toEqual(expect.arrayContaining([...names('bot', slackActions.slice(0, 2)), ...names('gh', githubActions)]));

      const connected = mcp.nextListChanged();
      const gmail = await seedConnection(first, apiKey, {
        scope: 'USER', workspaceId, externalId: 'alice', integrationName: 'gmail', type: 'OAUTH2', credentials: { accessToken: 'ya29.test' },
      });
      await connected;
      expect(await mcp.toolNames()).toEqual(sorted([...fixedAndFallback, ...names('mail', gmailActions)]));

      // Only ACTIVE connections resolve: the fixed slack connection in ERROR takes the bot tools away from the end user.
      const broken = mcp.nextListChanged();
      await seedConnectionStatus(first, owner, slackConnection, 'ERROR', 'token revoked');
      await broken;
      expect((await mcp.toolNames()).some((name) => name.startsWith('bot__'))).toBe(false);
      await seedConnectionStatus(first, owner, slackConnection, 'ACTIVE');
      expect(gmail).toBeTruthy();
    } finally {
      await mcp.close();
    }
  });

  test('a PER_USER tool called without an end user is a tool error that says how the end user connects', async () => {
    const mcp = await connectMcp(mcpUrl(), server.token);
    try {
      const result = await mcp.client.callTool({ name: `mail__${gmailActions[0]!.name}`, arguments: {} });
      expect(result.isError).toBe(true);
      const text = (result.content as { text: string }[])[0]!.text;
      expect(text).toMatch(/^CONNECTION_REQUIRED: /);
      expect(text).toMatch(/end-user token .* X-Heddle-External-Id/);
      expect(text).toMatch(/createConnectSession with integration "mail"/);
    } finally {
      await mcp.close();
    }
  });

  test('a bad token is 401; another tenant’s server is 404, the same answer as a missing one', async () => {
    const otherOwner = await first.memberToken('owner@other-mcp.test');
    const otherWorkspace = await seedWorkspace(first, otherOwner, await seedOrganization(first, otherOwner, 'other-mcp'), 'w');
    const otherServer = await seedMcpServer(first, otherOwner, { workspaceId: otherWorkspace });
    const missing = server.url.replace(/[0-9a-f-]{36}$/, '01900000-0000-7000-8000-000000000000');
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });

    for (const headers of [{}, auth('mcp_not-a-real-token'), auth(apiKey), auth(owner), auth('garbage')]) {
      const response = await initializeRaw(server.url, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const expired = await signEndUserToken(TEST_JWT_SECRET, '01900000-0000-7000-8000-000000000001', new Date(Date.now() - 1000));
    expect((await initializeRaw(server.url, auth(expired))).status).toBe(401);

    const missingAnswer = await initializeRaw(missing, auth(server.token));
    expect(missingAnswer.status).toBe(404);
    // Our token on their server, and an end user of ours on their server: indistinguishable from a missing id.
    for (const token of [server.token, await endUserToken('bob')]) {
      const answer = await initializeRaw(otherServer.url, auth(token));
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 404, body: missingAnswer.body });
    }
    expect((await initializeRaw(otherServer.url, auth(otherServer.token))).status).toBe(200);
  });

  test('the server token acts for an end user named in X-Heddle-External-Id: OPEN creates it, RESTRICTED refuses unknown ones', async () => {
    const header = (externalId: string) => ({ authorization: `Bearer ${server.token}`, 'x-heddle-external-id': externalId });
    const refused = await initializeRaw(server.url, header('stranger'));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/RESTRICTED/);
    const open = await seedMcpServer(first, owner, { workspaceId, endUserAccess: 'OPEN', name: 'open' });
    const mcp = await connectMcp(open.url.replace(first.url, second.url), open.token, { 'x-heddle-external-id': 'newcomer' });
    try {
      expect((await mcp.toolNames()).some((name) => name.startsWith('mail__'))).toBe(false);
    } finally {
      await mcp.close();
    }
    const users = await first.request(EndUsers, { id: workspaceId }, owner);
    const externalIds = users.data?.workspace?.endUsers.edges.map((edge) => edge.node.externalId);
    expect(externalIds).toContain('newcomer');
    expect(externalIds).not.toContain('stranger');
    expect((await initializeRaw(server.url, header('not a valid id!'))).status).toBe(400);
  });

  test('rotating the token ends the sessions opened with it; deleting the server makes it 404', async () => {
    const doomed = await seedMcpServer(first, owner, { workspaceId, name: 'doomed' });
    const url = doomed.url.replace(first.url, second.url);
    const mcp = await connectMcp(url, doomed.token);
    expect((await mcp.toolNames()).length).toBeGreaterThan(0);
    const fresh = await rotateMcpToken(first, owner, doomed.id);
    expect(fresh).toMatch(/^mcp_/);
    expect(fresh).not.toBe(doomed.token);
    await expect(mcp.toolNames()).rejects.toThrow();
    await mcp.close();
    expect((await initializeRaw(url, { authorization: `Bearer ${doomed.token}` })).status).toBe(401);
    const again = await connectMcp(url, fresh);
    expect((await again.toolNames()).length).toBeGreaterThan(0);
    await first.request(DeleteServer, { input: { id: doomed.id } }, owner);
    await expect(again.toolNames()).rejects.toThrow();
    await again.close();
    expect((await initializeRaw(url, { authorization: `Bearer ${await endUserToken('alice')}` })).status).toBe(404);
  });
});
