// The rules of a workspace integration (DESIGN.md §2): its alias, its
// connection strategy and the connection that strategy requires, and its
// allowed actions. Add and update both check the resulting state here.
import { z } from 'zod';
import { HeddleError, type FieldError } from '../../platform/errors.js';
import { actionNames, getIntegration } from '../catalog/catalog.js';

export const CONNECTION_STRATEGIES = ['FIXED', 'PER_USER', 'PER_USER_WITH_FALLBACK'] as const;
export type ConnectionStrategy = (typeof CONNECTION_STRATEGIES)[number];

export const aliasSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .refine((v) => !v.includes('@'), 'must not contain @')
  .refine((v) => !v.includes('__'), 'must not contain __ (it separates alias and action in MCP tool names)')
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lowercase letters and digits separated by single hyphens');

/** The stored allowedActions: null means every catalog action. */
export const allowedActionsOf = (value: unknown): string[] | null => (Array.isArray(value) ? (value as string[]) : null);

export interface IntegrationState {
  integrationName: string;
  connectionStrategy: ConnectionStrategy;
  connectionId: string | null;
  allowedActions: string[] | null;
}

export interface CandidateConnection {
  id: string;
  organizationId: string;
  workspaceId: string | null;
  scope: 'ORGANIZATION' | 'WORKSPACE' | 'DIRECTORY' | 'USER';
  integrationName: string;
}

/** Every way `state` breaks the rules, as input paths under `input`. */
export function workspaceIntegrationErrors(
  state: IntegrationState,
  workspace: { id: string; organizationId: string },
  connection: CandidateConnection | null,
): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (path: (string | number)[], message: string) => errors.push({ path: ['input', ...path.map(String)], message });
  const integration = getIntegration(state.integrationName);
  if (!integration) fail(['integrationName'], 'is not in the integration catalog');

  const needsConnection = state.connectionStrategy !== 'PER_USER';
  if (needsConnection && !state.connectionId) {
    fail(['connectionId'], state.connectionStrategy === 'FIXED' ? 'is required for FIXED' : 'is required as the fallback for PER_USER_WITH_FALLBACK');
  }
  if (!needsConnection && state.connectionId) fail(['connectionId'], 'must not be set for PER_USER (each end user brings their own)');
  if (needsConnection && connection) {
    if (connection.scope !== 'ORGANIZATION' && connection.scope !== 'WORKSPACE') {
      fail(['connectionId'], 'must be an ORGANIZATION or WORKSPACE connection');
    } else if (connection.organizationId !== workspace.organizationId || (connection.scope === 'WORKSPACE' && connection.workspaceId !== workspace.id)) {
      fail(['connectionId'], 'is not visible to this workspace');
    }
    if (connection.integrationName !== state.integrationName) {
      fail(['connectionId'], `is a ${connection.integrationName} connection, not ${state.integrationName}`);
    }
  }

  if (state.allowedActions !== null && integration) {
    if (state.allowedActions.length === 0) fail(['allowedActions'], 'must not be empty (null allows every action)');
    const known = new Set(actionNames(state.integrationName));
    state.allowedActions.forEach((action, i) => {
      if (!known.has(action)) fail(['allowedActions', i], `${action} is not an action of ${state.integrationName}`);
    });
  }
  return errors;
}

export class AliasConflictError extends HeddleError {
  readonly code = 'ALIAS_CONFLICT' as const;
  constructor(readonly alias: string) {
    super(`alias "${alias}" is already used in this workspace`);
  }
}

/** The input shapes of addWorkspaceIntegration and updateWorkspaceIntegration. */
export const addSchema = z.object({
  workspaceId: z.string(),
  integrationName: z.string().min(1),
  connectionStrategy: z.enum(CONNECTION_STRATEGIES),
  connectionId: z.string().nullish(),
  alias: aliasSchema.nullish(),
  allowedActions: z.array(z.string()).nullish(),
});

export const updateSchema = z.object({
  id: z.string(),
  connectionStrategy: z.enum(CONNECTION_STRATEGIES).optional(),
  connectionId: z.string().nullish(),
  alias: aliasSchema.optional(),
  allowedActions: z.array(z.string()).nullish(),
});
export type AddWorkspaceIntegration = z.infer<typeof addSchema>;
export type UpdateWorkspaceIntegration = z.infer<typeof updateSchema>;
