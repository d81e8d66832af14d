// Workspace changes. Each commits with its audit entry; a settings change is
// a config change (configVersion grows, subscribers hear it after commit).
import { requireOrganization, requireWorkspace } from '../../auth/registry.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { uniqueViolation } from '../../platform/db/errors.js';
import { ConflictError } from '../../platform/errors.js';
import { recordWorkspaceConfigChange } from '../../platform/outbox.js';
import { auditChange, auditedTransaction, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import type { Tx } from '../../platform/outbox.js';

/** The part of a workspace read a GraphQL selection asks for. */
export type WorkspaceQuery = { include?: Prisma.WorkspaceInclude; select?: Prisma.WorkspaceSelect };

function slugConflict(error: unknown, slug: string | null | undefined): never {
  if (uniqueViolation(error)) throw new ConflictError(`workspace slug "${slug}" is taken in this organization`, ['input', 'slug']);
  throw error;
}

export async function createWorkspace(ctx: Context, input: { organizationId: string; name: string; slug: string }, query: WorkspaceQuery) {
  const organization = await requireOrganization(ctx, input.organizationId, ['input', 'organizationId']);
  return auditedTransaction(
    ctx,
    (tx) => tx.workspace.create({ ...query, data: { organizationId: organization.id, name: input.name, slug: input.slug } }),
    (workspace) => targetOf('Workspace', workspace),
  ).catch((error: unknown) => slugConflict(error, input.slug));
}

export interface WorkspaceSettings {
  id: string;
  name?: string | null;
  slug?: string | null;
  allowedRedirectOrigins?: string[] | null;
  connectFrameAncestors?: string[] | null;
}

export async function updateWorkspace(ctx: Context, input: WorkspaceSettings, query: WorkspaceQuery) {
  const visible = await requireWorkspace(ctx, input.id, ['input', 'id']);
  return ctx.outbox
    .commit(async (tx) => {
      await tx.workspace.update({
        where: { id: visible.id },
        data: {
          ...(input.name ? { name: input.name } : {}),
          ...(input.slug ? { slug: input.slug } : {}),
          ...(input.allowedRedirectOrigins ? { allowedRedirectOrigins: input.allowedRedirectOrigins } : {}),
          ...(input.connectFrameAncestors ? { connectFrameAncestors: input.connectFrameAncestors } : {}),
        },
      });
      const event = await recordWorkspaceConfigChange(tx, visible.id, 'WORKSPACE_UPDATED');
      await auditChange(tx, ctx.principal, { target: targetOf('Workspace', visible) });
      const result = await tx.workspace.findUniqueOrThrow({ ...query, where: { id: visible.id } });
      return { result, events: [event] };
    })
    .catch((error: unknown) => slugConflict(error, input.slug));
}

/** One statement: the database cascades to every row that belongs to the workspace. */
/**
 * Deletes the workspace. API keys restricted to it alone are revoked in the same
 * transaction: their link rows go with it, and a key with no link left would read
 * as organization-wide. The keys' rows are locked first, so two deletions of a
 * key's last two workspaces see each other and the second one revokes it.
 */
export async function removeWorkspace(tx: Tx, workspace: { id: string }) {
  await tx.$queryRaw`
    SELECT 1 FROM "ApiKey" WHERE "id" IN (SELECT "apiKeyId" FROM "ApiKeyWorkspace" WHERE "workspaceId" = ${workspace.id}::uuid) FOR UPDATE`;
  await tx.$executeRaw`
    UPDATE "ApiKey" k SET "revokedAt" = now()
    WHERE k."revokedAt" IS NULL
      AND EXISTS (SELECT 1 FROM "ApiKeyWorkspace" l WHERE l."apiKeyId" = k."id" AND l."workspaceId" = ${workspace.id}::uuid)
      AND NOT EXISTS (SELECT 1 FROM "ApiKeyWorkspace" l WHERE l."apiKeyId" = k."id" AND l."workspaceId" <> ${workspace.id}::uuid)`;
  return tx.workspace.deleteMany({ where: { id: workspace.id } });
}
