// An organization's OAuth app per integration: set (created or replaced, the
// id kept) with its audit entry. The client secret is sealed before the write.
import { requireOrganization } from '../../auth/registry.js';
import { Prisma } from '../../generated/prisma/client.js';
import { auditedTransaction, targetOf } from '../audit/audit.service.js';
import type { Context } from '../common/context.js';
import type { Tx } from '../../platform/outbox.js';

export type OAuthAppQuery = { include?: Prisma.OAuthAppInclude; select?: Prisma.OAuthAppSelect };

export async function setOAuthApp(
  ctx: Context,
  input: {
    organizationId: string;
    integrationName: string;
    clientId: string;
    clientSecret: string;
    scopes?: string[] | null;
    authorizationUrl?: string | null;
    tokenUrl?: string | null;
  },
  query: OAuthAppQuery,
) {
  const organization = await requireOrganization(ctx, input.organizationId, ['input', 'organizationId']);
  // Sealed to (organization, integration), the row's unique key, so an upsert race cannot mis-bind it.
  const sealed = ctx.credentials.seal({ organizationId: organization.id, oauthApp: input.integrationName }, { clientSecret: input.clientSecret });
  const settings = {
    clientId: input.clientId,
    // SQL NULL: the catalog's scopes.
    scopes: input.scopes ?? Prisma.DbNull,
    authorizationUrl: input.authorizationUrl ?? null,
    tokenUrl: input.tokenUrl ?? null,
    ...sealed,
  };
  return auditedTransaction(
    ctx,
    async (tx) => {
      // Selecting only the id keeps it one INSERT … ON CONFLICT DO UPDATE: concurrent calls replace each other whole.
      const { id } = await tx.oAuthApp.upsert({
        where: { organizationId_integrationName: { organizationId: organization.id, integrationName: input.integrationName } },
        create: { organizationId: organization.id, integrationName: input.integrationName, ...settings },
        update: settings,
        select: { id: true },
      });
      return tx.oAuthApp.findUniqueOrThrow({ ...query, where: { id } });
    },
    (app) => targetOf('OAuthApp', { id: app.id, organizationId: organization.id }),
  );
}

/** Connections made through it keep their tokens and lose their refresh client. */
export const removeOAuthApp = (tx: Tx, app: { id: string }) => tx.oAuthApp.deleteMany({ where: { id: app.id } });
