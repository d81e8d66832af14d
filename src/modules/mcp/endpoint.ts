// `/mcp/{serverId}`: the Model Context Protocol over Streamable HTTP (stateful
// sessions, @modelcontextprotocol/sdk). Each session lists the tools its
// caller may see and hears, through the pub/sub, every change that could alter
// them, whichever instance made it: it recomputes its list and sends
// notifications/tools/list_changed when the list really changed. Tool
// execution is not part of Heddle yet: tools/call answers an error result.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Authenticator } from '../../auth/principal.js';
import { serverTokenTools, storedTools, toolDefinition, toolsResolvingFor, type ToolDefinition } from './mcp-tools.rules.js';
import { loadWorkspaceResolutionData } from '../resolution/resolution.rules.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../platform/logger.js';
import type { AccessRevokedMessage, PubSubHandle } from '../../platform/pubsub.js';
import { authenticateMcpCaller, McpRefusal, type McpCaller } from './caller.js';

export const MCP_PATH_PREFIX = '/mcp/';

const INSTRUCTIONS =
  'Heddle lists the tools of this workspace that the caller can use; the list changes as the workspace integrations and the end user\'s connections change (notifications/tools/list_changed). Executing tools (tools/call) is not available on this server yet.';

export interface McpEndpointDeps {
  prisma: PrismaClient;
  pubsub: PubSubHandle;
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
}

/** The tools `caller` sees now: the server's stored tools, filtered by who is asking. */
export async function toolsFor(prisma: PrismaClient, caller: McpCaller): Promise<ToolDefinition[]> {
  const server = await prisma.mcpServer.findUnique({ where: { id: caller.server.id }, select: { tools: true } });
  if (!server) return [];
  const tools = storedTools(server.tools);
  if (!caller.endUser) return serverTokenTools(tools).map(toolDefinition);
  const data = await loadWorkspaceResolutionData(prisma, caller.server.workspaceId, caller.endUser.externalId);
  return toolsResolvingFor(tools, data, caller.endUser.externalId).map(toolDefinition);
}

const executionUnavailable = (name: string): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text: `Tool execution is not available on this Heddle server: "${name}" can be listed but not called.` }],
});

class McpSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  /** The list the client was last told about (JSON of the definitions). */
  private listed: string | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private readonly stopWatching: (() => void)[] = [];

  constructor(
    readonly caller: McpCaller,
    private readonly deps: McpEndpointDeps,
    onOpen: (session: McpSession) => void,
    onClose: (session: McpSession) => void,
  ) {
    this.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: () => {
        onOpen(this);
        this.watch();
      },
      maxRequestBodySize: deps.maxBodyBytes,
    });
    this.server = new Server(
      { name: 'heddle', version: '0.1.0' },
      { capabilities: { tools: { listChanged: true } }, instructions: INSTRUCTIONS },
    );
    this.server.onclose = () => {
      for (const stop of this.stopWatching) stop();
      onClose(this);
    };
    this.server.setRequestHandler(ListToolsRequestSchema, async () => {
      const tools = await toolsFor(deps.prisma, caller);
      this.listed = JSON.stringify(tools);
      return { tools };
    });
    this.server.setRequestHandler(CallToolRequestSchema, async (request) => executionUnavailable(request.params.name));
  }

  get id(): string | undefined {
    return this.transport.sessionId;
  }

  async open(): Promise<void> {
    await this.server.connect(this.transport);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Every doorbell that could change this caller's tools triggers a recompute. */
  private watch(): void {
    const { pubsub } = this.deps.pubsub;
    const { server, endUser } = this.caller;
    this.listen(pubsub.subscribe('mcp-tools', server.id), () => true);
    if (endUser) {
      // What resolves for an end user also moves with connections and integration settings (e.g. a fallback).
      this.listen(pubsub.subscribe('workspace-config', server.workspaceId), () => true);
      this.listen(
        pubsub.subscribe('connections-changed'),
        (message) => message.workspaceId === server.workspaceId && (message.endUserId === null || message.endUserId === endUser.id),
      );
    }
  }

  private listen<T>(messages: AsyncIterableIterator<T>, relevant: (message: T) => boolean): void {
    this.stopWatching.push(() => void messages.return?.());
    void (async () => {
      for await (const message of messages) if (relevant(message)) this.refresh();
    })();
  }

  /** Recomputes the list (one run at a time, bursts coalesced) and notifies when it changed. */
  private refresh(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const now = JSON.stringify(await toolsFor(this.deps.prisma, this.caller));
        if (now !== this.listed) {
          this.listed = now;
          await this.server.sendToolListChanged();
        }
      } while (this.refreshAgain);
    })()
      .catch((error: Error) => this.deps.logger.warn({ err: error.message, mcpServerId: this.caller.server.id }, 'MCP tool refresh failed'))
      .finally(() => (this.refreshing = null));
  }
}

/** Whether `message` ends a session of `caller`. */
function revokes(message: AccessRevokedMessage, caller: McpCaller): boolean {
  switch (message.kind) {
    case 'mcpServer':
      return message.mcpServerId === caller.server.id && (!message.serverTokenOnly || caller.via === 'serverToken');
    case 'endUser':
      return caller.endUser?.id === message.endUserId;
    case 'workspace':
      return caller.server.workspaceId === message.workspaceId;
    case 'organization':
      return caller.server.organizationId === message.organizationId;
    case 'apiKey':
    case 'member':
      return false;
  }
}

export interface McpEndpoint {
  handle(req: IncomingMessage, res: ServerResponse, serverId: string): Promise<void>;
  readonly sessionCount: number;
  close(): Promise<void>;
}

export function createMcpEndpoint(deps: McpEndpointDeps): McpEndpoint {
  const sessions = new Map<string, McpSession>();
  const expiryTimers = new Map<McpSession, NodeJS.Timeout>();
  const forget = (session: McpSession) => {
    if (session.id) sessions.delete(session.id);
    clearTimeout(expiryTimers.get(session));
    expiryTimers.delete(session);
  };
  const remember = (session: McpSession) => {
    sessions.set(session.id!, session);
    // An end-user token's session ends when the token does (at most 24 h, so the timer is safe).
    const expiresAt = session.caller.expiresAt;
    if (expiresAt) expiryTimers.set(session, setTimeout(() => void session.close(), Math.max(0, expiresAt.getTime() - Date.now())));
  };

  // Revocations from any instance close the sessions they concern.
  const revocations = deps.pubsub.pubsub.subscribe('access-revoked');
  void (async () => {
    for await (const message of revocations) {
      for (const session of sessions.values()) if (revokes(message, session.caller)) void session.close();
    }
  })();

  return {
    get sessionCount() {
      return sessions.size;
    },

    async handle(req, res, serverId) {
      const caller = await authenticateMcpCaller(deps, serverId, req.headers);
      if (caller instanceof McpRefusal) return refuse(res, caller);
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const session = sessions.get(sessionId);
        // A session belongs to the caller that opened it: anyone else gets the SDK's own "unknown session" answer.
        if (!session || !sameCaller(session.caller, caller)) return refuse(res, new McpRefusal(404, 'session not found'));
        return session.transport.handleRequest(req, res);
      }
      if (req.method !== 'POST') return refuse(res, new McpRefusal(400, 'start a session with an initialize request (POST)'));
      const session = new McpSession(caller, deps, remember, forget);
      await session.open();
      await session.transport.handleRequest(req, res);
      // Not an initialize request: the SDK answered the error; nothing to keep.
      if (!session.id) await session.close();
    },

    async close() {
      await revocations.return?.();
      await Promise.all([...sessions.values()].map((session) => session.close()));
    },
  };
}

const sameCaller = (a: McpCaller, b: McpCaller) => a.server.id === b.server.id && a.via === b.via && a.endUser?.id === b.endUser?.id;

function refuse(res: ServerResponse, refusal: McpRefusal): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (refusal.status === 401) headers['www-authenticate'] = 'Bearer realm="heddle-mcp"';
  res.writeHead(refusal.status, headers).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: refusal.message }, id: null }));
}
