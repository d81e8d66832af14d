// Organization.usage: the billing view of usage metering (usage.service.ts).
import { monthSchema, organizationUsage, type OrganizationUsage, type WorkspaceUsage } from './usage.service.js';
import { ValidationError } from '../../platform/errors.js';
import { builder } from '../common/builder.js';
import { orgRole } from '../common/scopes.js';
import { WorkspaceRef } from '../workspace/workspace.schema.js';

const WorkspaceUsageRef = builder.objectRef<WorkspaceUsage>('WorkspaceUsage').implement({
  fields: (t) => ({
    workspace: t.field({ type: WorkspaceRef, resolve: (u) => u.workspace }),
    activeEndUsers: t.exposeInt('activeEndUsers', { description: 'End users with at least one successful resolution in the month.' }),
    resolutions: t.exposeInt('resolutions', { description: 'Successful resolutions in the month (resolveConnection, and each action execution).' }),
    executions: t.exposeInt('executions', { description: 'Action executions that reached the provider in the month, successful or not.' }),
  }),
});

const OrganizationUsageRef = builder.objectRef<OrganizationUsage>('OrganizationUsage').implement({
  fields: (t) => ({
    month: t.exposeString('month'),
    activeEndUsers: t.exposeInt('activeEndUsers', { description: 'End users with at least one successful resolution in the month.' }),
    resolutions: t.exposeInt('resolutions', { description: 'Successful resolutions in the month (resolveConnection, and each action execution).' }),
    executions: t.exposeInt('executions', { description: 'Action executions that reached the provider in the month, successful or not.' }),
    workspaces: t.field({
      type: [WorkspaceUsageRef],
      description: 'Workspaces with usage in the month, most resolutions first.',
      resolve: (u) => u.workspaces,
    }),
  }),
});

builder.prismaObjectFields('Organization', (t) => ({
  usage: t.field({
    type: OrganizationUsageRef,
    description: 'Usage in one UTC month. Creating or syncing end users is free: only successful resolutions count.',
    authScopes: orgRole('OWNER'),
    args: { month: t.arg.string({ required: true, description: 'YYYY-MM (UTC).' }) },
    resolve: (organization, args, ctx) => {
      const month = monthSchema.safeParse(args.month);
      if (!month.success) throw new ValidationError([{ path: ['month'], message: month.error.issues[0]!.message }]);
      return organizationUsage(ctx.prisma, organization.id, month.data);
    },
  }),
}));
