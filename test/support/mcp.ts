// MCP servers for tests, built through the public API, and the official MCP
// SDK client connected to them.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { graphql } from '../generated/index.js';
import type { TestApp } from './app.js';

const CreateMcpServer = graphql(`
  mutation SupportCreateMcpServer($input: CreateMcpServerInput!) {
    createMcpServer(input: $input) {
      __typename
      ... on McpServerWithToken { token server { id endpointPath } }
      ...ErrorFields
    }
  }
`);
const IssueEndUserToken = graphql(`
  mutation SupportMcpIssueToken($input: IssueEndUserTokenInput!) {
    issueEndUserToken(input: $input) { __typename ... on EndUserToken { token endUser { id } } ...ErrorFields }
  }
`);
const RotateMcpServerToken = graphql(`
  mutation SupportMcpRotate($input: RotateMcpServerTokenInput!) {
    rotateMcpServerToken(input: $input) { __typename ... on McpServerWithToken { token } ...ErrorFields }
  }
`);
const CatalogActions = graphql(`
  query SupportCatalogActions($name: String!) { integration(name: $name) { actions { name description inputSchema } } }
`);

export interface SeededMcpServer {
  id: string;
  token: string;
  /** Absolute URL of the server's MCP endpoint on `t`. */
  url: string;
}

export async function seedMcpServer(
  t: TestApp,
  token: string,
  input: { workspaceId: string; name?: string; endUserAccess?: 'RESTRICTED' | 'OPEN' },
): Promise<SeededMcpServer> {
  const result = await t.request(CreateMcpServer, { input: { name: 'agent tools', ...input } }, token);
  const created = result.data?.createMcpServer;
  if (created?.__typename !== 'McpServerWithToken') throw new Error(`createMcpServer failed: ${JSON.stringify(result)}`);
  return { id: created.server.id, token: created.token, url: `${t.url}${created.server.endpointPath}` };
}

/** An end-user token issued with `apiKey` (the end user is created when new). */
export async function issueEndUserToken(
  t: TestApp,
  apiKey: string,
  input: { workspaceId: string; externalId: string },
): Promise<{ token: string; endUserId: string }> {
  const result = await t.request(IssueEndUserToken, { input }, apiKey);
  const issued = result.data?.issueEndUserToken;
  if (issued?.__typename !== 'EndUserToken') throw new Error(`issueEndUserToken failed: ${JSON.stringify(result)}`);
  return { token: issued.token, endUserId: issued.endUser.id };
}

/** The server's new token; the old one stops working. */
export async function rotateMcpToken(t: TestApp, token: string, id: string): Promise<string> {
  const result = await t.request(RotateMcpServerToken, { input: { id } }, token);
  const rotated = result.data?.rotateMcpServerToken;
  if (rotated?.__typename !== 'McpServerWithToken') throw new Error(`rotateMcpServerToken failed: ${JSON.stringify(result)}`);
  return rotated.token;
}

/** The catalog's actions of an integration, read through the API. */
export async function catalogActions(t: TestApp, name: string): Promise<{ name: string; description: string; inputSchema: unknown }[]> {
  const result = await t.request(CatalogActions, { name });
  const actions = result.data?.integration?.actions;
  if (!actions) throw new Error(`no catalog entry for ${name}`);
  return actions as { name: string; description: string; inputSchema: unknown }[];
}

export interface ConnectedMcpClient {
  client: Client;
  /** Tool names of tools/list, sorted. */
  toolNames(): Promise<string[]>;
  /** Resolves on the next notifications/tools/list_changed (rejects after `ms`). */
  nextListChanged(ms?: number): Promise<void>;
  /** How many list_changed notifications arrived so far. */
  readonly listChangedCount: number;
  /** The Mcp-Session-Id the server gave. */
  readonly sessionId: string | undefined;
  /** Ends the session on the server (HTTP DELETE), then closes the client. */
  end(): Promise<void>;
  close(): Promise<void>;
}

/** The official MCP SDK client over Streamable HTTP, authorised with `bearer` (and optional extra headers). */
export async function connectMcp(url: string, bearer: string, headers: Record<string, string> = {}): Promise<ConnectedMcpClient> {
  const client = new Client({ name: 'heddle-test', version: '1.0.0' });
  let count = 0;
  let waiters: (() => void)[] = [];
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    count++;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${bearer}`, ...headers } },
  });
  await client.connect(transport);
  return {
    client,
    async toolNames() {
      const { tools } = await client.listTools();
      return tools.map((tool) => tool.name).sort();
    },
    nextListChanged(ms = 5000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no tools/list_changed within ${ms} ms`)), ms);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    get listChangedCount() {
      return count;
    },
    get sessionId() {
      return transport.sessionId;
    },
    async end() {
      await transport.terminateSession();
      await client.close();
    },
    close: () => client.close(),
  };
}

/** A raw JSON-RPC initialize POST, to see the HTTP status and body the endpoint answers. */
export async function initializeRaw(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** A session opened by hand (initialize, initialized, the GET stream), to watch the server end it. */
export interface RawMcpSession {
  id: string;
  /** Resolves when the server ends the session's GET stream (the session closed). */
  streamEnded: Promise<void>;
  /** A JSON-RPC request or notification on this session (a new Authorization when `bearer` is given). */
  send(message: object, bearer?: string): Promise<{ status: number; body: string }>;
  /** HTTP DELETE with the session id: ends the session. */
  end(): Promise<number>;
}

export async function openRawSession(url: string, headers: Record<string, string>): Promise<RawMcpSession> {
  const initialized = await initializeRaw(url, headers);
  const id = initialized.headers.get('mcp-session-id');
  if (initialized.status !== 200 || !id) throw new Error(`initialize failed: ${initialized.status} ${initialized.body}`);
  const sessionHeaders = { ...headers, 'mcp-session-id': id };
  const send = async (message: object, bearer?: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...sessionHeaders, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', ...message }),
    });
    return { status: response.status, body: await response.text() };
  };
  const ready = await send({ method: 'notifications/initialized' });
  if (ready.status !== 202) throw new Error(`initialized notification failed: ${ready.status} ${ready.body}`);
  const stream = await fetch(url, { headers: { ...sessionHeaders, accept: 'text/event-stream' } });
  if (stream.status !== 200 || !stream.body) throw new Error(`GET stream failed: ${stream.status}`);
  const reader = stream.body.getReader();
  const streamEnded = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // a reset connection ends the stream too
    }
  })();
  return {
    id,
    streamEnded,
    send,
    async end() {
      const response = await fetch(url, { method: 'DELETE', headers: sessionHeaders });
      await response.body?.cancel();
      return response.status;
    },
  };
}
