// MCP tools (DESIGN.md §5). A server's tools are derived, never edited: one per
// (workspace integration, allowed action the catalog has), named
// `{alias}__{action}`, with the catalog's description and input schema. This
// module is the rule; the transaction that changes integrations stores the
// result, and start-up re-derives it after a catalog release (tools-sync.service.ts).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { actionNames, getAction } from '../catalog/catalog.js';
import { getProvider } from '../catalog/providers.js';
import type { CatalogAction, JsonSchema } from '../catalog/types.js';
import { ConnectionRequiredError } from '../../platform/errors.js';
import { displayNameSchema } from '../../platform/identifiers.js';
import { decideResolution, type ResolutionData } from '../resolution/resolution.rules.js';
import { allowedActionsOf, type ConnectionStrategy } from '../workspace-integration/workspace-integration.rules.js';

/** What is stored per tool: enough to name it, find its catalog entry and decide who sees it. */
export interface ToolEntry {
  name: string;
  workspaceIntegrationId: string;
  alias: string;
  integrationName: string;
  action: string;
  connectionStrategy: ConnectionStrategy;
  /** A digest of the tool's definition (catalog description and input, provider output and hints): a release that changes it changes the entry. */
  definitionDigest: string;
}

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: JsonSchema;
  /** The action's output (`structuredContent` of a successful call); absent while no provider runs the action. */
  outputSchema?: JsonSchema;
  annotations?: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

export interface ToolListDiff {
  added: string[];
  removed: string[];
  /** Same name, other definition (e.g. a new connection strategy). */
  changed: string[];
}

export const MCP_END_USER_ACCESS = ['RESTRICTED', 'OPEN'] as const;
export type McpEndUserAccess = (typeof MCP_END_USER_ACCESS)[number];

export const MCP_TOKEN_PREFIX = 'mcp_';

export const mcpServerNameSchema = displayNameSchema;

export const toolName = (alias: string, action: string) => `${alias}__${action}`;

interface IntegrationRow {
  id: string;
  alias: string;
  integrationName: string;
  connectionStrategy: ConnectionStrategy;
  allowedActions: unknown;
}

/** What a release can change in a tool's definition: the catalog's description and input, the provider's output and hints. */
function digestOf(integrationName: string, action: CatalogAction): string {
  const run = getProvider(integrationName)?.actions[action.name];
  const provided = run ? [run.outputSchema, run.readOnly, run.destructive, run.idempotent] : [];
  return createHash('sha256').update(JSON.stringify([action.description, action.inputSchema, ...provided])).digest('base64url').slice(0, 22);
}

/** The tools of a workspace with these integrations, sorted by name. An action the catalog no longer has is no tool. */
export function deriveTools(integrations: readonly IntegrationRow[]): ToolEntry[] {
  return integrations
    .flatMap((wi) =>
      (allowedActionsOf(wi.allowedActions) ?? actionNames(wi.integrationName)).flatMap((action) => {
        const entry = getAction(wi.integrationName, action);
        if (!entry) return [];
        return [
          {
            name: toolName(wi.alias, action),
            workspaceIntegrationId: wi.id,
            alias: wi.alias,
            integrationName: wi.integrationName,
            action,
            connectionStrategy: wi.connectionStrategy,
            definitionDigest: digestOf(wi.integrationName, entry),
          },
        ];
      }),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const storedToolSchema = z.array(
  z.object({
    name: z.string(),
    workspaceIntegrationId: z.string(),
    alias: z.string(),
    integrationName: z.string(),
    action: z.string(),
    connectionStrategy: z.enum(['FIXED', 'PER_USER', 'PER_USER_WITH_FALLBACK']),
    // Absent in rows of releases before it; start-up re-derives those.
    definitionDigest: z.string().default(''),
  }),
);

/** The stored `McpServer.tools` column, read back. */
export const storedTools = (value: unknown): ToolEntry[] => storedToolSchema.parse(value);

/** The stored column as the last sync left it; a shape no release of this code wrote counts as no tools (all re-derived). */
export const previousTools = (value: unknown): ToolEntry[] => storedToolSchema.safeParse(value).data ?? [];

const sameEntry = (a: ToolEntry, b: ToolEntry) => JSON.stringify(a) === JSON.stringify(b);

export function diffTools(before: readonly ToolEntry[], after: readonly ToolEntry[]): ToolListDiff {
  const old = new Map(before.map((tool) => [tool.name, tool]));
  const now = new Map(after.map((tool) => [tool.name, tool]));
  return {
    added: after.filter((tool) => !old.has(tool.name)).map((tool) => tool.name),
    removed: before.filter((tool) => !now.has(tool.name)).map((tool) => tool.name),
    changed: after.filter((tool) => old.has(tool.name) && !sameEntry(old.get(tool.name)!, tool)).map((tool) => tool.name),
  };
}

export const isUnchanged = (diff: ToolListDiff) => !diff.added.length && !diff.removed.length && !diff.changed.length;

/** The tools the server's own bearer token sees: PER_USER tools need an end user. */
export const serverTokenTools = (tools: readonly ToolEntry[]) => tools.filter((tool) => tool.connectionStrategy !== 'PER_USER');

/** The MCP `tools/list` entry: the catalog's description and input schema, the provider's output schema and hints. */
export function toolDefinition(tool: ToolEntry): ToolDefinition {
  const action = getAction(tool.integrationName, tool.action);
  const run = getProvider(tool.integrationName)?.actions[tool.action];
  return {
    name: tool.name,
    // Only between a catalog release and the start-up re-derivation can a stored tool lack its catalog entry.
    description: action?.description ?? `${tool.action} (${tool.integrationName})`,
    inputSchema: action?.inputSchema ?? { type: 'object', properties: {} },
    ...(run
      ? {
          outputSchema: run.outputSchema,
          // Every action reaches a provider outside Heddle: the world it acts on is open.
          annotations: { readOnlyHint: run.readOnly, destructiveHint: run.destructive, idempotentHint: run.idempotent, openWorldHint: true },
        }
      : {}),
  };
}

/**
 * The tools an end user sees: those whose integration resolves a connection
 * for them, decided by resolveConnection's own rule without its side effects
 * (no refresh, no metering). `data` holds every integration of the workspace.
 */
export function toolsResolvingFor(tools: readonly ToolEntry[], data: ResolutionData, externalId: string): ToolEntry[] {
  const resolves = new Set<string>();
  for (const integration of data.integrations) {
    try {
      decideResolution(data, { workspaceId: integration.workspaceId, integration: integration.alias, externalId });
      resolves.add(integration.id);
    } catch (error) {
      if (!(error instanceof ConnectionRequiredError)) throw error;
    }
  }
  return tools.filter((tool) => resolves.has(tool.workspaceIntegrationId));
}
