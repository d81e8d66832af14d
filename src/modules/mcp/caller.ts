// Who is calling an MCP server, decided before the MCP SDK sees the request:
// - the server's own bearer token (`mcp_…`): the tools of FIXED and
//   PER_USER_WITH_FALLBACK integrations; with an `X-Heddle-External-Id`
//   header it acts for that end user (created on first use when the server's
//   endUserAccess is OPEN, refused when RESTRICTED and unknown);
// - an end-user token (issueEndUserToken) of the server's workspace.
// Another server's token, another tenant's server and a missing server all
// answer the same 404; a bad or unusable credential answers 401.
import { ANONYMOUS, type Authenticator, type Principal } from '../../auth/principal.js';
import { hashToken } from '../../platform/crypto/tokens.js';
import { ensureEndUser } from '../end-user/end-user.rules.js';
import { externalIdSchema } from '../../platform/identifiers.js';
import { MCP_TOKEN_PREFIX, type McpEndUserAccess } from './mcp-tools.rules.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { decodeId, safeUuid } from '../../platform/ids.js';

export const EXTERNAL_ID_HEADER = 'x-heddle-external-id';

export interface McpCaller {
  server: { id: string; workspaceId: string; organizationId: string; endUserAccess: McpEndUserAccess };
  /** null: the server's own view (its bearer token). */
  endUser: { id: string; externalId: string } | null;
  /** Which credential: rotating the server token ends the sessions opened with it. */
  via: 'serverToken' | 'endUserToken';
  /** When the credential stops working (end-user tokens). */
  expiresAt: Date | null;
  /** Who acts, for the audit log of tools/call: the end user of an end-user token; nobody's principal (SYSTEM) for the server token. */
  principal: Principal;
}

const REFUSAL_CODES = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  429: 'QUOTA_EXCEEDED',
  503: 'QUOTA_EXCEEDED',
} as const;

/** An HTTP refusal: status, and a message and stable code for the JSON-RPC error body. */
export class McpRefusal {
  constructor(
    readonly status: keyof typeof REFUSAL_CODES,
    readonly message: string,
  ) {}

  get code(): (typeof REFUSAL_CODES)[keyof typeof REFUSAL_CODES] {
    return REFUSAL_CODES[this.status];
  }
}

/** `/mcp/{serverId}` takes the row id or the GraphQL id (URL-encoded). */
function serverRowId(segment: string): string {
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // not URL-encoded: use as it is
  }
  return decodeId(decoded, 'McpServer') ?? safeUuid(decoded);
}

const NOT_FOUND = new McpRefusal(404, 'MCP server not found');
const serverSelect = { id: true, workspaceId: true, endUserAccess: true, workspace: { select: { organizationId: true } } } as const;

export async function authenticateMcpCaller(
  deps: { prisma: PrismaClient; authenticator: Authenticator },
  serverId: string,
  headers: { authorization?: string; [EXTERNAL_ID_HEADER]?: string | string[] },
): Promise<McpCaller | McpRefusal> {
  const id = serverRowId(serverId);
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization?.trim() ?? '');
  if (!match) return new McpRefusal(401, 'send the MCP server token or an end-user token as "Authorization: Bearer <token>"');
  const token = match[1]!;

  if (token.startsWith(MCP_TOKEN_PREFIX)) {
    const server = await deps.prisma.mcpServer.findUnique({ where: { tokenHash: hashToken(token) }, select: serverSelect });
    if (!server) return new McpRefusal(401, 'invalid MCP server token');
    if (server.id !== id) return NOT_FOUND;
    const caller = callerOf(server, null, 'serverToken', null);
    const externalId = headers[EXTERNAL_ID_HEADER];
    return externalId === undefined ? caller : actForEndUser(deps.prisma, caller, externalId);
  }

  let principal;
  try {
    principal = await deps.authenticator.authenticate(headers.authorization);
  } catch {
    return new McpRefusal(401, 'invalid or expired token');
  }
  if (principal.kind !== 'endUser') return new McpRefusal(401, 'MCP servers accept their own token or an end-user token');
  const server = await deps.prisma.mcpServer.findFirst({ where: { id, workspaceId: principal.workspaceId }, select: serverSelect });
  if (!server) return NOT_FOUND;
  return callerOf(server, { id: principal.endUserId, externalId: principal.externalId }, 'endUserToken', principal.expiresAt, principal);
}

function callerOf(
  server: { id: string; workspaceId: string; endUserAccess: McpEndUserAccess; workspace: { organizationId: string } },
  endUser: McpCaller['endUser'],
  via: McpCaller['via'],
  expiresAt: Date | null,
  principal: Principal = ANONYMOUS,
): McpCaller {
  const { workspace, ...rest } = server;
  return { server: { ...rest, organizationId: workspace.organizationId }, endUser, via, expiresAt, principal };
}

async function actForEndUser(prisma: PrismaClient, caller: McpCaller, header: string | string[]): Promise<McpCaller | McpRefusal> {
  const parsed = externalIdSchema.safeParse(Array.isArray(header) ? undefined : header);
  if (!parsed.success) return new McpRefusal(400, `${EXTERNAL_ID_HEADER}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const externalId = parsed.data;
  const workspaceId = caller.server.workspaceId;
  let endUser = await prisma.endUser.findUnique({
    where: { workspaceId_externalId: { workspaceId, externalId } },
    select: { id: true, externalId: true },
  });
  if (!endUser && caller.server.endUserAccess === 'OPEN') {
    endUser = { ...(await ensureEndUser(prisma, workspaceId, externalId)), externalId };
  }
  if (!endUser) return new McpRefusal(403, `end user "${externalId}" does not exist and this MCP server only serves existing end users (RESTRICTED)`);
  return { ...caller, endUser: { id: endUser.id, externalId: endUser.externalId } };
}
