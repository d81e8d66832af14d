// `/mcp/{serverId}`: the Model Context Protocol over Streamable HTTP (stateful
// sessions, @modelcontextprotocol/sdk). Each session lists the tools its
// caller may see and hears, through the pub/sub, every change that could alter
// them, whichever instance made it: it recomputes its list and sends
// notifications/tools/list_changed when the list really changed. tools/call
// runs the tool's action through the execution layer (tool-call.service.ts).
//
// Transport security (MCP Streamable HTTP): a request with an Origin that is
// neither Heddle's own nor allowed gets 403 before anything else (DNS
// rebinding); sessions are capped in all and per credential, closed after
// HEDDLE_MCP_SESSION_IDLE_S without a request, ended by DELETE and by a
// revocation on any instance.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Authenticator } from '../../auth/principal.js';
import { serverTokenTools, storedTools, toolDefinition, toolsResolvingFor, type ToolDefinition } from './mcp-tools.rules.js';
import { loadWorkspaceResolutionData } from '../resolution/resolution.service.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../platform/logger.js';
import type { PubSubHandle } from '../../platform/pubsub.js';
import type { McpConfig } from '../../platform/config.js';
import { callTool, type ToolCallDeps } from './tool-call.service.js';
import { onAccessRevoked, revocationReason, type AccessHolder, type AccessScope } from '../realtime/access.js';
import { authenticateMcpCaller, McpRefusal, type McpCaller } from './caller.js';

export const MCP_PATH_PREFIX = '/mcp/';

const INSTRUCTIONS =
  'Heddle lists the tools of this workspace that the caller can use; the list changes as the workspace integrations and the end user\'s connections change (notifications/tools/list_changed). tools/call runs the action against the provider with the connection the workspace resolves for the caller; a failed call is a tool error whose text starts with a stable error code.';

export interface McpEndpointDeps {
  prisma: PrismaClient;
  pubsub: PubSubHandle;
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
  limits: McpConfig;
  /** Heddle's own origin (HEDDLE_PUBLIC_URL's), always allowed. */
  ownOrigin: () => string;
  /** What tools/call runs actions with. */
  execution: ToolCallDeps;
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

class McpSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  /** The list the client was last told about (JSON of the definitions). */
  private listed: string | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private readonly stopWatching: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly idle: NodeJS.Timeout;

  constructor(
    readonly caller: McpCaller,
    private readonly deps: McpEndpointDeps,
    onOpen: (session: McpSession) => void,
    onClose: (session: McpSession) => void,
  ) {
    // Timers never hold the process open; closing the session clears them.
    this.idle = this.after(deps.limits.sessionIdleMs, 'idle');
    // An end-user token's session ends when the token does (at most 24 h, within setTimeout's range).
    if (caller.expiresAt) this.after(caller.expiresAt.getTime() - Date.now(), 'credential expired');
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
      for (const timer of this.timers) clearTimeout(timer);
      onClose(this);
    };
    this.server.setRequestHandler(ListToolsRequestSchema, async () => {
      const tools = await toolsFor(deps.prisma, caller);
      this.listed = JSON.stringify(tools);
      return { tools };
    });
    this.server.setRequestHandler(CallToolRequestSchema, (request) => callTool(deps.execution, caller, request.params.name, request.params.arguments));
  }

  get id(): string | undefined {
    return this.transport.sessionId;
  }

  async open(): Promise<void> {
    await this.server.connect(this.transport);
  }

  /** Passes a request of this session to the SDK; any request restarts the idle clock. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.idle.refresh();
    return this.transport.handleRequest(req, res);
  }

  close(reason: string): Promise<void> {
    this.deps.logger.debug({ mcpServerId: this.caller.server.id, reason }, 'MCP session closed');
    return this.server.close();
  }

  private after(ms: number, reason: string): NodeJS.Timeout {
    const timer = setTimeout(() => void this.close(reason), Math.max(0, ms)).unref();
    this.timers.push(timer);
    return timer;
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

/** What a revocation can name about a session: the one rule of src/modules/realtime/access.ts decides. */
function accessOf(caller: McpCaller): { holder: AccessHolder; scope: AccessScope } {
  const { server } = caller;
  return {
    holder: { endUserId: caller.endUser?.id, mcpServerTokenOf: caller.via === 'serverToken' ? server.id : undefined },
    scope: { organizationId: server.organizationId, workspaceId: server.workspaceId, mcpServerId: server.id },
  };
}

/** Sessions count against their credential: the server token (whoever it acts for), or the end user of end-user tokens. */
const credentialOf = (caller: McpCaller) => (caller.via === 'serverToken' ? `server:${caller.server.id}` : `endUser:${caller.endUser!.id}`);

export interface McpEndpoint {
  handle(req: IncomingMessage, res: ServerResponse, serverId: string): Promise<void>;
  readonly sessionCount: number;
  close(): Promise<void>;
}

export function createMcpEndpoint(deps: McpEndpointDeps): McpEndpoint {
  const { limits } = deps;
  /** Initialised sessions by id. */
  const sessions = new Map<string, McpSession>();
  /** Every session from its first request until it closes (initialising ones hold their place in the caps). */
  const open = new Set<McpSession>();
  const perCredential = new Map<string, number>();
  const allowedOrigins = new Set(limits.allowedOrigins);

  const count = (credential: string, by: number) => {
    const next = (perCredential.get(credential) ?? 0) + by;
    if (next > 0) perCredential.set(credential, next);
    else perCredential.delete(credential);
  };
  const forget = (session: McpSession) => {
    if (session.id) sessions.delete(session.id);
    if (open.delete(session)) count(credentialOf(session.caller), -1);
  };
  const remember = (session: McpSession) => void sessions.set(session.id!, session);

  /** Why a new session of `caller` may not open, or null. Checked and reserved without an await in between. */
  const overLimit = (caller: McpCaller): McpRefusal | null => {
    if (open.size >= limits.maxSessions) {
      return new McpRefusal(503, `this Heddle instance has its maximum of ${limits.maxSessions} MCP sessions open; retry later`);
    }
    if ((perCredential.get(credentialOf(caller)) ?? 0) >= limits.maxSessionsPerKey) {
      return new McpRefusal(
        429,
        `this credential has its maximum of ${limits.maxSessionsPerKey} MCP sessions open; end one (HTTP DELETE with its Mcp-Session-Id) or let it expire`,
      );
    }
    return null;
  };

  // Revocations from any instance close the sessions they concern (the instance's one revocation listener).
  const stopRevocations = onAccessRevoked(deps.pubsub, (message) => {
    for (const session of open) {
      const { holder, scope } = accessOf(session.caller);
      const reason = revocationReason(message, holder, scope);
      if (reason) void session.close(reason);
    }
  });

  return {
    get sessionCount() {
      return sessions.size;
    },

    async handle(req, res, serverId) {
      // Before the credential is even looked at: a browser page of another origin gets nothing (DNS rebinding).
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== deps.ownOrigin() && !allowedOrigins.has(origin)) {
        return refuse(res, new McpRefusal(403, `Origin ${origin} may not call this MCP endpoint (see HEDDLE_MCP_ALLOWED_ORIGINS)`));
      }
      const caller = await authenticateMcpCaller(deps, serverId, req.headers);
      if (caller instanceof McpRefusal) return refuse(res, caller);
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const session = sessions.get(sessionId);
        // A session belongs to the caller that opened it: anyone else gets the SDK's own "unknown session" answer.
        if (!session || !sameCaller(session.caller, caller)) return refuse(res, new McpRefusal(404, 'session not found'));
        return session.handle(req, res);
      }
      if (req.method !== 'POST') return refuse(res, new McpRefusal(400, 'start a session with an initialize request (POST)'));
      const refusal = overLimit(caller);
      if (refusal) return refuse(res, refusal);
      const session = new McpSession(caller, deps, remember, forget);
      open.add(session);
      count(credentialOf(caller), 1);
      try {
        await session.open();
        await session.handle(req, res);
      } finally {
        // Not an initialize request (the SDK answered the error), or a failure: nothing to keep.
        if (!session.id) {
          forget(session);
          await session.close('not initialised');
        }
      }
    },

    async close() {
      stopRevocations();
      await Promise.all([...open].map((session) => session.close('shutdown')));
    },
  };
}

const sameCaller = (a: McpCaller, b: McpCaller) => a.server.id === b.server.id && a.via === b.via && a.endUser?.id === b.endUser?.id;

/** A JSON-RPC error without an id (the spec's form for transport refusals); `data.code` is Heddle's stable code. */
function refuse(res: ServerResponse, refusal: McpRefusal): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (refusal.status === 401) headers['www-authenticate'] = 'Bearer realm="heddle-mcp"';
  const error = { code: -32001, message: refusal.message, data: { code: refusal.code } };
  res.writeHead(refusal.status, headers).end(JSON.stringify({ jsonrpc: '2.0', error, id: null }));
}
