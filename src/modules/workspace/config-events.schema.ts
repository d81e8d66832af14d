import { assertReplayable, subjectEvents, workspaceConfigSubject } from '../realtime/config-stream.js';
import type { ConfigEventMessage } from '../../platform/pubsub.js';
import { whileAccessHolds } from '../realtime/access.js';
import { builder } from '../common/builder.js';
import { requireWorkspace } from '../../auth/registry.js';

export const ConfigChangeKind = builder.enumType('ConfigChangeKind', {
  values: [
    'WORKSPACE_UPDATED',
    'INTEGRATION_ADDED',
    'INTEGRATION_UPDATED',
    'INTEGRATION_REMOVED',
    'MCP_SERVER_ADDED',
    'MCP_SERVER_UPDATED',
    'MCP_SERVER_REMOVED',
  ] as const,
});

const payloadId = (event: ConfigEventMessage, key: string) => {
  const id = event.payload[key];
  return typeof id === 'string' ? id : null;
};

// Events carry ids only; the workspace is re-read when the event is delivered, so it is never stale.
const WorkspaceConfigEventRef = builder.objectRef<ConfigEventMessage>('WorkspaceConfigEvent').implement({
  fields: (t) => ({
    version: t.exposeInt('version'),
    kind: t.field({ type: ConfigChangeKind, resolve: (event) => event.kind as typeof ConfigChangeKind.$inferType }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
    workspace: t.prismaField({
      type: 'Workspace',
      resolve: (query, event, _args, ctx) =>
        ctx.prisma.workspace.findUniqueOrThrow({ ...query, where: { id: event.workspaceId } }),
    }),
    integration: t.prismaField({
      type: 'WorkspaceIntegration',
      nullable: true,
      description: 'The workspace integration the change was about; null for workspace settings and once it is removed.',
      resolve: (query, event, _args, ctx) => {
        const id = payloadId(event, 'integrationId');
        return id ? ctx.prisma.workspaceIntegration.findUnique({ ...query, where: { id } }) : null;
      },
    }),
    mcpServer: t.prismaField({
      type: 'McpServer',
      nullable: true,
      description: 'The MCP server the change was about; null for other changes and once it is deleted.',
      resolve: (query, event, _args, ctx) => {
        const id = payloadId(event, 'mcpServerId');
        return id ? ctx.prisma.mcpServer.findUnique({ ...query, where: { id } }) : null;
      },
    }),
  }),
});

builder.subscriptionField('workspaceConfigChanged', (t) =>
  t.field({
    type: WorkspaceConfigEventRef,
    description:
      'Every committed config change of the workspace, in version order. With sinceVersion, first replays the stored events after it.',
    authScopes: { staff: true },
    args: {
      workspaceId: t.arg.id({ required: true }),
      sinceVersion: t.arg.int(),
    },
    subscribe: async (_root, args, ctx) => {
      const workspace = await requireWorkspace(ctx, String(args.workspaceId), ['workspaceId']);
      const sinceVersion = args.sinceVersion ?? null;
      const subject = workspaceConfigSubject(workspace.id);
      if (sinceVersion !== null) await assertReplayable(ctx.prisma, subject, sinceVersion);
      return whileAccessHolds(ctx, { organizationId: workspace.organizationId, workspaceId: workspace.id }, (signal) =>
        subjectEvents({ prisma: ctx.prisma, pubsub: ctx.pubsub, subject, sinceVersion, signal }),
      );
    },
    resolve: (event) => event,
  }),
);
