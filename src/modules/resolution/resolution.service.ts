// Resolving a connection against the database:
// - loadResolutionData reads everything decideResolution needs in one statement;
// - resolveConnection adds the OAuth2 refresh (readyResolution), usage
//   metering and the audit entry, so a resolution that needs no refresh costs
//   two statements: one read, one write (usage and audit in one statement);
//   action execution (src/modules/execution) runs decideConnection and
//   readyResolution too, and meters in its own final statement;
// - explainResolution answers the same decision with no side effect;
// - readCredentials decrypts the chosen secret for callers allowed to see it,
//   auditing every read.

import { encodeGlobalID } from '@pothos/plugin-relay';
import { recordAudit, mutationAuditSql } from '../audit/audit.service.js';
import type { Principal } from '../../auth/principal.js';
import { visibleWorkspaceSql } from '../../auth/registry.js';
import { openConnectionSecret, type ConnectionSecret, type CredentialStore } from '../../platform/crypto/credential-store.js';
import { prepared } from '../../platform/db/prepared.js';
import { ConnectionRequiredError, NotFoundError } from '../../platform/errors.js';
import { assertInKeyScope } from '../../auth/key-scope.js';
import { Prisma, type Connection, type EndUser, type PrismaClient, type WorkspaceIntegration } from '../../generated/prisma/client.js';
import type { Logger } from '../../platform/logger.js';
import { needsRefresh, type TokenRefresher } from '../oauth/token-refresher.js';
import { recordResolutionUsage, type ResolutionUsage } from '../usage/usage.service.js';
import { resolutions } from '../../platform/metrics.js';
import {
  ConnectionResolution,
  decideResolution,
  ResolutionExplanation,
  type Decision,
  type ResolutionData,
  type ResolutionRequest,
} from './resolution.rules.js';

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
 * first (a failed refresh is CONNECTION_REQUIRED). No side effect besides the
 * refresh: metering and audit are the caller's statement.
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
  resolutions.inc({ strategy: decision.workspaceIntegration.connectionStrategy, source: decision.source });
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

/** The secret, with the (non-secret) expiry of its access token. */
export type Credentials = ConnectionSecret & { expiresAt: Date | null };

/** Decrypts the resolved connection's secret for the caller, leaving an audit entry whether or not it succeeds. */
export async function readCredentials(
  deps: { prisma: PrismaClient; logger: Logger; principal: Principal; credentials: CredentialStore },
  resolution: ConnectionResolution,
): Promise<Credentials> {
  const connection: Connection = resolution.connection;
  const audit = (outcome: 'SUCCESS' | 'FAILURE') =>
    recordAudit(deps, {
      action: 'connection.credentials.read',
      outcome,
      target: { type: 'Connection', id: connection.id, organizationId: connection.organizationId, workspaceId: connection.workspaceId },
      details: { workspaceIntegrationId: resolution.workspaceIntegration.id, source: resolution.source },
    });
  let secret;
  try {
    secret = openConnectionSecret(deps.credentials, connection);
  } catch (error) {
    await audit('FAILURE');
    throw error;
  }
  await audit('SUCCESS');
  return { ...secret, expiresAt: connection.expiresAt };
}
