// resolveConnection (DESIGN.md §2): which connection a workspace uses for an
// integration, an end user and an action. decideResolution is the rule
// itself, pure, and explains every candidate; resolution.service.ts reads
// what it needs and adds refresh, metering and audit.
import { z } from 'zod';
import { actionNames } from '../catalog/catalog.js';
import { type Connection, type EndUser, type WorkspaceIntegration } from '../../generated/prisma/client.js';
import {
  ActionNotAllowedError,
  AmbiguousIntegrationError,
  ConnectionRequiredError,
  NotFoundError,
  ValidationError,
} from '../../platform/errors.js';
import { externalIdSchema } from '../../platform/identifiers.js';
import { allowedActionsOf } from '../workspace-integration/workspace-integration.rules.js';

export const RESOLUTION_SOURCES = ['FIXED', 'USER', 'DIRECTORY', 'FALLBACK'] as const;
export type ResolutionSource = (typeof RESOLUTION_SOURCES)[number];

export const resolveConnectionSchema = z.object({
  workspaceId: z.string(),
  integration: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  externalId: externalIdSchema.nullish(),
  action: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').nullish(),
});

export interface ResolutionRequest {
  /** Row id (already decoded from the global id). */
  workspaceId: string;
  /** An alias, else an integration name. */
  integration: string;
  externalId?: string | null;
  action?: string | null;
}

/** What the rule looks at: the workspace, the integrations the name matches, the end user and every candidate connection. */
export interface ResolutionData {
  workspace: { id: string; organizationId: string } | null;
  integrations: WorkspaceIntegration[];
  endUser: EndUser | null;
  directory: { id: string; name: string } | null;
  /** The matched integrations' fixed/fallback connections, the end user's USER and its directory's DIRECTORY connections. */
  connections: Connection[];
}

export interface Decision {
  workspaceIntegration: WorkspaceIntegration;
  endUser: EndUser | null;
  connection: Connection;
  source: ResolutionSource;
  explanation: string[];
}

/** What resolveConnection answers: the chosen connection and why. */
export class ConnectionResolution {
  constructor(
    readonly connection: Connection,
    readonly source: ResolutionSource,
    readonly workspaceIntegration: WorkspaceIntegration,
    readonly endUser: EndUser | null,
    readonly explanation: string[],
  ) {}

  get strategy() {
    return this.workspaceIntegration.connectionStrategy;
  }
}

/** What explainResolution answers: the same decision, and whether resolving would refresh the token first. */
export class ResolutionExplanation extends ConnectionResolution {
  constructor(
    connection: Connection,
    source: ResolutionSource,
    workspaceIntegration: WorkspaceIntegration,
    endUser: EndUser | null,
    explanation: string[],
    readonly wouldRefresh: boolean,
  ) {
    super(connection, source, workspaceIntegration, endUser, explanation);
  }
}

// ---------------------------------------------------------------------------
// The rule

const newestFirst = (a: Connection, b: Connection) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id);

/** The first ACTIVE connection of `candidates`; every one looked at is explained. */
function firstActive(candidates: Connection[], where: string, none: string, explanation: string[]): Connection | null {
  if (candidates.length === 0) explanation.push(`${where}: ${none}`);
  for (const connection of candidates) {
    const label = `${connection.scope} connection "${connection.displayName}"`;
    if (connection.status === 'ACTIVE') {
      explanation.push(`${where}: ${label} is ACTIVE: chosen`);
      return connection;
    }
    explanation.push(`${where}: ${label} skipped: it is ${connection.status}${connection.statusReason ? ` (${connection.statusReason})` : ''}`);
  }
  return null;
}

/**
 * Step 1: `name` matches an alias first, else an integration name; a name that
 * several aliases share is AMBIGUOUS_INTEGRATION, none NOT_FOUND. Hosted
 * connect sessions name their integration the same way.
 */
export function matchIntegration(candidates: WorkspaceIntegration[], name: string, explanation: string[] = []): WorkspaceIntegration {
  const byAlias = candidates.find((wi) => wi.alias === name);
  if (byAlias) {
    explanation.push(`"${name}" is the alias of a ${byAlias.integrationName} integration (${byAlias.connectionStrategy})`);
    return byAlias;
  }
  const byName = candidates.filter((wi) => wi.integrationName === name);
  if (byName.length > 1) throw new AmbiguousIntegrationError(name, byName.map((wi) => wi.alias).sort());
  const [only] = byName;
  if (!only) throw new NotFoundError(`workspace integration "${name}"`, ['input', 'integration']);
  explanation.push(`"${name}" is no alias; it names the ${name} integration with alias "${only.alias}" (${only.connectionStrategy})`);
  return only;
}

function assertActionAllowed(integration: WorkspaceIntegration, action: string | null | undefined, explanation: string[]): void {
  if (action == null) return;
  const allowed = allowedActionsOf(integration.allowedActions) ?? actionNames(integration.integrationName);
  if (!allowed.includes(action)) throw new ActionNotAllowedError(action, integration.alias, allowed);
  explanation.push(`action "${action}" is allowed`);
}

/** The end user's own ACTIVE USER connection for the integration, newest first. */
function ownConnection(data: ResolutionData, integration: WorkspaceIntegration, externalId: string, explanation: string[]) {
  const where = `end user "${externalId}"`;
  if (!data.endUser) {
    explanation.push(`${where} is not known in this workspace, so has no connections`);
    return null;
  }
  const own = data.connections
    .filter((c) => c.scope === 'USER' && c.endUserId === data.endUser!.id && c.integrationName === integration.integrationName)
    .sort(newestFirst);
  return firstActive(own, where, `no USER connection for ${integration.integrationName}`, explanation);
}

/** The ACTIVE DIRECTORY connection of the end user's directory (the default directory has none). */
function directoryConnection(data: ResolutionData, integration: WorkspaceIntegration, externalId: string, explanation: string[]) {
  if (!data.endUser) return null;
  if (!data.directory) {
    explanation.push(`end user "${externalId}" is in the default directory, which has no DIRECTORY connections`);
    return null;
  }
  const directory = data.directory;
  const shared = data.connections
    .filter((c) => c.scope === 'DIRECTORY' && c.directoryId === directory.id && c.integrationName === integration.integrationName)
    .sort(newestFirst);
  return firstActive(shared, `directory "${directory.name}"`, `no DIRECTORY connection for ${integration.integrationName}`, explanation);
}

/** The integration's own connection: FIXED's, or PER_USER_WITH_FALLBACK's fallback. */
function configuredConnection(data: ResolutionData, integration: WorkspaceIntegration, role: string, explanation: string[]) {
  const configured = data.connections.filter((c) => c.id === integration.connectionId);
  return firstActive(configured.slice(0, 1), `${role} connection`, 'none configured', explanation);
}

/** DESIGN.md §2, resolveConnection steps 1 to 6. Throws the typed error of the step that fails. */
export function decideResolution(data: ResolutionData, request: ResolutionRequest): Decision {
  const explanation: string[] = [];
  const integration = matchIntegration(data.integrations, request.integration, explanation);
  assertActionAllowed(integration, request.action, explanation);
  const externalId = request.externalId ?? null;
  const endUser = externalId ? data.endUser : null;
  const decided = (connection: Connection, source: ResolutionSource): Decision => ({
    workspaceIntegration: integration,
    endUser,
    connection,
    source,
    explanation,
  });
  const required = (message: string) => new ConnectionRequiredError(message, explanation);

  switch (integration.connectionStrategy) {
    case 'FIXED': {
      const fixed = configuredConnection(data, integration, 'fixed', explanation);
      if (fixed) return decided(fixed, 'FIXED');
      throw required(`the fixed connection of "${integration.alias}" is not ACTIVE`);
    }
    case 'PER_USER': {
      if (!externalId) {
        throw new ValidationError([{ path: ['input', 'externalId'], message: `is required: "${integration.alias}" is PER_USER` }]);
      }
      const own = ownConnection(data, integration, externalId, explanation);
      if (own) return decided(own, 'USER');
      throw required(`end user "${externalId}" has no ACTIVE ${integration.integrationName} connection`);
    }
    case 'PER_USER_WITH_FALLBACK': {
      if (externalId) {
        const own = ownConnection(data, integration, externalId, explanation);
        if (own) return decided(own, 'USER');
        const shared = directoryConnection(data, integration, externalId, explanation);
        if (shared) return decided(shared, 'DIRECTORY');
      } else {
        explanation.push('no externalId given: only the fallback applies');
      }
      const fallback = configuredConnection(data, integration, 'fallback', explanation);
      if (fallback) return decided(fallback, 'FALLBACK');
      throw required(`no ACTIVE connection for "${integration.alias}": the fallback is not ACTIVE`);
    }
  }
}
