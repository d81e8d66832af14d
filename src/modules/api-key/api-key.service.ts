// API keys and the end-user tokens backends issue with them. Each change
// commits with its audit entry; a key is stored hashed and shown once.
import { requireApiKey, requireOrganization, requireWorkspace } from '../../auth/registry.js';
import { API_KEY_PREFIX, signEndUserToken } from '../../auth/principal.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { newBearerSecret } from '../../platform/crypto/tokens.js';
import { foreignKeyViolation, goneIsNotFound } from '../../platform/db/errors.js';
import { NotFoundError } from '../../platform/errors.js';
import { auditedTransaction, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import { applyEndUserRecords, validateRecords } from '../end-user/end-user-sync.service.js';
import { announceAccessRevoked } from '../realtime/access.js';

export type ApiKeyQuery = { include?: Prisma.ApiKeyInclude; select?: Prisma.ApiKeySelect };

export const MAX_END_USER_TOKEN_SECONDS = 24 * 60 * 60;

export async function createApiKey(
  ctx: Context,
  input: { organizationId: string; name: string; workspaceIds?: string[] | null; expiresAt?: Date | null; permissions?: string[] | null },
): Promise<{ id: string; plainKey: string }> {
  const organization = await requireOrganization(ctx, input.organizationId, ['input', 'organizationId']);
  const workspaceIds = await Promise.all(
    (input.workspaceIds ?? []).map(async (globalId, i) => {
      const workspace = await requireWorkspace(ctx, globalId, ['input', 'workspaceIds', String(i)]);
      if (workspace.organizationId !== organization.id) throw new NotFoundError('workspace', ['input', 'workspaceIds', String(i)]);
      return workspace.id;
    }),
  );
  const secret = newBearerSecret(API_KEY_PREFIX);
  const apiKey = await auditedTransaction(
    ctx,
    (tx) =>
      tx.apiKey.create({
        data: {
          organizationId: organization.id,
          name: input.name,
          prefix: secret.displayPrefix,
          keyHash: secret.hash,
          permissions: [...new Set(input.permissions ?? [])],
          expiresAt: input.expiresAt ?? null,
          createdById: ctx.principal.kind === 'member' ? ctx.principal.userId : null,
          workspaces: { create: [...new Set(workspaceIds)].map((workspaceId) => ({ workspaceId })) },
        },
        select: { id: true, organizationId: true },
      }),
    (key) => targetOf('ApiKey', key),
  ).catch((error: unknown) => {
    // A listed workspace was deleted since it was found.
    if (foreignKeyViolation(error)) throw new NotFoundError('workspace', ['input', 'workspaceIds']);
    throw error;
  });
  return { id: apiKey.id, plainKey: secret.plain };
}

/** The key fails from its next request on, on every instance. Revoking a revoked key keeps its first revocation time. */
export async function revokeApiKey(ctx: Context, globalId: string, query: ApiKeyQuery) {
  const key = await requireApiKey(ctx, globalId, ['input', 'id']);
  const revoked = await auditedTransaction(
    ctx,
    (tx) => tx.apiKey.update({ ...query, where: { id: key.id }, data: { revokedAt: key.revokedAt ?? new Date() } }),
    () => targetOf('ApiKey', key),
  ).catch(goneIsNotFound('API key', ['input', 'id']));
  await announceAccessRevoked(ctx, { kind: 'apiKey', apiKeyId: key.id });
  return revoked;
}

/** A short-lived token that acts as one end user; an unknown externalId creates the end user. */
export async function issueEndUserToken(ctx: Context, input: { workspaceId: string; externalId: string; expiresIn: number }) {
  const workspace = await requireWorkspace(ctx, input.workspaceId, ['input', 'workspaceId']);
  const { valid } = validateRecords([{ externalId: input.externalId }], []);
  const { results } = await auditedTransaction(
    ctx,
    (tx) => applyEndUserRecords(tx, workspace.id, valid, { removeMissing: false, keep: [] }),
    ({ results }) => targetOf('EndUser', { id: results[0]!.endUser!.id, workspaceId: workspace.id }),
  );
  const endUser = results[0]!.endUser!;
  const expiresAt = new Date(Date.now() + input.expiresIn * 1000);
  return { token: await signEndUserToken(ctx.config.jwt.secret, endUser.id, expiresAt), expiresAt, endUser };
}
