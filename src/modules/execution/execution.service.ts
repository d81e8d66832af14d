// Running a catalog action (issue #24): the one path executeAction, MCP
// tools/call and (for its resolution, timeout, metering and audit) the proxy
// share. In order:
//  1. the connection is decided exactly as resolveConnection decides it
//     (strategy, externalId, fallback, directory tier, allowed actions);
//  2. the input is checked against the catalog's JSON Schema: a bad input never
//     reaches the network, not even the token endpoint;
//  3. the token is refreshed when it expires soon (readyResolution);
//  4. with an idempotency key, the execution is claimed by inserting its row
//     (unique per workspace and key): a repeat, on any instance, finds that row
//     and answers what it holds once it is final, without calling the provider;
//  5. the provider is called under one deadline (HEDDLE_ACTION_TIMEOUT_MS),
//     with retries of 429/5xx when sending twice is harmless and one refresh
//     and retry after a 401 on an OAuth2 connection;
//  6. the record (input and output redacted and truncated), the usage and the
//     audit entry are written in one transaction.
// The answer is always the stored record, so every caller of one execution
// reads the same thing and no secret leaves in it.
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import type { Principal } from '../../auth/principal.js';
import { Prisma, type ActionExecution, type Connection, type ExecutionChannel, type PrismaClient } from '../../generated/prisma/client.js';
import { openConnectionSecret, type ConnectionSecret } from '../../platform/crypto/credential-store.js';
import { uniqueViolation } from '../../platform/db/errors.js';
import { uuidv7 } from '../../platform/db/uuid.js';
import {
  ActionNotAllowedError,
  ActionNotSupportedError,
  ConflictError,
  ForbiddenError,
  type ProviderError,
} from '../../platform/errors.js';
import { encodeGlobalID } from '../../platform/ids.js';
import { outcomeAuditSql } from '../audit/audit.service.js';
import { getAction } from '../catalog/catalog.js';
import { ProviderCallError, type Provider, type ProviderAction, type Send } from '../catalog/provider.js';
import { getProvider } from '../catalog/providers.js';
import type { Services } from '../common/context.js';
import type { ConnectionResolution } from '../resolution/resolution.rules.js';
import { decideConnection, readyResolution, usageOf } from '../resolution/resolution.service.js';
import { resolutionUsageStatement } from '../usage/usage.service.js';
import { actionExecutions } from '../../platform/metrics.js';
import { createSend, resolveBaseUrl, type ProviderTarget } from './provider-http.js';
import {
  forStorage,
  IDEMPOTENCY_WINDOW_MS,
  isTransient,
  isUnauthorized,
  MAX_RETRIES,
  mayRetry,
  providerErrorOf,
  providerIdempotencyKey,
  requestHash,
  scrub,
  secretValues,
  validateActionInput,
  waitBeforeRetry,
} from './execution.rules.js';

export type ExecutionDeps = Pick<Services, 'prisma' | 'refresher' | 'credentials' | 'config' | 'logger'>;

export interface ExecuteRequest {
  /** Row id (already decoded from the global id). */
  workspaceId: string;
  /** An alias, else an integration name. */
  integration: string;
  action: string;
  externalId: string | null;
  input: unknown;
  idempotencyKey: string | null;
}

/** Who runs the action, and through which entry point. */
export interface ExecutionCaller {
  /** The audit actor, and the tenancy the workspace is looked up in. */
  principal: Principal;
  channel: ExecutionChannel;
  /** Where the input came from, for the paths of validation errors (`['input', 'input']`, MCP's `['arguments']`). */
  inputPath: string[];
  /** A workspace the caller was already admitted to (an MCP session): replaces the principal's tenancy. */
  workspaceId?: string;
  /** Non-secret facts added to the audit entry (the MCP server). */
  auditDetails?: Record<string, string>;
}

/** A replay waits at most this much longer than the action's own deadline for the first call to finish. */
const REPLAY_GRACE_MS = 5_000;

export async function executeAction(deps: ExecutionDeps, caller: ExecutionCaller, request: ExecuteRequest): Promise<ActionExecution> {
  const { principal } = caller;
  let { externalId } = request;
  let workspaces: Prisma.Sql | undefined;
  if (caller.workspaceId) workspaces = Prisma.sql`w.id = ${caller.workspaceId}::uuid`;
  if (principal.kind === 'endUser') {
    // An end user runs actions for itself only, in its own workspace.
    if (externalId !== null && externalId !== principal.externalId) {
      throw new ForbiddenError('an end-user token runs actions for its own end user only', ['input', 'externalId']);
    }
    externalId = principal.externalId;
    workspaces = Prisma.sql`w.id = ${principal.workspaceId}::uuid`;
  }

  const { data, decision } = await decideConnection(
    deps.prisma,
    principal,
    { workspaceId: request.workspaceId, integration: request.integration, externalId, action: request.action },
    workspaces,
  );
  const integration = decision.workspaceIntegration;
  const catalogAction = getAction(integration.integrationName, request.action);
  if (!catalogAction) throw new ActionNotAllowedError(request.action, integration.alias, []);
  const provider = getProvider(integration.integrationName);
  const action = provider?.actions[request.action];
  if (!provider || !action) throw new ActionNotSupportedError(integration.integrationName, request.action);
  validateActionInput(catalogAction, request.input, caller.inputPath);
  const input = request.input;

  const resolution = await readyResolution(deps.refresher, decision);
  const facts: Facts = {
    organizationId: data.workspace!.organizationId,
    workspaceId: data.workspace!.id,
    resolution,
    action: request.action,
    channel: caller.channel,
  };
  const key = request.idempotencyKey;
  const hash = key ? requestHash({ integration: integration.integrationName, action: request.action, externalId, input }) : null;
  let claimed: ActionExecution | null = null;
  if (key) {
    const claim = await claimKey(deps.prisma, facts, key, hash!);
    if (!claim.won) return replay(deps, claim.row, hash!);
    claimed = claim.row;
  }

  const startedAt = claimed?.startedAt ?? new Date();
  const started = performance.now();
  const keyed = claimed && key ? { workspaceId: facts.workspaceId, idempotencyKey: key, executionId: claimed.id } : null;
  const call = await callProvider(deps, provider, action, integration.integrationName, resolution.connection, input, mayRetry(action, key), keyed);
  const record: Outcome = {
    status: call.error ? ('FAILED' as const) : ('SUCCEEDED' as const),
    input: forStorage(input, call.secrets),
    output: call.error ? null : forStorage(call.output, call.secrets),
    errorCode: call.error?.code ?? null,
    errorMessage: call.error?.message ?? null,
    providerStatus: call.error?.providerStatus ?? null,
    explanation: resolution.explanation,
    attempts: call.attempts,
    durationMs: Math.round(performance.now() - started),
    startedAt,
    finishedAt: new Date(),
  };
  // Catalog names only: the action was found in the integration's catalog above.
  actionExecutions.inc({ integration: integration.integrationName, action: request.action, status: record.status });
  if (call.error) deps.logger.info({ code: call.error.code, providerStatus: call.error.providerStatus, integration: integration.integrationName, action: request.action }, 'action failed at the provider');

  const id = claimed?.id ?? uuidv7();
  const usage = { ...usageOf(data, resolution), execution: true };
  const audit = outcomeAuditSql(principal, {
    action: 'executeAction',
    outcome: call.error ? 'FAILURE' : 'SUCCESS',
    target: { type: 'Connection', id: encodeGlobalID('Connection', resolution.connection.id), organizationId: facts.organizationId, workspaceId: facts.workspaceId },
    details: {
      execution: encodeGlobalID('ActionExecution', id),
      workspaceIntegration: integration.alias,
      action: request.action,
      source: resolution.source,
      channel: caller.channel,
      status: record.status,
      ...(call.error ? { code: call.error.code } : {}),
      ...caller.auditDetails,
    },
  });
  // The record, the usage and the audit entry: one statement.
  const write = claimed ? finishClaimed(id, record) : insertExecution(id, { ...rowOf(facts), ...record });
  const [row] = await deps.prisma.$queryRaw<ActionExecution[]>(resolutionUsageStatement(usage, audit, write));
  return row!;
}

// ---------------------------------------------------------------------------
// The record

interface Facts {
  organizationId: string;
  workspaceId: string;
  resolution: ConnectionResolution;
  action: string;
  channel: ExecutionChannel;
}

function rowOf(facts: Facts) {
  const { resolution } = facts;
  return {
    organizationId: facts.organizationId,
    workspaceId: facts.workspaceId,
    workspaceIntegrationId: resolution.workspaceIntegration.id,
    connectionId: resolution.connection.id,
    endUserId: resolution.endUser?.id ?? null,
    endUserExternalId: resolution.endUser?.externalId ?? null,
    integrationName: resolution.workspaceIntegration.integrationName,
    alias: resolution.workspaceIntegration.alias,
    action: facts.action,
    channel: facts.channel,
    source: resolution.source,
    strategy: resolution.strategy,
  };
}

type Outcome = {
  status: 'SUCCEEDED' | 'FAILED';
  input: unknown;
  output: unknown;
  errorCode: string | null;
  errorMessage: string | null;
  providerStatus: number | null;
  explanation: string[];
  attempts: number;
  durationMs: number;
  startedAt: Date;
  finishedAt: Date;
};

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
const textArray = (values: string[]) => Prisma.sql`ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

/** A finished execution's row, as the last part of the usage statement. */
function insertExecution(id: string, row: ReturnType<typeof rowOf> & Outcome): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "ActionExecution" ("id", "organizationId", "workspaceId", "workspaceIntegrationId", "connectionId", "endUserId", "endUserExternalId",
      "integrationName", "alias", "action", "channel", "status", "input", "output", "errorCode", "errorMessage", "providerStatus",
      "source", "strategy", "explanation", "attempts", "durationMs", "startedAt", "finishedAt")
    VALUES (${id}::uuid, ${row.organizationId}::uuid, ${row.workspaceId}::uuid, ${row.workspaceIntegrationId}::uuid, ${row.connectionId}::uuid,
      ${row.endUserId}::uuid, ${row.endUserExternalId}, ${row.integrationName}, ${row.alias}, ${row.action}, ${row.channel}::"ExecutionChannel",
      ${row.status}::"ExecutionStatus", ${json(row.input)}::jsonb, ${json(row.output)}::jsonb, ${row.errorCode}, ${row.errorMessage},
      ${row.providerStatus}::int, ${row.source}, ${row.strategy}::"ConnectionStrategy", ${textArray(row.explanation)}, ${row.attempts}::int,
      ${row.durationMs}::int, ${row.startedAt}::timestamptz, ${row.finishedAt}::timestamptz)
    RETURNING *`;
}

/** The claimed (PENDING) row of a keyed execution, finished. */
function finishClaimed(id: string, outcome: Outcome): Prisma.Sql {
  return Prisma.sql`
    UPDATE "ActionExecution" SET "status" = ${outcome.status}::"ExecutionStatus", "input" = ${json(outcome.input)}::jsonb,
      "output" = ${json(outcome.output)}::jsonb, "errorCode" = ${outcome.errorCode}, "errorMessage" = ${outcome.errorMessage},
      "providerStatus" = ${outcome.providerStatus}::int, "explanation" = ${textArray(outcome.explanation)}, "attempts" = ${outcome.attempts}::int,
      "durationMs" = ${outcome.durationMs}::int, "finishedAt" = ${outcome.finishedAt}::timestamptz
    WHERE "id" = ${id}::uuid
    RETURNING *`;
}

// ---------------------------------------------------------------------------
// Idempotency

/**
 * Inserts the PENDING row of a keyed execution. Losing the insert means
 * another call (on any instance) holds the key: its row is answered. A key
 * first used longer ago than the idempotency window is released and claimed anew.
 */
async function claimKey(
  prisma: PrismaClient,
  facts: Facts,
  key: string,
  hash: string,
): Promise<{ won: true; row: ActionExecution } | { won: false; row: ActionExecution }> {
  for (;;) {
    try {
      const row = await prisma.actionExecution.create({
        data: { id: uuidv7(), ...rowOf(facts), status: 'PENDING', input: Prisma.JsonNull, explanation: facts.resolution.explanation, idempotencyKey: key, requestHash: hash },
      });
      return { won: true, row };
    } catch (error) {
      if (!uniqueViolation(error)) throw error;
    }
    const existing = await prisma.actionExecution.findUnique({ where: { workspaceId_idempotencyKey: { workspaceId: facts.workspaceId, idempotencyKey: key } } });
    if (!existing) continue; // released or pruned meanwhile: try again
    if (existing.startedAt.getTime() > Date.now() - IDEMPOTENCY_WINDOW_MS) return { won: false, row: existing };
    await prisma.actionExecution.updateMany({ where: { id: existing.id, idempotencyKey: key }, data: { idempotencyKey: null } });
  }
}

/** The first execution of a key, once final; a different request under the same key is a CONFLICT. */
async function replay(deps: ExecutionDeps, first: ActionExecution, hash: string): Promise<ActionExecution> {
  if (first.requestHash !== hash) {
    throw new ConflictError('this idempotencyKey was already used for a different request (integration, action, externalId or input)', ['input', 'idempotencyKey']);
  }
  let row = first;
  const deadline = first.startedAt.getTime() + deps.config.execution.timeoutMs + REPLAY_GRACE_MS;
  // The first call finishes within its deadline; poll its row until then, more slowly as time passes.
  for (let wait = 10; row.status === 'PENDING'; wait = Math.min(wait * 2, 200)) {
    if (Date.now() > deadline) {
      // Its instance stopped before finishing: the call is settled as timed out, once, for everyone.
      await deps.prisma.actionExecution.updateMany({
        where: { id: row.id, status: 'PENDING' },
        data: {
          status: 'FAILED',
          errorCode: 'PROVIDER_TIMEOUT',
          errorMessage: 'the execution did not finish: its Heddle instance stopped before the provider answered',
          finishedAt: new Date(),
        },
      });
    } else {
      await sleep(wait);
    }
    const next = await deps.prisma.actionExecution.findUnique({ where: { id: row.id } });
    if (!next) throw new ConflictError('the first execution of this idempotencyKey was deleted', ['input', 'idempotencyKey']);
    row = next;
  }
  return row;
}

// ---------------------------------------------------------------------------
// The provider call

interface CallOutcome {
  output?: Record<string, unknown>;
  error?: ProviderError;
  attempts: number;
  /** Every secret value the call held (a refresh adds the new token's), scrubbed from what is stored. */
  secrets: string[];
}

const isOAuth2 = (connection: Connection) => connection.type === 'OAUTH2' || connection.type === 'PLATFORM_OAUTH2';

async function callProvider(
  deps: ExecutionDeps,
  provider: Provider,
  action: ProviderAction,
  integrationName: string,
  resolved: Connection,
  input: Record<string, unknown>,
  retry: boolean,
  /** A keyed execution: its requests carry the provider's idempotency header when the provider documents one. */
  keyed: Parameters<typeof providerIdempotencyKey>[0] | null,
): Promise<CallOutcome> {
  const { timeoutMs } = deps.config.execution;
  const signal = AbortSignal.timeout(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  const allowPrivateAddresses = deps.config.env !== 'production';
  let connection = resolved;
  let secret = openConnectionSecret(deps.credentials, connection);
  const secrets = new Set(secretValues(secret));
  let attempts = 0;
  let refreshed = false;

  let target: ProviderTarget;
  let requests = 0;
  const send: Send = async (request) => {
    // Every attempt of this request (retries, the retry after a refresh) sends the same idempotency value.
    const idempotencyKey = keyed && provider.idempotencyHeader ? providerIdempotencyKey(keyed, requests) : undefined;
    requests += 1;
    const attempt = (current: ConnectionSecret) =>
      pRetry(
        () => {
          attempts += 1;
          return createSend({ provider, baseUrl: target, secret: current, signal, allowPrivateAddresses, idempotencyKey })(request);
        },
        {
          retries: retry ? MAX_RETRIES : 0,
          minTimeout: 200,
          maxTimeout: 5_000,
          randomize: true,
          signal,
          shouldRetry: ({ error }) => isTransient(error),
          onFailedAttempt: async ({ error, retryDelay, retriesLeft }) => {
            if (!retry || retriesLeft === 0 || !isTransient(error)) return;
            const wait = waitBeforeRetry(error, retryDelay);
            // A Retry-After beyond the deadline cannot be honoured: fail now, rate limited.
            if (Date.now() + wait + retryDelay >= deadline) throw error;
            if (wait > 0) await sleep(wait, undefined, { signal });
          },
        },
      );
    try {
      return await attempt(secret);
    } catch (error) {
      if (refreshed || !isOAuth2(connection) || !isUnauthorized(error)) throw error;
      // The provider refused the token before it expired (revoked, rotated): one refresh, one more try.
      refreshed = true;
      const outcome = await deps.refresher.refresh(connection.id, connection);
      if (!outcome.ok || Buffer.from(outcome.connection.secretCiphertext ?? []).equals(Buffer.from(connection.secretCiphertext ?? []))) throw error;
      connection = outcome.connection;
      secret = openConnectionSecret(deps.credentials, connection);
      for (const value of secretValues(secret)) secrets.add(value);
      return attempt(secret);
    }
  };

  try {
    target = await resolveBaseUrl(integrationName, provider, { overrides: deps.config.providerBaseUrls, allowPrivateAddresses });
    const output = await action.run(input, send);
    return { output, attempts, secrets: [...secrets] };
  } catch (error) {
    const timedOut = signal.aborted ? { afterMs: timeoutMs } : null;
    if (!timedOut && !(error instanceof ProviderCallError)) {
      deps.logger.warn({ err: scrub(String((error as Error)?.message), [...secrets]), integration: integrationName }, 'a provider could not map its answer');
    }
    return { error: providerErrorOf(error, timedOut, [...secrets]), attempts, secrets: [...secrets] };
  }
}

// ---------------------------------------------------------------------------
// Retention

/** Deletes executions older than the retention; returns how many. */
export async function pruneExecutions(prisma: PrismaClient, retentionDays: number, now = Date.now()): Promise<number> {
  const { count } = await prisma.actionExecution.deleteMany({ where: { startedAt: { lt: new Date(now - retentionDays * 86_400_000) } } });
  return count;
}

/** Prunes once now and then hourly, on every instance (deleting the same old rows twice is harmless). */
export function startExecutionPruning(deps: Pick<Services, 'prisma' | 'config' | 'logger'>): () => void {
  const run = () =>
    void pruneExecutions(deps.prisma, deps.config.execution.retentionDays).catch((error: Error) =>
      deps.logger.warn({ err: error.message }, 'pruning action executions failed'),
    );
  run();
  const timer = setInterval(run, 3_600_000).unref();
  return () => clearInterval(timer);
}
