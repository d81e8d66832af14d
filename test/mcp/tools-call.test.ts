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
  },
  ALL_BACKENDS.slice(0, 2),
  callTest,
);
