// MCP tools/call through the execution layer (issue #24 item 7), with the
// official SDK client against a loopback fake Slack: the same result as
// executeAction for the same call (and the client's own check of
// structuredContent against the tool's outputSchema), arguments validated
// before any request, provider failures as tool errors with their code, and
// end users acting with their own connection, recorded as MCP executions.
import { afterAll, expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { databaseText, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { startSlackFake, type SlackFake } from '../support/fake-providers/slack.js';
import { seedConnection, seedIntegration } from '../support/fixtures.js';
import { connectMcp, issueEndUserToken, seedMcpServer, type ConnectedMcpClient, type SeededMcpServer } from '../support/mcp.js';
import { test as world } from '../support/world.js';

const TOKEN = 'xoxb-mcp-canary-77e1c0a9';

const Execute = graphql(`
  mutation McpExecute($input: ExecuteActionInput!) {
    executeAction(input: $input) { __typename ... on ActionExecution { status output } ...ErrorFields }
  }
`);
const History = graphql(`
  query McpHistory($ws: ID!) {
    workspace(id: $ws) { actionExecutions(first: 50) { edges { node { channel action status endUserExternalId resolution { source } } } } }
  }
`);
const Audit = graphql(`
  query McpAudit($org: ID!) { organization(id: $org) { auditEvents(action: "executeAction", first: 50) { edges { node { actorType details } } } } }
`);

const UpdateServer = graphql(`
  mutation TcUpdateServer($input: UpdateMcpServerInput!) {
    updateMcpServer(input: $input) { __typename ... on McpServer { connectRedirectUrl } ...ErrorFields }
  }
`);
const AllowRedirects = graphql(`
  mutation TcAllowRedirects($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { __typename ...ErrorFields } }
`);
const SessionAudit = graphql(`
  query TcSessionAudit($org: ID!) { organization(id: $org) { auditEvents(action: "createConnectSession", first: 50) { edges { node { actorType targetType details } } } } }
`);

const textOf = (result: object) => ((result as { content?: unknown }).content as { type: string; text: string }[])[0]!.text;

/** The world with a fake Slack that the app's provider calls reach. */
const callTest = world
  .extend('slack', { scope: 'file' }, async ({ teardown }): Promise<SlackFake> => {
    const slack = await startSlackFake({ token: TOKEN });
    teardown.add(() => slack.close());
    return slack;
  })
  .extend('appOptions', { scope: 'file' }, ({ slack }) => ({ env: { HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: slack.apiUrl }) } }));

describeEachBackend(
  'MCP tools/call',
  (_backend, test) => {
    let t: TestApp;
    let owner: string;
    let orgId: string;
    let ws: string;
    let apiKey: string;
    let server: SeededMcpServer;
    let mcp: ConnectedMcpClient;

    test.beforeAll(async ({ t: app, tenant, workspaceId, apiKey: key }) => {
      [t, owner, orgId, ws, apiKey] = [app, tenant.token, tenant.organizationId, workspaceId, key];
      const bot = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId: ws, integrationName: 'slack', displayName: 'bot', credentials: { apiKey: TOKEN } });
      await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'slack', alias: 'bot', connectionStrategy: 'FIXED', connectionId: bot });
      await seedIntegration(t, owner, { workspaceId: ws, integrationName: 'slack', alias: 'mine', connectionStrategy: 'PER_USER' });
      server = await seedMcpServer(t, owner, { workspaceId: ws, endUserAccess: 'OPEN' });
      mcp = await connectMcp(server.url, server.token);
    }, 60_000);
    afterAll(() => mcp?.close());

    test('tools/call and executeAction give the same result for the same call', async () => {
      const viaGraphql = await t.request(Execute, { input: { workspaceId: ws, integration: 'bot', action: 'list_channels', input: { limit: 2 } } }, owner);
      expect(viaGraphql.data?.executeAction).toMatchObject({ status: 'SUCCEEDED' });
      const output = (viaGraphql.data!.executeAction as { output: unknown }).output;

      // The SDK client checks structuredContent against the tool's outputSchema from tools/list.
      await mcp.client.listTools();
      const viaMcp = await mcp.client.callTool({ name: 'bot__list_channels', arguments: { limit: 2 } });
      expect(viaMcp.isError).toBeFalsy();
      expect(viaMcp.structuredContent).toEqual(output);
      expect(JSON.parse(textOf(viaMcp))).toEqual(output);
    });

    test('arguments are validated before any request; a provider failure is a tool error with its code', async ({ slack }) => {
      const before = slack.api.requests.length;
      const invalid = await mcp.client.callTool({ name: 'bot__send_message', arguments: { channel: 7 } });
      expect(invalid.isError).toBe(true);
      expect(textOf(invalid)).toMatch(/^VALIDATION_ERROR: /);
      expect(textOf(invalid)).toContain('arguments.channel: /channel must be string');
      expect(textOf(invalid)).toContain('arguments.text');
      expect(slack.api.requests.length).toBe(before);

      const failed = await mcp.client.callTool({ name: 'bot__send_message', arguments: { channel: '#nowhere', text: 'hi' } });
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toBe('PROVIDER_ERROR: channel_not_found (HTTP 200)');

      const unknown = await mcp.client.callTool({ name: 'bot__no_such_action', arguments: {} });
      expect(textOf(unknown)).toMatch(/^NOT_FOUND: /);
    });

    test('an end user calls a PER_USER tool with its own connection; the history and audit log say MCP and who', async () => {
      const { token } = await issueEndUserToken(t, apiKey, { workspaceId: ws, externalId: 'ada' });
      const alone = await connectMcp(server.url, token);
      try {
        const none = await alone.client.callTool({ name: 'mine__send_message', arguments: { channel: '#general', text: 'hi' } });
        expect(textOf(none)).toMatch(/^CONNECTION_REQUIRED: end user "ada" has no ACTIVE slack connection.*hosted connect page/);
        await seedConnection(t, apiKey, { scope: 'USER', workspaceId: ws, externalId: 'ada', integrationName: 'slack', credentials: { apiKey: TOKEN } });
        const sent = await alone.client.callTool({ name: 'mine__send_message', arguments: { channel: '#general', text: 'from ada' } });
        expect(sent.isError).toBeFalsy();
        expect(sent.structuredContent).toMatchObject({ channel: 'C0GENERAL' });
      } finally {
        await alone.close();
      }
      // The server token acting for an end user through the header.
      const forBob = await connectMcp(server.url, server.token, { 'x-heddle-external-id': 'bob' });
      try {
        expect(textOf(await forBob.client.callTool({ name: 'mine__list_channels', arguments: {} }))).toMatch(/^CONNECTION_REQUIRED: end user "bob"/);
      } finally {
        await forBob.close();
      }

      const history = await t.request(History, { ws }, owner);
      const nodes = history.data!.workspace!.actionExecutions.edges.map((e) => e.node);
      expect(nodes[0]).toMatchObject({ channel: 'MCP', action: 'send_message', status: 'SUCCEEDED', endUserExternalId: 'ada', resolution: { source: 'USER' } });
      const audit = await t.request(Audit, { org: orgId }, owner);
      const entries = audit.data!.organization!.auditEvents.edges.map((e) => e.node);
      expect(entries[0]).toMatchObject({ actorType: 'END_USER', details: { channel: 'MCP', action: 'send_message', status: 'SUCCEEDED' } });
      expect(entries.find((e) => (e.details as { action: string }).action === 'list_channels' && (e.details as { channel: string }).channel === 'MCP')).toMatchObject({
        actorType: 'SYSTEM',
        details: { mcpServer: server.id },
      });
      // The token the connections hold is in no row: executions, audit entries, usage.
      expect(await databaseText(t)).not.toContain(TOKEN);
    });

    test('a PER_USER tool without a connection: the hosted connect link when an admin let the server create sessions, else how to get one', async () => {
      // No end user at all: the tool says how to call it for one.
      const anonymous = await mcp.client.callTool({ name: 'mine__send_message', arguments: { channel: '#general', text: 'hi' } });
      expect(textOf(anonymous)).toMatch(/^CONNECTION_REQUIRED: .*X-Heddle-External-Id header\. .*createConnectSession/);

      // The server may create sessions only when an admin gave it a return URL on the workspace's allowed origins.
      const refused = await t.request(UpdateServer, { input: { id: server.id, connectRedirectUrl: 'https://app.example.com/connected' } }, owner);
      expect(refused.data?.updateMcpServer).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'connectRedirectUrl'] }] });
      expect((await t.request(AllowRedirects, { input: { id: ws, allowedRedirectOrigins: ['https://app.example.com'] } }, owner)).data?.updateWorkspace).toMatchObject({ __typename: 'Workspace' });
      const allowed = await t.request(UpdateServer, { input: { id: server.id, connectRedirectUrl: 'https://app.example.com/connected' } }, owner);
      expect(allowed.data?.updateMcpServer).toEqual({ __typename: 'McpServer', connectRedirectUrl: 'https://app.example.com/connected' });

      const forCleo = await connectMcp(server.url, server.token, { 'x-heddle-external-id': 'cleo' });
      const { token: danaToken } = await issueEndUserToken(t, apiKey, { workspaceId: ws, externalId: 'dana' });
      const dana = await connectMcp(server.url, danaToken);
      try {
        const none = textOf(await forCleo.client.callTool({ name: 'mine__send_message', arguments: { channel: '#general', text: 'hi' } }));
        expect(none).toMatch(/^CONNECTION_REQUIRED: end user "cleo" has no ACTIVE slack connection/);
        const link = /Send the end user to (\S+) to connect slack \(single use, until /.exec(none)?.[1];
        // Heddle's public URL (here http://localhost:{port}) and the session's page.
        expect(new URL(link!).port).toBe(new URL(t.url).port);
        expect(new URL(link!).pathname).toMatch(/^\/connect\/hcs_/);
        // The link is a live hosted connect page (Slack without an OAuth app: the token form).
        const page = await fetch(`${t.url}${new URL(link!).pathname}`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('Slack');

        // An end user's own token gets its own link too.
        const danas = textOf(await dana.client.callTool({ name: 'mine__list_channels', arguments: {} }));
        expect(danas).toMatch(/^CONNECTION_REQUIRED: end user "dana" .*Send the end user to \S+\/connect\/hcs_/);

        // Once connected, the same call runs.
        await seedConnection(t, apiKey, { scope: 'USER', workspaceId: ws, externalId: 'cleo', integrationName: 'slack', credentials: { apiKey: TOKEN } });
        expect((await forCleo.client.callTool({ name: 'mine__send_message', arguments: { channel: '#general', text: 'from cleo' } })).isError).toBeFalsy();
      } finally {
        await forCleo.close();
        await dana.close();
      }
      // Each session created is audited as the server's (SYSTEM) or the end user's, with no secret.
      const audit = await t.request(SessionAudit, { org: orgId }, owner);
      const entries = audit.data!.organization!.auditEvents.edges.map((e) => e.node);
      expect(entries.map((e) => e.actorType).sort()).toEqual(['END_USER', 'SYSTEM']);
      for (const entry of entries) expect(entry).toMatchObject({ targetType: 'ConnectSession', details: { channel: 'MCP', mcpServer: server.id, integration: 'mine' } });

      // Turned off again: back to the instructions.
      await t.request(UpdateServer, { input: { id: server.id, connectRedirectUrl: null } }, owner);
      const forEve = await connectMcp(server.url, server.token, { 'x-heddle-external-id': 'eve' });
      try {
        const text = textOf(await forEve.client.callTool({ name: 'mine__list_channels', arguments: {} }));
        expect(text).toMatch(/^CONNECTION_REQUIRED: end user "eve".*createConnectSession/);
        expect(text).not.toContain('/connect/hcs_');
      } finally {
        await forEve.close();
      }
    });

    test('an agent calling a tool again and again before its end user connects gets at most 3 new connect links in 10 minutes', async () => {
      await t.request(AllowRedirects, { input: { id: ws, allowedRedirectOrigins: ['https://app.example.com'] } }, owner);
      await t.request(UpdateServer, { input: { id: server.id, connectRedirectUrl: 'https://app.example.com/connected' } }, owner);
      const sessionsAudited = async () => (await t.request(SessionAudit, { org: orgId }, owner)).data!.organization!.auditEvents.edges.length;
      const before = await sessionsAudited();
      const call = async (client: ConnectedMcpClient) => textOf(await client.client.callTool({ name: 'mine__list_channels', arguments: {} }));
      const linkIn = (text: string) => /Send the end user to (\S+) to connect slack/.exec(text)?.[1];
      const forFinn = await connectMcp(server.url, server.token, { 'x-heddle-external-id': 'finn' });
      const forGus = await connectMcp(server.url, server.token, { 'x-heddle-external-id': 'gus' });
      try {
        const answers: string[] = [];
        for (let i = 0; i < 5; i++) answers.push(await call(forFinn));
        const links = answers.map(linkIn);
        expect(new Set(links.slice(0, 3)).size).toBe(3);
        expect(links.slice(0, 3).every((link) => link?.includes('/connect/hcs_'))).toBe(true);
        expect(links.slice(3)).toEqual([undefined, undefined]);
        for (const answer of answers.slice(3)) {
          expect(answer).toMatch(/^CONNECTION_REQUIRED: end user "finn" .*already created 3 connect links for end user "finn" and slack in the last 10 minutes: send the end user the latest one .*a new link can be created in \d+ s\.$/);
        }
        // Another end user has a budget of its own.
        expect(linkIn(await call(forGus))).toMatch(/\/connect\/hcs_/);
      } finally {
        await forFinn.close();
        await forGus.close();
        await t.request(UpdateServer, { input: { id: server.id, connectRedirectUrl: null } }, owner);
      }
      expect((await sessionsAudited()) - before).toBe(4);
    });
  },
  ALL_BACKENDS.slice(0, 2),
  callTest,
);
