// The rules of a connection's shape: where it lives (scope) and which secret
// fields its type needs. Secrets are validated here and then handed to the
// credential store; nothing else keeps them.
import { z } from 'zod';
import type { ConnectionSecret } from '../../platform/crypto/credential-store.js';
import { displayNameSchema, externalIdSchema } from '../../platform/identifiers.js';
import { callbackUrlSchema } from '../../platform/urls.js';

export const CONNECTION_TYPES = ['OAUTH2', 'PLATFORM_OAUTH2', 'SECRET_TEXT', 'BASIC_AUTH', 'CUSTOM_AUTH'] as const;
export const CONNECTION_SCOPES = ['ORGANIZATION', 'WORKSPACE', 'DIRECTORY', 'USER'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];
export type ConnectionScope = (typeof CONNECTION_SCOPES)[number];

/** One secret value: what credentials inputs and the connect form accept. */
export const secretString = z.string().min(1, 'must not be empty').max(16_384, 'is too long');

const credentialsSchema = z.object({
  accessToken: secretString.nullish(),
  refreshToken: secretString.nullish(),
  expiresAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).nullish(),
  clientId: secretString.nullish(),
  clientSecret: secretString.nullish(),
  apiKey: secretString.nullish(),
  username: secretString.nullish(),
  password: secretString.nullish(),
  fields: z.record(z.string().min(1), z.string()).nullish(),
});

/** The secret fields each connection type requires. */
const REQUIRED_SECRETS: Record<ConnectionType, (keyof ConnectionSecret)[]> = {
  OAUTH2: ['accessToken'],
  PLATFORM_OAUTH2: ['accessToken'],
  SECRET_TEXT: ['apiKey'],
  BASIC_AUTH: ['username', 'password'],
  CUSTOM_AUTH: ['fields'],
};

/** Which placement ids each scope takes (USER: an end user id, or a workspace and an externalId). */
const PLACEMENT: Record<ConnectionScope, { required: string[]; allowed: string[] }> = {
  ORGANIZATION: { required: ['organizationId'], allowed: ['organizationId'] },
  WORKSPACE: { required: ['workspaceId'], allowed: ['workspaceId'] },
  DIRECTORY: { required: ['directoryId'], allowed: ['directoryId'] },
  USER: { required: [], allowed: ['endUserId', 'workspaceId', 'externalId'] },
};
const PLACEMENT_FIELDS = ['organizationId', 'workspaceId', 'directoryId', 'endUserId', 'externalId'] as const;

export const createConnectionSchema = z
  .object({
    scope: z.enum(CONNECTION_SCOPES),
    organizationId: z.string().nullish(),
    workspaceId: z.string().nullish(),
    directoryId: z.string().nullish(),
    endUserId: z.string().nullish(),
    externalId: externalIdSchema.nullish(),
    type: z.enum(CONNECTION_TYPES),
    integrationName: z.string().min(1),
    displayName: displayNameSchema,
    tokenUrl: callbackUrlSchema.nullish(),
    credentials: credentialsSchema,
  })
  .superRefine((input, ctx) => {
    const placement = PLACEMENT[input.scope];
    for (const field of PLACEMENT_FIELDS) {
      if (input[field] != null && !placement.allowed.includes(field)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `is not used by ${input.scope} connections` });
      }
    }
    for (const field of placement.required) {
      if (input[field as (typeof PLACEMENT_FIELDS)[number]] == null) {
        ctx.addIssue({ code: 'custom', path: [field], message: `is required for ${input.scope} connections` });
      }
    }
    if (input.scope === 'USER' && input.endUserId == null && (input.workspaceId == null || input.externalId == null)) {
      ctx.addIssue({ code: 'custom', path: ['endUserId'], message: 'USER connections need endUserId, or workspaceId and externalId' });
    }
    for (const field of REQUIRED_SECRETS[input.type]) {
      const value = input.credentials[field];
      if (value == null || (typeof value === 'object' && Object.keys(value).length === 0)) {
        ctx.addIssue({ code: 'custom', path: ['credentials', field], message: `is required for ${input.type} connections` });
      }
    }
  });

export type CreateConnectionInput = z.infer<typeof createConnectionSchema>;

/** The secret part of the credentials input, without the non-secret expiry. */
export function secretOf(credentials: CreateConnectionInput['credentials']): ConnectionSecret {
  const { expiresAt: _expiresAt, ...rest } = credentials;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v != null)) as ConnectionSecret;
}
