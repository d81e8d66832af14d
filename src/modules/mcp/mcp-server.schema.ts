// MCP servers (DESIGN.md §5): a workspace's integrations served as MCP tools.
// Tools are derived in the transaction that changes the integrations
// (tools-sync.service.ts) and can only be read here. Creating, changing and
// deleting a server are config changes of its workspace.
import { z } from 'zod';
import { requireMcpServer, visibleNode } from '../../auth/registry.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { MCP_END_USER_ACCESS, mcpServerNameSchema, storedTools, toolDefinition, type ToolEntry } from './mcp-tools.rules.js';
import { parseInput } from '../../platform/validate.js';
import { callbackUrlSchema } from '../../platform/urls.js';
import { MCP_PATH_PREFIX } from './endpoint.js';
import { whileAccessHolds } from '../realtime/access.js';
import { assertReplayable, mcpToolsSubject, subjectEvents } from '../realtime/config-stream.js';
import type { ConfigEventMessage } from '../../platform/pubsub.js';
import { builder } from '../common/builder.js';
import { pointRead } from '../common/point-reads.js';
import { resolveReferenceById } from '../common/references.js';
import { may, staffOnly } from '../common/scopes.js';
import { deleteMutation } from '../common/deleted.schema.js';
import { createMcpServer, removeMcpServer, rotateMcpServerToken, updateMcpServer } from './mcp-server.service.js';
import { ConnectionStrategyEnum, WorkspaceIntegrationRef } from '../workspace-integration/workspace-integration.schema.js';

const McpEndUserAccessEnum = builder.enumType('McpEndUserAccess', {
  values: {
    RESTRICTED: { description: 'Only end users that already exist in the workspace.' },
    OPEN: { description: 'An unknown externalId creates the end user on first use.' },
  },
});

const readIntegration = pointRead('WorkspaceIntegration', (prisma, args) => prisma.workspaceIntegration.findMany(args));

const McpToolRef = builder.objectRef<ToolEntry>('McpTool').implement({
  description: 'A tool derived from one workspace integration and one of its allowed actions. Never edited by hand.',
  fields: (t) => ({
    name: t.exposeString('name', { description: '`{alias}__{action}`' }),
    description: t.string({ resolve: (tool) => toolDefinition(tool).description }),
    inputSchema: t.field({ type: 'JSON', description: "The catalog's JSON Schema of the action input.", resolve: (tool) => toolDefinition(tool).inputSchema }),
    action: t.exposeString('action'),
    integrationName: t.exposeString('integrationName'),
    connectionStrategy: t.expose('connectionStrategy', { type: ConnectionStrategyEnum }),
    requiresEndUser: t.boolean({
      description: 'PER_USER tools are listed only to end users whose own connection resolves.',
      resolve: (tool) => tool.connectionStrategy === 'PER_USER',
    }),
    integration: t.field({
      type: WorkspaceIntegrationRef,
      nullable: true,
      description: 'null once the integration is removed (tools of past versions in mcpToolsChanged).',
      // Batched: every tool of a list shares one query.
      resolve: (tool, _args, ctx) => readIntegration(ctx, {}, tool.workspaceIntegrationId),
    }),
  }),
});

export const McpServerRef = builder.prismaNode('McpServer', {
  nullable: true,
  authScopes: staffOnly,
  id: { field: 'id' },
  findUnique: visibleNode('McpServer'),
  fields: (t) => ({
    name: t.exposeString('name'),
    endUserAccess: t.expose('endUserAccess', { type: McpEndUserAccessEnum }),
    connectRedirectUrl: t.exposeString('connectRedirectUrl', {
      nullable: true,
      description: "When set, tools/call of a tool whose end user has no connection answers a hosted connect session's url for that end user, which returns here afterwards.",
    }),
    tokenPrefix: t.exposeString('tokenPrefix', { description: 'The first characters of the `mcp_…` token, to recognise it.' }),
    endpointPath: t.string({
      description: 'Where MCP clients connect (Streamable HTTP), relative to Heddle\'s base URL.',
      resolve: (server) => `${MCP_PATH_PREFIX}${server.id}`,
    }),
    toolsVersion: t.exposeInt('toolsVersion', { description: 'Grows by one whenever the tools change; pass it as sinceVersion to resume.' }),
    tools: t.field({ type: [McpToolRef], resolve: (server) => storedTools(server.tools) }),
    workspace: t.relation('workspace'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const readMcpServer = pointRead('McpServer', (prisma, args) => prisma.mcpServer.findMany(args));

builder.asEntity(McpServerRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: resolveReferenceById('McpServer', readMcpServer),
});

builder.prismaObjectFields('Workspace', (t) => ({
  mcpServers: t.relatedConnection('mcpServers', { cursor: 'id', totalCount: true, query: () => ({ orderBy: { createdAt: 'asc' } }) }),
}));

/** A server with its token: returned once, by create and rotate. */
class McpServerWithToken {
  constructor(
    readonly serverId: string,
    readonly token: string,
  ) {}
}

builder.objectType(McpServerWithToken, {
  name: 'McpServerWithToken',
  isTypeOf: (value) => value instanceof McpServerWithToken,
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The `mcp_…` bearer token. Shown once: store it now.' }),
    server: t.prismaField({
      type: 'McpServer',
      resolve: (query, created, _args, ctx) => ctx.prisma.mcpServer.findUniqueOrThrow({ ...query, where: { id: created.serverId } }),
    }),
  }),
});

// Setting it takes the server's ADMIN, the role createConnectSession needs: the admin lets the server create sessions.
const connectRedirectUrlSchema = z.string().max(2048, 'must be at most 2048 characters').pipe(callbackUrlSchema).nullish();
const CONNECT_REDIRECT_URL =
  "Lets the server create hosted connect sessions for the end users it acts for: tools/call answers CONNECTION_REQUIRED with the session's url, and the end user comes back here. Must be on the workspace's allowedRedirectOrigins. null (on update) turns it off.";

const CreateMcpServerInput = builder.inputType('CreateMcpServerInput', {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    name: t.string({ required: true }),
    endUserAccess: t.field({ type: McpEndUserAccessEnum, defaultValue: 'RESTRICTED' }),
    connectRedirectUrl: t.string({ description: CONNECT_REDIRECT_URL }),
  }),
});

builder.mutationField('createMcpServer', (t) =>
  t.field({
    type: McpServerWithToken,
    description: "Serves the workspace's integrations as MCP tools at /mcp/{id}. The token is returned once.",
    authScopes: may('create', 'McpServer', 'workspaceId'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'CreateMcpServerResult' } },
    args: { input: t.arg({ type: CreateMcpServerInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(
        z.object({ workspaceId: z.string(), name: mcpServerNameSchema, endUserAccess: z.enum(MCP_END_USER_ACCESS), connectRedirectUrl: connectRedirectUrlSchema }),
        args.input,
      );
      const { serverId, token } = await createMcpServer(ctx, input);
      return new McpServerWithToken(serverId, token);
    },
  }),
);

const UpdateMcpServerInput = builder.inputType('UpdateMcpServerInput', {
  description: 'Omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    endUserAccess: t.field({ type: McpEndUserAccessEnum }),
    connectRedirectUrl: t.string({ description: CONNECT_REDIRECT_URL }),
  }),
});

builder.mutationField('updateMcpServer', (t) =>
  t.prismaField({
    type: 'McpServer',
    authScopes: may('update', 'McpServer', 'id'),
    errors: { types: [ValidationError, NotFoundError], union: { name: 'UpdateMcpServerResult' } },
    args: { input: t.arg({ type: UpdateMcpServerInput, required: true }) },
    resolve: (query, _root, args, ctx) =>
      updateMcpServer(
        ctx,
        parseInput(
          z.object({ id: z.string(), name: mcpServerNameSchema.nullish(), endUserAccess: z.enum(MCP_END_USER_ACCESS).nullish(), connectRedirectUrl: connectRedirectUrlSchema }),
          args.input,
        ),
        query,
      ),
  }),
);

const RotateMcpServerTokenInput = builder.inputType('RotateMcpServerTokenInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationField('rotateMcpServerToken', (t) =>
  t.field({
    type: McpServerWithToken,
    description: 'Replaces the token: the old one fails at once and the MCP sessions opened with it end.',
    authScopes: may('update', 'McpServer', 'id'),
    errors: { types: [NotFoundError], union: { name: 'RotateMcpServerTokenResult' } },
    args: { input: t.arg({ type: RotateMcpServerTokenInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const { serverId, token } = await rotateMcpServerToken(ctx, String(args.input.id));
      return new McpServerWithToken(serverId, token);
    },
  }),
);

deleteMutation('deleteMcpServer', {
  description: 'Deletes the server; its MCP sessions end.',
  type: 'McpServer',
  find: requireMcpServer,
  remove: removeMcpServer,
  revokes: (server) => ({ kind: 'mcpServer', mcpServerId: server.id, serverTokenOnly: false }),
});

// Tool changes --------------------------------------------------------------

interface ToolsPayload {
  tools: ToolEntry[];
  added: string[];
  removed: string[];
  changed: string[];
}

const payloadOf = (event: ConfigEventMessage) => event.payload as unknown as ToolsPayload;

const McpToolsEventRef = builder.objectRef<ConfigEventMessage>('McpToolsEvent').implement({
  fields: (t) => ({
    version: t.exposeInt('version', { description: "The server's toolsVersion after the change." }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
    server: t.prismaField({
      type: 'McpServer',
      nullable: true,
      description: 'null once the server is deleted.',
      resolve: (query, event, _args, ctx) => ctx.prisma.mcpServer.findUnique({ ...query, where: { id: event.subjectId } }),
    }),
    tools: t.field({ type: [McpToolRef], description: 'The whole list at this version.', resolve: (event) => storedTools(payloadOf(event).tools) }),
    added: t.stringList({ description: 'Names of new tools.', resolve: (event) => payloadOf(event).added }),
    removed: t.stringList({ description: 'Names of tools that are gone.', resolve: (event) => payloadOf(event).removed }),
    changed: t.stringList({
      description: 'Names of tools that stayed but changed (e.g. their connection strategy).',
      resolve: (event) => payloadOf(event).changed,
    }),
  }),
});

builder.subscriptionField('mcpToolsChanged', (t) =>
  t.field({
    type: McpToolsEventRef,
    description: "Every change of the server's tools, in version order. With sinceVersion, first replays the stored events after it.",
    authScopes: { staff: true },
    args: {
      mcpServerId: t.arg.id({ required: true }),
      sinceVersion: t.arg.int(),
    },
    subscribe: async (_root, args, ctx) => {
      const server = await requireMcpServer(ctx, String(args.mcpServerId), ['mcpServerId']);
      const workspace = await ctx.prisma.workspace.findUniqueOrThrow({ where: { id: server.workspaceId }, select: { organizationId: true } });
      const subject = mcpToolsSubject(server.id);
      const sinceVersion = args.sinceVersion ?? null;
      if (sinceVersion !== null) await assertReplayable(ctx.prisma, subject, sinceVersion);
      return whileAccessHolds(ctx, { organizationId: workspace.organizationId, workspaceId: server.workspaceId, mcpServerId: server.id }, (signal) =>
        subjectEvents({ prisma: ctx.prisma, pubsub: ctx.pubsub, subject, sinceVersion, signal }),
      );
    },
    resolve: (event) => event,
  }),
);
