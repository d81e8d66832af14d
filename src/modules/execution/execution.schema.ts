// executeAction and the execution history: the GraphQL face of
// execution.service.ts. An execution is answered as it was stored (input and
// output redacted and truncated), so a replay of its idempotency key, the
// history and the first answer are the same.
import { z } from 'zod';
import { visible } from '../../auth/registry.js';
import type { ActionExecution, Prisma } from '../../generated/prisma/client.js';
import {
  ActionNotAllowedError,
  ActionNotSupportedError,
  AmbiguousIntegrationError,
  ConflictError,
  ConnectionRequiredError,
  ForbiddenError,
  NotFoundError,
  PROVIDER_ERROR_CODES,
  type ProviderErrorCode,
  ValidationError,
} from '../../platform/errors.js';
import { externalIdSchema } from '../../platform/identifiers.js';
import { decodeId, safeUuid } from '../../platform/ids.js';
import { parseInput } from '../../platform/validate.js';
import { builder } from '../common/builder.js';
import { pointRead } from '../common/point-reads.js';
import { ErrorCodeEnum } from '../common/errors.schema.js';
import { workspaceScoped } from '../common/scopes.js';
import { ResolutionSourceEnum } from '../resolution/resolution.schema.js';
import { ConnectionStrategyEnum } from '../workspace-integration/workspace-integration.schema.js';
import { executeAction } from './execution.service.js';

const ExecutionStatusEnum = builder.enumType('ActionExecutionStatus', {
  values: {
    SUCCEEDED: { description: 'The provider did what was asked; output holds its answer.' },
    FAILED: { description: 'The provider refused, failed, rate limited or did not answer in time; error says which.' },
    PENDING: { description: 'Still running (seen in the history while a call is in flight).' },
  },
});

const ExecutionChannelEnum = builder.enumType('ActionExecutionChannel', {
  values: { GRAPHQL: { description: 'executeAction.' }, MCP: { description: 'An MCP tools/call.' } },
});

/** A stored failure: what ProviderError said when the execution ended. */
interface ExecutionFailure {
  code: ProviderErrorCode;
  message: string;
  providerStatus: number | null;
}

const ExecutionErrorRef = builder.objectRef<ExecutionFailure>('ActionExecutionError').implement({
  description: 'Why an action failed at the provider.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'PROVIDER_ERROR, PROVIDER_TIMEOUT or PROVIDER_RATE_LIMITED.', resolve: (e) => e.code }),
    message: t.exposeString('message', { description: "The provider's own message (Slack's error code, GitHub's message), never a credential." }),
    providerStatus: t.exposeInt('providerStatus', { nullable: true, description: "The provider's HTTP status; null when it did not answer." }),
  }),
});

const isProviderCode = (code: string): code is ProviderErrorCode => (PROVIDER_ERROR_CODES as readonly string[]).includes(code);

const errorOf = (row: ActionExecution): ExecutionFailure | null =>
  row.errorCode && isProviderCode(row.errorCode) ? { code: row.errorCode, message: row.errorMessage ?? '', providerStatus: row.providerStatus } : null;

const ResolutionVariant = builder.prismaObject('ActionExecution', {
  variant: 'ActionExecutionResolution',
  description: 'Which connection the execution used and why: what resolveConnection explains, never a credential.',
  fields: (t) => ({
    source: t.field({ type: ResolutionSourceEnum, resolve: (row) => row.source as 'FIXED' | 'USER' | 'DIRECTORY' | 'FALLBACK' }),
    strategy: t.expose('strategy', { type: ConnectionStrategyEnum }),
    explanation: t.exposeStringList('explanation', { description: 'Each candidate that was checked, and why it won or was skipped.' }),
    connection: t.relation('connection', { nullable: true, description: 'null once the connection is deleted.' }),
    workspaceIntegration: t.relation('workspaceIntegration', { nullable: true, description: 'null once the integration is removed.' }),
    endUser: t.relation('endUser', { nullable: true, description: 'The end user named by externalId, when it exists.' }),
  }),
});

export const ActionExecutionRef = builder.prismaNode('ActionExecution', {
  nullable: true,
  authScopes: workspaceScoped,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: safeUuid(id), AND: [visible('ActionExecution', ctx.principal)] }),
  fields: (t) => ({
    status: t.expose('status', { type: ExecutionStatusEnum }),
    integration: t.exposeString('integrationName', { description: 'The catalog integration.' }),
    alias: t.exposeString('alias', { description: 'The workspace integration it ran through.' }),
    action: t.exposeString('action'),
    channel: t.expose('channel', { type: ExecutionChannelEnum }),
    input: t.expose('input', { type: 'JSON', description: 'The input, redacted (secret-looking keys, the credential) and truncated at 64 KB.' }),
    output: t.expose('output', {
      type: 'JSON',
      nullable: true,
      description: "The action's output (its catalog outputSchema), redacted and truncated at 64 KB like the input; null unless SUCCEEDED.",
    }),
    error: t.field({ type: ExecutionErrorRef, nullable: true, description: 'Why it FAILED.', resolve: errorOf }),
    resolution: t.variant(ResolutionVariant),
    endUserExternalId: t.exposeString('endUserExternalId', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    attempts: t.exposeInt('attempts', { description: 'Requests sent to the provider, retries and the retry after a token refresh included.' }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    workspace: t.relation('workspace'),
  }),
});

const ExecutionFilter = builder.inputType('ActionExecutionFilter', {
  fields: (t) => ({
    status: t.field({ type: ExecutionStatusEnum }),
    integration: t.string({ description: 'An alias or an integration name.' }),
    endUserExternalId: t.string(),
    since: t.field({ type: 'DateTime', description: 'Only executions started at or after this time.' }),
  }),
});

function filterWhere(filter: {
  status?: 'SUCCEEDED' | 'FAILED' | 'PENDING' | null;
  integration?: string | null;
  endUserExternalId?: string | null;
  since?: Date | null;
} | null | undefined): Prisma.ActionExecutionWhereInput {
  if (!filter) return {};
  return {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.integration ? { OR: [{ alias: filter.integration }, { integrationName: filter.integration }] } : {}),
    ...(filter.endUserExternalId ? { endUserExternalId: filter.endUserExternalId } : {}),
    ...(filter.since ? { startedAt: { gte: filter.since } } : {}),
  };
}

builder.prismaObjectFields('Workspace', (t) => ({
  actionExecutions: t.relatedConnection('actionExecutions', {
    cursor: 'id',
    totalCount: true,
    description: `Executed actions, newest first, kept HEDDLE_EXECUTION_RETENTION_DAYS days.`,
    args: { filter: t.arg({ type: ExecutionFilter }) },
    // uuidv7 ids grow with time: ordering by id is ordering by start.
    query: (args) => ({ where: filterWhere(args.filter), orderBy: { id: 'desc' } }),
  }),
}));

const readExecution = pointRead('ActionExecution', (prisma, args) => prisma.actionExecution.findMany(args));

builder.queryField('actionExecution', (t) =>
  t.prismaField({
    type: 'ActionExecution',
    nullable: true,
    description: 'One execution: of the caller’s organizations, or an end user’s own.',
    authScopes: { signedIn: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId(String(args.id), 'ActionExecution');
      return id ? readExecution(ctx, query, id) : null;
    },
  }),
);

const ExecuteActionInput = builder.inputType('ExecuteActionInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    integration: t.string({ required: true, description: 'An alias of a workspace integration, else an integration name.' }),
    action: t.string({ required: true, description: 'A catalog action the workspace integration allows.' }),
    externalId: t.string({ description: 'The end user to act for (required for PER_USER integrations; an end-user token acts for itself).' }),
    input: t.field({ type: 'JSON', required: true, description: "The action's input: an object matching its catalog inputSchema." }),
    idempotencyKey: t.string({
      description: 'Within 24 hours, the same key (in this workspace) answers the first execution and never calls the provider again; it also allows retries of non-idempotent actions.',
    }),
  }),
});

const executeActionSchema = z.object({
  workspaceId: z.string(),
  integration: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  action: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  externalId: externalIdSchema.nullish(),
  input: z.unknown(),
  idempotencyKey: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters').nullish(),
});

builder.mutationField('executeAction', (t) =>
  t.prismaField({
    type: 'ActionExecution',
    description:
      'Runs a catalog action with the connection resolveConnection would choose, and records it. A provider failure is a FAILED ' +
      'execution (error: PROVIDER_ERROR, PROVIDER_TIMEOUT, PROVIDER_RATE_LIMITED); anything that stops the call before the provider is a typed error. ' +
      'API keys need the EXECUTE permission.',
    authScopes: { execute: true },
    errors: {
      types: [
        ValidationError,
        NotFoundError,
        ForbiddenError,
        ConflictError,
        ConnectionRequiredError,
        AmbiguousIntegrationError,
        ActionNotAllowedError,
        ActionNotSupportedError,
      ],
      union: { name: 'ExecuteActionResult' },
    },
    args: { input: t.arg({ type: ExecuteActionInput, required: true }) },
    resolve: (_query, _root, args, ctx) => {
      const input = parseInput(executeActionSchema, args.input);
      const workspaceId = decodeId(input.workspaceId, 'Workspace');
      if (!workspaceId) throw new NotFoundError('workspace', ['input', 'workspaceId']);
      return executeAction(ctx, { principal: ctx.principal, channel: 'GRAPHQL', inputPath: ['input', 'input'] }, {
        workspaceId,
        integration: input.integration,
        action: input.action,
        externalId: input.externalId ?? null,
        input: input.input,
        idempotencyKey: input.idempotencyKey ?? null,
      });
    },
  }),
);
