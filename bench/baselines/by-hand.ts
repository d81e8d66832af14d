// The work of each workload written by hand against `pg`, with no GraphQL,
// no Prisma and no authentication: shared by the raw node:http baseline and
// the bare Yoga baseline, so both run the same statements.
import pg from 'pg';
import { auditInsertSql } from '../../src/modules/audit/audit.service.js';
import type { Principal } from '../../src/auth/principal.js';
import { decideResolution } from '../../src/modules/resolution/resolution.rules.js';
import { resolutionDataQuery, toResolutionData, type RawResolutionRow } from '../../src/modules/resolution/resolution.service.js';
import { preparedStatementName } from '../../src/platform/db/prepared.js';
import { resolutionUsageStatement } from '../../src/modules/usage/usage.service.js';
import { decodeGlobalId, encodeGlobalID } from '../../src/platform/ids.js';
import { openConnectionSecret, type CredentialStore } from '../../src/platform/crypto/credential-store.js';
import { NESTED_PAGE } from '../workloads.js';

export const globalId = encodeGlobalID;
/** The row id inside a global id (the baselines trust their input). */
export const rowId = (id: string): string => decodeGlobalId(id)?.id ?? '';

/** The same pool size as Heddle's default (DATABASE_POOL_SIZE). */
export function openPool(): pg.Pool {
  return new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
}

/** W1: one row by primary key. */
export async function workspaceById(pool: pg.Pool, id: string): Promise<{ id: string; name: string; slug: string } | null> {
  const { rows } = await pool.query<{ id: string; name: string; slug: string }>('SELECT id, name, slug FROM "Workspace" WHERE id = $1', [id]);
  return rows[0] ?? null;
}

/**
 * W2: the whole nested answer built by PostgreSQL in one statement (json_agg),
 * the same pages and order as Heddle's connections; returned as JSON text.
 */
export async function organizationTreeJson(pool: pg.Pool, organizationId: string): Promise<string | null> {
  const { rows } = await pool.query<{ body: string }>(
    `SELECT json_build_object('organization', json_build_object(
       'name', o.name,
       'workspaces', json_build_object(
         'totalCount', (SELECT count(*) FROM "Workspace" x WHERE x."organizationId" = o.id),
         'edges', (SELECT COALESCE(json_agg(json_build_object('node', json_build_object(
             'slug', w.slug,
             'integrations', json_build_object(
               'totalCount', (SELECT count(*) FROM "WorkspaceIntegration" x WHERE x."workspaceId" = w.id),
               'edges', (SELECT COALESCE(json_agg(json_build_object('node', json_build_object(
                   'alias', i.alias,
                   'connectionStrategy', i."connectionStrategy",
                   'connection', (SELECT json_build_object('displayName', c."displayName", 'status', c.status)
                                  FROM "Connection" c WHERE c.id = i."connectionId")
                 )) ORDER BY i."createdAt", i.id), '[]'::json)
                 FROM (SELECT * FROM "WorkspaceIntegration" x WHERE x."workspaceId" = w.id ORDER BY x."createdAt", x.id LIMIT $2) i)),
             'endUsers', json_build_object(
               'totalCount', (SELECT count(*) FROM "EndUser" x WHERE x."workspaceId" = w.id),
               'edges', (SELECT COALESCE(json_agg(json_build_object('node', json_build_object(
                   'externalId', e."externalId",
                   'connections', json_build_object('edges', (SELECT COALESCE(json_agg(json_build_object('node', json_build_object(
                       'displayName', c."displayName", 'integrationName', c."integrationName"
                     )) ORDER BY c."createdAt" DESC, c.id DESC), '[]'::json)
                     FROM (SELECT * FROM "Connection" x WHERE x."endUserId" = e.id ORDER BY x."createdAt" DESC, x.id DESC LIMIT $4) c))
                 )) ORDER BY e."createdAt", e.id), '[]'::json)
                 FROM (SELECT * FROM "EndUser" x WHERE x."workspaceId" = w.id ORDER BY x."createdAt", x.id LIMIT $3) e))
           )) ORDER BY w."createdAt", w.id), '[]'::json)
           FROM (SELECT * FROM "Workspace" x WHERE x."organizationId" = o.id ORDER BY x."createdAt", x.id LIMIT $1) w)
       )
     ))::text AS body
     FROM "Organization" o WHERE o.id = $5`,
    [NESTED_PAGE.workspaces, NESTED_PAGE.integrations, NESTED_PAGE.endUsers, NESTED_PAGE.connections, organizationId],
  );
  return rows[0]?.body ?? null;
}

export interface ResolutionByHand {
  source: string;
  connection: { id: string; integrationName: string; status: string };
}

/** resolveConnection's one read and its rule, for the tenant BENCH_ORGANIZATION_ID names (standing in for authentication). */
async function decideByHand(pool: pg.Pool, request: { workspaceId: string; integration: string; externalId?: string | null }) {
  const principal: Principal = { kind: 'apiKey', apiKeyId: '', organizationId: process.env.BENCH_ORGANIZATION_ID!, workspaceIds: null, permissions: [], expiresAt: null };
  const read = resolutionDataQuery(principal, request);
  // Prepared by name like Heddle prepares them (src/platform/db/prepared.ts): the same statements, run the same way.
  const { rows } = await pool.query<RawResolutionRow>({ name: preparedStatementName(read.text), text: read.text, values: read.values });
  const data = toResolutionData(rows[0]!);
  if (!data.workspace) throw new Error('workspace not found');
  return { principal, data: data as typeof data & { workspace: NonNullable<typeof data.workspace> }, decision: decideResolution(data, request) };
}

/**
 * W3: resolveConnection's own statements (src/modules/resolution/resolution.service.ts and
 * src/modules/usage/usage.service.ts): the one read, the rule, the one usage write, both prepared. The tenant comes
 * from BENCH_ORGANIZATION_ID, standing in for what authentication would say.
 */
export async function resolveByHand(
  pool: pg.Pool,
  request: { workspaceId: string; integration: string; externalId?: string | null },
): Promise<ResolutionByHand> {
  const { principal, data, decision } = await decideByHand(pool, request);
  const usage = { organizationId: data.workspace.organizationId, workspaceId: data.workspace.id, endUserId: decision.endUser?.id ?? null, at: new Date() };
  // resolveConnection is a mutation: its audit entry is written by the same statement.
  const audit = auditInsertSql(principal, {
    action: 'resolveConnection',
    outcome: 'SUCCESS',
    target: { type: 'Connection', id: globalId('Connection', decision.connection.id), organizationId: usage.organizationId, workspaceId: usage.workspaceId },
    details: { workspaceIntegration: decision.workspaceIntegration.alias, source: decision.source },
  });
  const write = resolutionUsageStatement(usage, audit);
  await pool.query({ name: preparedStatementName(write.text), text: write.text, values: write.values });
  const { connection } = decision;
  return { source: decision.source, connection: { id: globalId('Connection', connection.id), integrationName: connection.integrationName, status: connection.status } };
}

/** W7's answer: the fields of ActionExecution the workload selects. */
export interface ExecutionByHand {
  __typename: 'ActionExecution';
  status: 'SUCCEEDED';
  output: { channel: string; ts: string; threadTs: string | null };
  attempts: number;
}

/**
 * W7: what any backend does to run Slack's chat.postMessage with a stored
 * credential: resolveConnection's one read and its rule, the secret opened
 * with the same key ring, one fetch to the provider, the answer mapped as
 * Heddle's Slack provider maps it. No validation, record, usage or audit.
 */
export async function executeByHand(
  pool: pg.Pool,
  store: CredentialStore,
  providerUrl: string,
  request: { workspaceId: string; integration: string; channel: string; text: string },
): Promise<ExecutionByHand> {
  const { connection } = (await decideByHand(pool, request)).decision;
  const secret = openConnectionSecret(store, connection);
  const response = await fetch(`${providerUrl}/chat.postMessage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret.accessToken ?? secret.apiKey}`, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ channel: request.channel, text: request.text }),
  });
  const body = (await response.json()) as { ok: boolean; error?: string; channel: string; ts: string; message?: { thread_ts?: string } };
  if (!body.ok) throw new Error(`Slack answered ${body.error}`);
  return { __typename: 'ActionExecution', status: 'SUCCEEDED', output: { channel: body.channel, ts: body.ts, threadTs: body.message?.thread_ts ?? null }, attempts: 1 };
}
