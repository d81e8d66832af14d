// MCP tools/call: a tool is a workspace integration's action, run through the
// execution layer exactly as executeAction runs it (validation, resolution,
// timeout, retries, record, usage, audit). Its result is the stored output as
// `structuredContent` and as JSON text; every failure is a tool error
// (`isError: true`) whose text starts with Heddle's stable error code, so an
// agent can read what went wrong and the protocol stays healthy.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ConnectionRequiredError, HeddleError, ValidationError } from '../../platform/errors.js';
import { encodeGlobalID } from '../../platform/ids.js';
import { outcomeAuditSql } from '../audit/audit.service.js';
import type { Services } from '../common/context.js';
import { DEFAULT_SESSION_SECONDS } from '../connect/connect.rules.js';
import { openConnectSession } from '../connect/connect-session.service.js';
import type { RateLimiter } from '../connect/rate-limit.js';
import { executeAction, type ExecutionDeps } from '../execution/execution.service.js';
import type { McpCaller } from './caller.js';
import { storedTools, type ToolEntry } from './mcp-tools.rules.js';

const toolError = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** What tools/call needs: the execution layer, Heddle's public URL for connect links and their budget. */
export type ToolCallDeps = ExecutionDeps & Pick<Services, 'publicUrl'> & { connectLinks: RateLimiter };

/**
 * New connect links per end user, tool integration and MCP server: an agent
 * that calls a tool again and again before its end user has connected must not
 * create a session (and an audit entry) each time. The links it was given stay
 * valid for DEFAULT_SESSION_SECONDS.
 */
export const CONNECT_LINK_BUDGET = { points: 3, seconds: 10 * 60 };

/** How an end user gets the connection a tool needs, when Heddle cannot hand out the link itself. */
const howToConnect = (tool: ToolEntry) =>
  `The end user connects ${tool.integrationName} once on Heddle's hosted connect page: the workspace's backend creates a session for it ` +
  `(createConnectSession with integration "${tool.alias}") and sends the end user to its url.`;

/**
 * A hosted connect link for the end user the caller acts for, when an admin let this server create sessions
 * (its connectRedirectUrl: createConnectSession's own role decided that); else how the backend makes one.
 * A session Heddle cannot create (no OAuth app yet, a redirect origin since removed) says why.
 */
async function connectInstructions(deps: ToolCallDeps, caller: McpCaller, tool: ToolEntry, redirectUrl: string | null): Promise<string> {
  if (!caller.endUser || !redirectUrl) return howToConnect(tool);
  const wait = await deps.connectLinks.hit(`${caller.server.id}:${caller.endUser.id}:${tool.alias}`);
  if (wait > 0) {
    return (
      `This server already created ${CONNECT_LINK_BUDGET.points} connect links for end user "${caller.endUser.externalId}" and ${tool.integrationName} ` +
      `in the last ${CONNECT_LINK_BUDGET.seconds / 60} minutes: send the end user the latest one (each is valid for ${DEFAULT_SESSION_SECONDS / 60} minutes); ` +
      `a new link can be created in ${wait} s.`
    );
  }
  const mcpServer = encodeGlobalID('McpServer', caller.server.id);
  try {
    const session = await openConnectSession(
      deps,
      { id: caller.server.workspaceId, organizationId: caller.server.organizationId },
      { externalId: caller.endUser.externalId, integration: tool.alias, redirectUrl, expiresIn: DEFAULT_SESSION_SECONDS, authType: null },
      (tx, target) =>
        tx.$executeRaw(outcomeAuditSql(caller.principal, { action: 'createConnectSession', outcome: 'SUCCESS', target, details: { channel: 'MCP', mcpServer, integration: tool.alias } })).then(() => undefined),
    );
    return (
      `Send the end user to ${session.url} to connect ${tool.integrationName} (single use, until ${session.expiresAt.toISOString()}); ` +
      'once connected, call the tool again.'
    );
  } catch (error) {
    if (!(error instanceof HeddleError)) throw error;
    const reason = error instanceof ValidationError ? error.fieldErrors.map((e) => e.message).join('; ') : error.message;
    return `${howToConnect(tool)} (This server could not create a connect session: ${reason}.)`;
  }
}

export async function callTool(deps: ToolCallDeps, caller: McpCaller, name: string, args: unknown): Promise<CallToolResult> {
  const server = await deps.prisma.mcpServer.findUnique({ where: { id: caller.server.id }, select: { tools: true, connectRedirectUrl: true } });
  const tool = server && storedTools(server.tools).find((entry) => entry.name === name);
  if (!tool) return toolError(`NOT_FOUND: this MCP server has no tool "${name}" (tools/list says which it has)`);
  if (tool.connectionStrategy === 'PER_USER' && !caller.endUser) {
    return toolError(
      `CONNECTION_REQUIRED: "${name}" acts for an end user with the end user's own ${tool.integrationName} account, and this session has none. ` +
        'Call it with an end-user token (issueEndUserToken), or with the server token and an X-Heddle-External-Id header' +
        (server.connectRedirectUrl ? ': an end user without a connection is then answered a link to connect.' : `. ${howToConnect(tool)}`),
    );
  }
  try {
    const execution = await executeAction(
      deps,
      {
        principal: caller.principal,
        channel: 'MCP',
        inputPath: ['arguments'],
        workspaceId: caller.server.workspaceId,
        auditDetails: { mcpServer: encodeGlobalID('McpServer', caller.server.id) },
      },
      {
        workspaceId: caller.server.workspaceId,
        integration: tool.alias,
        action: tool.action,
        externalId: caller.endUser?.externalId ?? null,
        input: args ?? {},
        idempotencyKey: null,
      },
    );
    if (execution.status !== 'SUCCEEDED') {
      const status = execution.providerStatus === null ? '' : ` (HTTP ${execution.providerStatus})`;
      return toolError(`${execution.errorCode}: ${execution.errorMessage}${status}`);
    }
    const output = execution.output as Record<string, unknown>;
    return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
  } catch (error) {
    if (error instanceof ValidationError) {
      return toolError(`VALIDATION_ERROR: ${error.fieldErrors.map((e) => `${e.path.join('.')}: ${e.message}`).join('; ')}`);
    }
    if (error instanceof ConnectionRequiredError) {
      const instructions = await connectInstructions(deps, caller, tool, server.connectRedirectUrl);
      return toolError(`CONNECTION_REQUIRED: ${error.message}. ${error.explanation.join('; ')}. ${instructions}`);
    }
    if (error instanceof HeddleError) return toolError(`${error.code}: ${error.message}`);
    throw error;
  }
}
