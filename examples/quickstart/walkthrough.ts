// Heddle's main flow, start to end, against a fresh server: organization →
// workspace → connections and workspace integrations → an end user's own
// connection → resolveConnection → an MCP server → a hosted connect link → a
// live workspaceConfigChanged event. README's walkthrough is this script's steps
// and output, and test/quickstart.test.ts runs it against a fresh embedded server.
//
//   export HEDDLE_TOKEN=$(npm run --silent heddle -- token --email alice@example.com --name Alice)
//   npm run --silent quickstart           # HEDDLE_URL defaults to http://localhost:4000
//
// The documents below are typed by `npm run codegen` (client preset, ./generated/).
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { print, type ExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import type { ResultOf, TypedDocumentNode } from '@graphql-typed-document-node/core';
import { graphql } from './generated/index.js';

const HEDDLE_URL = process.env.HEDDLE_URL ?? 'http://localhost:4000';
const TOKEN = process.env.HEDDLE_TOKEN;
if (!TOKEN) {
  console.error('HEDDLE_TOKEN is not set: export HEDDLE_TOKEN=$(npm run --silent heddle -- token --email alice@example.com --name Alice)');
  process.exit(2);
}
const authorization = `Bearer ${TOKEN}`;

/** POST /graphql with the token; a GraphQL error stops the walkthrough. */
async function request<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const response = await fetch(`${HEDDLE_URL}/graphql`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const { data, errors } = (await response.json()) as ExecutionResult<R>;
  if (errors?.length || !data) throw new Error(`${response.status}: ${errors?.map((error) => error.message).join('; ')}`);
  return data;
}

/** A mutation's result union: the expected type, or its typed error (code and message) stops the walkthrough. */
function expectType<T extends { __typename?: string }, N extends string>(result: T, typename: N): Extract<T, { __typename?: N }> {
  if (result.__typename === typename) return result as Extract<T, { __typename?: N }>;
  const error = result as { code?: string; message?: string };
  throw new Error(`expected ${typename}, got ${result.__typename}: ${error.code} ${error.message}`);
}

let stepNumber = 0;
const step = (title: string) => console.log(`${stepNumber++ ? '\n' : ''}${stepNumber}. ${title}`);
const say = (line: string) => console.log(`   ${line}`);

// 1. Who is calling, an organization and a workspace.
const Viewer = graphql(`
  query Viewer {
    viewer { kind user { email } }
  }
`);
const CreateOrganization = graphql(`
  mutation CreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on Organization { id name slug }
      ... on Error { code message }
    }
  }
`);
const CreateWorkspace = graphql(`
  mutation CreateWorkspace($input: CreateWorkspaceInput!) {
    createWorkspace(input: $input) {
      __typename
      ... on Workspace { id name slug configVersion }
      ... on Error { code message }
    }
  }
`);

step('An organization and a workspace');
const { viewer } = await request(Viewer, {});
say(`signed in as ${viewer.user?.email} (${viewer.kind})`);
const organization = expectType(
  (await request(CreateOrganization, { input: { name: 'Acme', slug: 'acme' } })).createOrganization,
  'Organization',
);
say(`organization ${organization.name} (${organization.slug})`);
const workspace = expectType(
  (await request(CreateWorkspace, { input: { organizationId: organization.id, name: 'Production', slug: 'production' } })).createWorkspace,
  'Workspace',
);
say(`workspace ${workspace.name} (${workspace.slug}), configVersion ${workspace.configVersion}`);

// 2. Slack through one bot for the whole workspace: a WORKSPACE connection and a FIXED integration.
const CreateConnection = graphql(`
  mutation CreateConnection($input: CreateConnectionInput!) {
    createConnection(input: $input) {
      __typename
      ... on Connection { id displayName scope type status }
      ... on Error { code message }
    }
  }
`);
const AddWorkspaceIntegration = graphql(`
  mutation AddWorkspaceIntegration($input: AddWorkspaceIntegrationInput!) {
    addWorkspaceIntegration(input: $input) {
      __typename
      ... on WorkspaceIntegration { id alias connectionStrategy connection { displayName } actions { name } }
      ... on Error { code message }
    }
  }
`);

step('Slack: one bot connection for the workspace, a FIXED integration');
const slackBot = expectType(
  (
    await request(CreateConnection, {
      input: {
        scope: 'WORKSPACE',
        workspaceId: workspace.id,
        integrationName: 'slack',
        type: 'SECRET_TEXT',
        displayName: 'Acme Slack bot',
        credentials: { apiKey: 'xoxb-example-bot-token' },
      },
    })
  ).createConnection,
  'Connection',
);
say(`connection "${slackBot.displayName}" (${slackBot.scope}, ${slackBot.type}, ${slackBot.status}); its secret is sealed, no field returns it`);
const slack = expectType(
  (
    await request(AddWorkspaceIntegration, {
      input: { workspaceId: workspace.id, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId: slackBot.id },
    })
  ).addWorkspaceIntegration,
  'WorkspaceIntegration',
);
say(`integration ${slack.alias}: ${slack.connectionStrategy} on "${slack.connection?.displayName}", ${slack.actions.length} actions`);

// 3. Gmail as each end user's own account: a PER_USER integration takes no connection.
step('Gmail: a PER_USER integration');
const gmail = expectType(
  (await request(AddWorkspaceIntegration, { input: { workspaceId: workspace.id, integrationName: 'gmail', connectionStrategy: 'PER_USER' } }))
    .addWorkspaceIntegration,
  'WorkspaceIntegration',
);
say(`integration ${gmail.alias}: ${gmail.connectionStrategy}, ${gmail.actions.length} actions`);

// 4. An end user of your product and its own Gmail connection (the first connection creates the end user).
step('An end user with its own Gmail connection');
const bobsGmail = expectType(
  (
    await request(CreateConnection, {
      input: {
        scope: 'USER',
        workspaceId: workspace.id,
        externalId: 'user-42',
        integrationName: 'gmail',
        type: 'OAUTH2',
        displayName: "Bob's Gmail",
        credentials: { accessToken: 'ya29.example-access-token', refreshToken: '1//example-refresh-token' },
      },
    })
  ).createConnection,
  'Connection',
);
say(`connection "${bobsGmail.displayName}" (${bobsGmail.scope}, ${bobsGmail.type}, ${bobsGmail.status}) of end user user-42`);

// 5. At run time: which connection does this call use?
const ResolveConnection = graphql(`
  mutation ResolveConnection($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { source strategy connection { displayName } explanation }
      ... on Error { code message }
    }
  }
`);

step('resolveConnection: the connection each call uses');
for (const input of [
  { workspaceId: workspace.id, integration: 'slack', action: 'send_message' },
  { workspaceId: workspace.id, integration: 'gmail', externalId: 'user-42', action: 'send_email' },
]) {
  const resolution = expectType((await request(ResolveConnection, { input })).resolveConnection, 'ConnectionResolution');
  say(`${input.integration}${input.externalId ? ` for ${input.externalId}` : ''} → "${resolution.connection.displayName}" (source ${resolution.source}, strategy ${resolution.strategy})`);
  for (const line of resolution.explanation) say(`  - ${line}`);
}

// 6. The workspace's integrations as tools for AI agents, listed by the official MCP SDK client.
const CreateMcpServer = graphql(`
  mutation CreateMcpServer($input: CreateMcpServerInput!) {
    createMcpServer(input: $input) {
      __typename
      ... on McpServerWithToken { token server { name endpointPath toolsVersion } }
      ... on Error { code message }
    }
  }
`);

step('An MCP server, listed by the MCP SDK client');
const { token: mcpToken, server } = expectType(
  (await request(CreateMcpServer, { input: { workspaceId: workspace.id, name: 'Support agent' } })).createMcpServer,
  'McpServerWithToken',
);
say(`server "${server.name}" at ${HEDDLE_URL}/mcp/…, token ${mcpToken.slice(0, 4)}… (shown once)`);
const mcp = new McpClient({ name: 'heddle-quickstart', version: '1.0.0' });
await mcp.connect(
  new StreamableHTTPClientTransport(new URL(server.endpointPath, HEDDLE_URL), {
    // As end user user-42: its own Gmail resolves, so the gmail tools are listed too.
    requestInit: { headers: { authorization: `Bearer ${mcpToken}`, 'x-heddle-external-id': 'user-42' } },
  }),
);
const { tools } = await mcp.listTools();
await mcp.close();
say(`tools/list as user-42: ${tools.length} tools`);
for (const tool of tools.map((t) => t.name).sort()) say(`  ${tool}`);

// 7. A hosted connect link: another end user connects its own Gmail on Heddle's page.
const SetOAuthApp = graphql(`
  mutation SetOAuthApp($input: SetOAuthAppInput!) {
    setOAuthApp(input: $input) {
      __typename
      ... on OAuthApp { integrationName redirectUri }
      ... on Error { code message }
    }
  }
`);
const UpdateWorkspace = graphql(`
  mutation UpdateWorkspace($input: UpdateWorkspaceInput!) {
    updateWorkspace(input: $input) {
      __typename
      ... on Workspace { allowedRedirectOrigins configVersion }
      ... on Error { code message }
    }
  }
`);
const CreateConnectSession = graphql(`
  mutation CreateConnectSession($input: CreateConnectSessionInput!) {
    createConnectSession(input: $input) {
      __typename
      ... on CreatedConnectSession { url session { status authType } }
      ... on Error { code message }
    }
  }
`);

step('A hosted connect link for another end user');
const oauthApp = expectType(
  (
    await request(SetOAuthApp, {
      input: { organizationId: organization.id, integrationName: 'gmail', clientId: 'example.apps.googleusercontent.com', clientSecret: 'example-client-secret' },
    })
  ).setOAuthApp,
  'OAuthApp',
);
say(`OAuth app for ${oauthApp.integrationName}: register ${oauthApp.redirectUri} at the provider`);
const settings = expectType(
  (await request(UpdateWorkspace, { input: { id: workspace.id, allowedRedirectOrigins: ['https://app.example.com'] } })).updateWorkspace,
  'Workspace',
);
say(`allowedRedirectOrigins: ${settings.allowedRedirectOrigins.join(', ')}`);
const connect = expectType(
  (
    await request(CreateConnectSession, {
      input: { workspaceId: workspace.id, externalId: 'user-7', integration: 'gmail', redirectUrl: 'https://app.example.com/settings/integrations' },
    })
  ).createConnectSession,
  'CreatedConnectSession',
);
// The link is a one-time secret: shown here without its token.
say(`send user-7 to ${connect.url.replace(/hcs_[\w-]+/, 'hcs_…')} (${connect.session.authType}, ${connect.session.status}, works once)`);

// 8. Live configuration: a graphql-ws subscription from the current version sees the next change.
const ConfigChanged = graphql(`
  subscription ConfigChanged($workspaceId: ID!, $sinceVersion: Int) {
    workspaceConfigChanged(workspaceId: $workspaceId, sinceVersion: $sinceVersion) {
      version kind integration { alias allowedActions }
    }
  }
`);
const UpdateWorkspaceIntegration = graphql(`
  mutation UpdateWorkspaceIntegration($input: UpdateWorkspaceIntegrationInput!) {
    updateWorkspaceIntegration(input: $input) {
      __typename
      ... on WorkspaceIntegration { alias allowedActions }
      ... on Error { code message }
    }
  }
`);

step('workspaceConfigChanged sees the next change');
const ws = createClient({ url: `${HEDDLE_URL.replace(/^http/, 'ws')}/graphql`, connectionParams: { authorization } });
// From the version we know: nothing after it is missed, however late the subscription starts.
const events = ws.iterate({ query: print(ConfigChanged), variables: { workspaceId: workspace.id, sinceVersion: settings.configVersion } });
say(`subscribed from configVersion ${settings.configVersion}`);
const narrowed = expectType(
  (await request(UpdateWorkspaceIntegration, { input: { id: gmail.id, allowedActions: ['send_email', 'list_messages'] } })).updateWorkspaceIntegration,
  'WorkspaceIntegration',
);
say(`updateWorkspaceIntegration: ${narrowed.alias} allows ${narrowed.allowedActions?.join(', ')}`);
const { value } = (await events.next()) as { value: ExecutionResult<ResultOf<typeof ConfigChanged>> };
const event = value.data?.workspaceConfigChanged;
say(`event: version ${event?.version}, ${event?.kind}, ${event?.integration?.alias} allows ${event?.integration?.allowedActions?.join(', ')}`);
await events.return?.();
await ws.dispose();
