// resolveConnection (DESIGN.md §2): which connection a workspace uses for an
// integration, an end user and an action.
// - decideResolution is the rule itself, pure, and explains every candidate;
// - loadResolutionData reads everything the rule needs in one statement;
// - resolveConnection adds the OAuth2 refresh (readyResolution) and usage
//   metering, so a resolution that needs no refresh costs two statements: one
//   read, one write. Action execution (src/modules/execution) runs the same
//   steps and meters in its own final statement.
import { z } from 'zod';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { mutationAuditSql } from '../audit/audit.service.js';
import { assertInKeyScope } from '../../auth/key-scope.js';
import type { Principal } from '../../auth/principal.js';
import { visibleWorkspaceSql } from '../../auth/tenancy.js';
import { actionNames } from '../catalog/catalog.js';
import { prepared } from '../../platform/db/prepared.js';
import { Prisma, type Connection, type EndUser, type PrismaClient, type WorkspaceIntegration } from '../../generated/prisma/client.js';
import { needsRefresh, type TokenRefresher } from '../oauth/token-refresher.js';
import {
  ActionNotAllowedError,
  AmbiguousIntegrationError,
  ConnectionRequiredError,
  NotFoundError,
  ValidationError,
} from '../../platform/errors.js';
import { externalIdSchema } from '../../platform/identifiers.js';
import { recordResolutionUsage, type ResolutionUsage } from '../usage/usage.service.js';
import { allowedActionsOf } from '../workspace-integration/workspace-integration.rules.js';

export const RESOLUTION_SOURCES = ['FIXED', 'USER', 'DIRECTORY', 'FALLBACK'] as const;
export type ResolutionSource = (typeof RESOLUTION_SOURCES)[number];

export const resolveConnectionSchema = z.object({
  workspaceId: z.string(),
  integration: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  externalId: externalIdSchema.nullish(),
  action: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').nullish(),
});

export interface ResolutionRequest {
  /** Row id (already decoded from the global id). */
  workspaceId: string;
  /** An alias, else an integration name. */
  integration: string;
  externalId?: string | null;
  action?: string | null;
}

/** What the rule looks at: the workspace, the integrations the name matches, the end user and every candidate connection. */
export interface ResolutionData {
  workspace: { id: string; organizationId: string } | null;
  integrations: WorkspaceIntegration[];
  endUser: EndUser | null;
  directory: { id: string; name: string } | null;
  /** The matched integrations' fixed/fallback connections, the end user's USER and its directory's DIRECTORY connections. */
  connections: Connection[];
}

export interface Decision {
  workspaceIntegration: WorkspaceIntegration;
  endUser: EndUser | null;
  connection: Connection;
  source: ResolutionSource;
  explanation: string[];
}

/** What resolveConnection answers: the chosen connection and why. */
export class ConnectionResolution {
  constructor(
    readonly connection: Connection,
    readonly source: ResolutionSource,
    readonly workspaceIntegration: WorkspaceIntegration,
    readonly endUser: EndUser | null,
    readonly explanation: string[],
  ) {}

  get strategy() {
    return this.workspaceIntegration.connectionStrategy;
  }
}

/** What explainResolution answers: the same decision, and whether resolving would refresh the token first. */
export class ResolutionExplanation extends ConnectionResolution {
  constructor(
    connection: Connection,
    source: ResolutionSource,
    workspaceIntegration: WorkspaceIntegration,
    endUser: EndUser | null,
    explanation: string[],
    readonly wouldRefresh: boolean,
  ) {
    super(connection, source, workspaceIntegration, endUser, explanation);
  }
}

// ---------------------------------------------------------------------------
// The rule

const newestFirst = (a: Connection, b: Connection) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id);

/** The first ACTIVE connection of `candidates`; every one looked at is explained. */
function firstActive(candidates: Connection[], where: string, none: string, explanation: string[]): Connection | null {
  if (candidates.length === 0) explanation.push(`${where}: ${none}`);
  for (const connection of candidates) {
    const label = `${connection.scope} connection "${connection.displayName}"`;
    if (connection.status === 'ACTIVE') {
      explanation.push(`${where}: ${label} is ACTIVE: chosen`);
      return connection;
    }
    explanation.push(`${where}: ${label} skipped: it is ${connection.status}${connection.statusReason ? ` (${connection.statusReason})` : ''}`);
  }
  return null;
}

/**
 * Step 1: `name` matches an alias first, else an integration name; a name that
 * several aliases share is AMBIGUOUS_INTEGRATION, none NOT_FOUND. Hosted
 * connect sessions name their integration the same way.
 */
export function matchIntegration(candidates: WorkspaceIntegration[], name: string, explanation: string[] = []): WorkspaceIntegration {
  const byAlias = candidates.find((wi) => wi.alias === name);
  if (byAlias) {
    explanation.push(`"${name}" is the alias of a ${byAlias.integrationName} integration (${byAlias.connectionStrategy})`);
    return byAlias;
  }
  const byName = candidates.filter((wi) => wi.integrationName === name);
  if (byName.length > 1) throw new AmbiguousIntegrationError(name, byName.map((wi) => wi.alias).sort());
  const [only] = byName;
  if (!only) throw new NotFoundError(`workspace integration "${name}"`, ['input', 'integration']);
  explanation.push(`"${name}" is no alias; it names the ${name} integration with alias "${only.alias}" (${only.connectionStrategy})`);
  return only;
}

function assertActionAllowed(integration: WorkspaceIntegration, action: string | null | undefined, explanation: string[]): void {
  if (action == null) return;
  const allowed = allowedActionsOf(integration.allowedActions) ?? actionNames(integration.integrationName);
  if (!allowed.includes(action)) throw new ActionNotAllowedError(action, integration.alias, allowed);
  explanation.push(`action "${action}" is allowed`);
}

/** The end user's own ACTIVE USER connection for the integration, newest first. */
function ownConnection(data: ResolutionData, integration: WorkspaceIntegration, externalId: string, explanation: string[]) {
  const where = `end user "${externalId}"`;
  if (!data.endUser) {
    explanation.push(`${where} is not known in this workspace, so has no connections`);
    return null;
  }
  const own = data.connections
    .filter((c) => c.scope === 'USER' && c.endUserId === data.endUser!.id && c.integrationName === integration.integrationName)
    .sort(newestFirst);
  return firstActive(own, where, `no USER connection for ${integration.integrationName}`, explanation);
}

/** The ACTIVE DIRECTORY connection of the end user's directory (the default directory has none). */
function directoryConnection(data: ResolutionData, integration: WorkspaceIntegration, externalId: string, explanation: string[]) {
  if (!data.endUser) return null;
  if (!data.directory) {
    explanation.push(`end user "${externalId}" is in the default directory, which has no DIRECTORY connections`);
    return null;
  }
  const directory = data.directory;
  const shared = data.connections
    .filter((c) => c.scope === 'DIRECTORY' && c.directoryId === directory.id && c.integrationName === integration.integrationName)
    .sort(newestFirst);
  return firstActive(shared, `directory "${directory.name}"`, `no DIRECTORY connection for ${integration.integrationName}`, explanation);
}

/** The integration's own connection: FIXED's, or PER_USER_WITH_FALLBACK's fallback. */
function configuredConnection(data: ResolutionData, integration: WorkspaceIntegration, role: string, explanation: string[]) {
  const configured = data.connections.filter((c) => c.id === integration.connectionId);
  return firstActive(configured.slice(0, 1), `${role} connection`, 'none configured', explanation);
}

/** DESIGN.md §2, resolveConnection steps 1 to 6. Throws the typed error of the step that fails. */
export function decideResolution(data: ResolutionData, request: ResolutionRequest): Decision {
  const explanation: string[] = [];
  const integration = matchIntegration(data.integrations, request.integration, explanation);
  assertActionAllowed(integration, request.action, explanation);
  const externalId = request.externalId ?? null;
  const endUser = externalId ? data.endUser : null;
  const decided = (connection: Connection, source: ResolutionSource): Decision => ({
    workspaceIntegration: integration,
    endUser,
    connection,
    source,
    explanation,
  });
  const required = (message: string) => new ConnectionRequiredError(message, explanation);

  switch (integration.connectionStrategy) {
    case 'FIXED': {
      const fixed = configuredConnection(data, integration, 'fixed', explanation);
      if (fixed) return decided(fixed, 'FIXED');
      throw required(`the fixed connection of "${integration.alias}" is not ACTIVE`);
    }
    case 'PER_USER': {
      if (!externalId) {
        throw new ValidationError([{ path: ['input', 'externalId'], message: `is required: "${integration.alias}" is PER_USER` }]);
      }
      const own = ownConnection(data, integration, externalId, explanation);
      if (own) return decided(own, 'USER');
      throw required(`end user "${externalId}" has no ACTIVE ${integration.integrationName} connection`);
    }
    case 'PER_USER_WITH_FALLBACK': {
      if (externalId) {
        const own = ownConnection(data, integration, externalId, explanation);
        if (own) return decided(own, 'USER');
        const shared = directoryConnection(data, integration, externalId, explanation);
        if (shared) return decided(shared, 'DIRECTORY');
      } else {
        explanation.push('no externalId given: only the fallback applies');
      }
      const fallback = configuredConnection(data, integration, 'fallback', explanation);
      if (fallback) return decided(fallback, 'FALLBACK');
      throw required(`no ACTIVE connection for "${integration.alias}": the fallback is not ACTIVE`);
    }
  }
}

// ---------------------------------------------------------------------------
// Data access

export interface RawResolutionRow {
  workspace: { id: string; organizationId: string } | null;
  integrations: (Omit<WorkspaceIntegration, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string })[];
  endUser: (Omit<EndUser, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string }) | null;
  directory: { id: string; name: string } | null;
  connections: (Omit<Connection, 'createdAt' | 'updatedAt' | 'expiresAt' | 'secretCiphertext' | 'wrappedDataKey'> & {
    createdAt: string;
    updatedAt: string;
    expiresAt: string | null;
    secretCiphertext: string | null;
    wrappedDataKey: string | null;
  })[];
}

const bytes = (base64: string | null) => (base64 === null ? null : new Uint8Array(Buffer.from(base64, 'base64')));
const timestamps = <T extends { createdAt: string; updatedAt: string }>(row: T) => ({
  ...row,
  createdAt: new Date(row.createdAt),
  updatedAt: new Date(row.updatedAt),
});

/**
 * One statement: the workspace (if the principal may see it), the integrations
 * `request.integration` names by alias or integration name, the end user and its
 * directory, and every connection any of them could resolve to, ERROR ones
 * included (the explanation says why they were skipped). Exported as SQL so the
 * benchmark's hand-written baselines run exactly this statement through `pg`.
 */
export function resolutionDataQuery(principal: Principal, request: ResolutionRequest): Prisma.Sql {
  return dataQuery(visibleWorkspaceSql(principal), request.workspaceId, request.integration, request.externalId ?? null);
}

function dataQuery(
  visibleWorkspace: Prisma.Sql,
  workspaceId: string,
  /** null: every integration of the workspace. */
  integration: string | null,
  externalId: string | null,
): Prisma.Sql {
  return prepared(Prisma.sql`
    WITH ws AS (
      SELECT w.id, w."organizationId" FROM "Workspace" w
      WHERE w.id = ${workspaceId}::uuid AND ${visibleWorkspace}
    ), wi AS (
      SELECT i.* FROM "WorkspaceIntegration" i
      WHERE i."workspaceId" IN (SELECT id FROM ws)
        AND (${integration}::text IS NULL OR i.alias = ${integration}::text OR i."integrationName" = ${integration}::text)
    ), eu AS (
      SELECT e.* FROM "EndUser" e
      WHERE e."workspaceId" IN (SELECT id FROM ws) AND e."externalId" = ${externalId}::text
    ), candidates AS (
      SELECT c.* FROM "Connection" c WHERE c.id IN (SELECT "connectionId" FROM wi)
      UNION ALL
      SELECT c.* FROM "Connection" c
      WHERE c."endUserId" IN (SELECT id FROM eu) AND c.scope = 'USER' AND c."integrationName" IN (SELECT "integrationName" FROM wi)
      UNION ALL
      SELECT c.* FROM "Connection" c
      WHERE c."directoryId" IN (SELECT "directoryId" FROM eu) AND c.scope = 'DIRECTORY' AND c."integrationName" IN (SELECT "integrationName" FROM wi)
    )
    SELECT
      (SELECT to_jsonb(ws) FROM ws) AS workspace,
      (SELECT COALESCE(jsonb_agg(to_jsonb(wi)), '[]'::jsonb) FROM wi) AS integrations,
      (SELECT to_jsonb(eu) FROM eu) AS "endUser",
      (SELECT jsonb_build_object('id', d.id, 'name', d.name) FROM "Directory" d WHERE d.id IN (SELECT "directoryId" FROM eu)) AS directory,
      (SELECT COALESCE(jsonb_agg(
         to_jsonb(c) - 'secretCiphertext' - 'wrappedDataKey'
         || jsonb_build_object('secretCiphertext', encode(c."secretCiphertext", 'base64'), 'wrappedDataKey', encode(c."wrappedDataKey", 'base64'))
       ), '[]'::jsonb) FROM candidates c) AS connections`);
}

/** The row of resolutionDataQuery as the rule's input (JSON dates and base64 bytes decoded). */
export function toResolutionData(raw: RawResolutionRow): ResolutionData {
  return {
    workspace: raw.workspace,
    integrations: raw.integrations.map(timestamps),
    endUser: raw.endUser && timestamps(raw.endUser),
    directory: raw.directory,
    connections: raw.connections.map((c) => ({
      ...timestamps(c),
      expiresAt: c.expiresAt === null ? null : new Date(c.expiresAt),
      secretCiphertext: bytes(c.secretCiphertext),
      wrappedDataKey: bytes(c.wrappedDataKey),
    })) as Connection[],
  };
}

/** The rule's input in one statement; `workspaces` as in decideConnection. */
export async function loadResolutionData(
  prisma: PrismaClient,
  principal: Principal,
  request: ResolutionRequest,
  workspaces: Prisma.Sql = visibleWorkspaceSql(principal),
): Promise<ResolutionData> {
  const [row] = await prisma.$queryRaw<RawResolutionRow[]>(dataQuery(workspaces, request.workspaceId, request.integration, request.externalId ?? null));
  return toResolutionData(row!);
}

/**
 * The same data for every integration of a workspace the caller has already
 * been authorised for (an MCP session): what each integration resolves to for
 * `externalId`.
 */
export async function loadWorkspaceResolutionData(prisma: PrismaClient, workspaceId: string, externalId: string): Promise<ResolutionData> {
  const [row] = await prisma.$queryRaw<RawResolutionRow[]>(dataQuery(Prisma.sql`TRUE`, workspaceId, null, externalId));
  return toResolutionData(row!);
}

// ---------------------------------------------------------------------------
// The whole resolution

export interface ResolutionDeps {
  prisma: PrismaClient;
  refresher: TokenRefresher;
}

/**
 * The decision for a principal, read in one statement: NOT_FOUND for another
 * tenant, SCOPE_DENIED outside a restricted key. `workspaces` narrows or
 * replaces the principal's tenancy for callers already admitted to one
 * workspace (an end user executing for itself, an MCP session).
 */
export async function decideConnection(
  prisma: PrismaClient,
  principal: Principal,
  request: ResolutionRequest,
  workspaces: Prisma.Sql = visibleWorkspaceSql(principal),
): Promise<{ data: ResolutionData; decision: Decision }> {
  const data = await loadResolutionData(prisma, principal, request, workspaces);
  if (!data.workspace) throw new NotFoundError('workspace', ['input', 'workspaceId']);
  assertInKeyScope(principal, data.workspace.id);
  return { data, decision: decideResolution(data, request) };
}

/**
 * explainResolution: the decision resolveConnection would take, without its
 * side effects (no refresh, no metering, no audit, no credentials). An
 * expiring OAuth2 token is reported, not refreshed.
 */
export async function explainResolution(prisma: PrismaClient, principal: Principal, request: ResolutionRequest): Promise<ResolutionExplanation> {
  const { decision } = await decideConnection(prisma, principal, request);
  const explanation = [...decision.explanation];
  const wouldRefresh = needsRefresh(decision.connection);
  if (wouldRefresh) explanation.push(`connection "${decision.connection.displayName}": its access token expires soon; resolveConnection refreshes it first`);
  return new ResolutionExplanation(decision.connection, decision.source, decision.workspaceIntegration, decision.endUser, explanation, wouldRefresh);
}

/**
 * The decided connection, ready to use: an expiring OAuth2 token is refreshed
 * first (a failed refresh is CONNECTION_REQUIRED). Without side effects
 * besides the refresh: metering and audit are the caller's statement.
 */
export async function readyResolution(refresher: TokenRefresher, decision: Decision): Promise<ConnectionResolution> {
  const explanation = [...decision.explanation];
  let connection = decision.connection;
  if (needsRefresh(connection)) {
    const outcome = await refresher.refresh(connection.id);
    if (!outcome.ok) {
      throw new ConnectionRequiredError(`connection "${connection.displayName}" needs to be reconnected: ${outcome.reason}`, [
        ...explanation,
        outcome.reason,
      ]);
    }
    connection = outcome.connection;
    explanation.push(`connection "${connection.displayName}": ${outcome.note}`);
  }
  return new ConnectionResolution(connection, decision.source, decision.workspaceIntegration, decision.endUser, explanation);
}

/** What a successful resolution counts in usage (recordResolutionUsage). */
export function usageOf(data: ResolutionData, resolution: ConnectionResolution, at = new Date()): ResolutionUsage {
  return { organizationId: data.workspace!.organizationId, workspaceId: data.workspace!.id, endUserId: resolution.endUser?.id ?? null, at };
}

/**
 * Resolves and meters. Another tenant's workspace is NOT_FOUND; a workspace
 * outside a restricted API key's list is SCOPE_DENIED. An expiring OAuth2
 * token is refreshed first; a failed refresh is CONNECTION_REQUIRED.
 */
export async function resolveConnection(deps: ResolutionDeps, principal: Principal, request: ResolutionRequest): Promise<ConnectionResolution> {
  const { data, decision } = await decideConnection(deps.prisma, principal, request);
  const resolution = await readyResolution(deps.refresher, decision);
  const usage = usageOf(data, resolution);
  const audit = mutationAuditSql(principal, {
    target: { type: 'Connection', id: encodeGlobalID('Connection', resolution.connection.id), organizationId: usage.organizationId, workspaceId: usage.workspaceId },
    details: { workspaceIntegration: decision.workspaceIntegration.alias, source: decision.source },
  });
  await recordResolutionUsage(deps.prisma, usage, audit);
  return resolution;
}
