// MCP tools/call: a tool is a workspace integration's action, run through the
// execution layer exactly as executeAction runs it (validation, resolution,
// timeout, retries, record, usage, audit). Its result is the stored output as
// `structuredContent` and as JSON text; every failure is a tool error
// (`isError: true`) whose text starts with Heddle's stable error code, so an
// agent can read what went wrong and the protocol stays healthy.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ConnectionRequiredError, HeddleError, ValidationError } from '../../platform/errors.js';
import { encodeGlobalID } from '../../platform/ids.js';
import { executeAction, type ExecutionDeps } from '../execution/execution.service.js';
import type { McpCaller } from './caller.js';
import { storedTools, type ToolEntry } from './mcp-tools.rules.js';

const toolError = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** How an end user gets the connection a tool needs. */
const howToConnect = (tool: ToolEntry) =>
  `The end user connects ${tool.integrationName} once on Heddle's hosted connect page: the workspace's backend creates a session for it ` +
  `(createConnectSession with integration "${tool.alias}") and sends the end user to its url.`;

export async function callTool(deps: ExecutionDeps, caller: McpCaller, name: string, args: unknown): Promise<CallToolResult> {
  const server = await deps.prisma.mcpServer.findUnique({ where: { id: caller.server.id }, select: { tools: true } });
  const tool = server && storedTools(server.tools).find((entry) => entry.name === name);
  if (!tool) return toolError(`NOT_FOUND: this MCP server has no tool "${name}" (tools/list says which it has)`);
  if (tool.connectionStrategy === 'PER_USER' && !caller.endUser) {
    return toolError(
      `CONNECTION_REQUIRED: "${name}" acts for an end user with the end user's own ${tool.integrationName} account, and this session has none. ` +
        'Call it with an end-user token (issueEndUserToken), or with the server token and an X-Heddle-External-Id header. ' +
        howToConnect(tool),
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
      return toolError(`CONNECTION_REQUIRED: ${error.message}. ${error.explanation.join('; ')}. ${howToConnect(tool)}`);
    }
    if (error instanceof HeddleError) return toolError(`${error.code}: ${error.message}`);
    throw error;
  }
}
