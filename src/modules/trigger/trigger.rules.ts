// The rules of a trigger: an event the catalog lists for the integration, a
// callback URL that is https (or http to localhost), a polling interval of
// 1 to 1,440 minutes, and an optional connection for the same integration.
import { z } from 'zod';
import { getIntegration } from '../catalog/catalog.js';
import type { FieldError } from '../../platform/errors.js';
import { callbackUrlSchema } from '../../platform/urls.js';

export const pollingIntervalSchema = z
  .number()
  .int('must be a whole number of minutes')
  .min(1, 'must be at least 1 minute')
  .max(1440, 'must be at most 1,440 minutes (a day)');

export { callbackUrlSchema };

export function triggerErrors(
  state: { integrationName: string; eventName: string },
  connection: { integrationName: string } | null,
): FieldError[] {
  const errors: FieldError[] = [];
  const integration = getIntegration(state.integrationName);
  if (!integration) {
    errors.push({ path: ['input', 'integrationName'], message: 'is not in the integration catalog' });
  } else if (!integration.triggers.some((trigger) => trigger.name === state.eventName)) {
    const known = integration.triggers.map((trigger) => trigger.name).join(', ') || 'none';
    errors.push({ path: ['input', 'eventName'], message: `is not an event of ${state.integrationName} (events: ${known})` });
  }
  if (connection && connection.integrationName !== state.integrationName) {
    errors.push({ path: ['input', 'connectionId'], message: `is a ${connection.integrationName} connection, not ${state.integrationName}` });
  }
  return errors;
}

/** The input shapes of createTrigger and updateTrigger. */
export const createSchema = z
  .object({
    organizationId: z.string().nullish(),
    workspaceId: z.string().nullish(),
    integrationName: z.string().min(1),
    eventName: z.string().min(1),
    callbackUrl: callbackUrlSchema,
    pollingIntervalMinutes: pollingIntervalSchema,
    connectionId: z.string().nullish(),
    enabled: z.boolean(),
  })
  .refine((input) => (input.organizationId == null) !== (input.workspaceId == null), {
    path: ['workspaceId'],
    message: 'give exactly one of organizationId or workspaceId',
  });

export const updateSchema = z.object({
  id: z.string(),
  eventName: z.string().min(1).optional(),
  callbackUrl: callbackUrlSchema.optional(),
  pollingIntervalMinutes: pollingIntervalSchema.optional(),
  connectionId: z.string().nullish(),
  enabled: z.boolean().optional(),
});
export type CreateTrigger = z.infer<typeof createSchema>;
export type UpdateTrigger = z.infer<typeof updateSchema>;
