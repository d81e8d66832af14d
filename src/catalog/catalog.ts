// The built-in, versioned integration catalog. Workspace integrations, triggers
// and MCP tools are validated against it.
import { github } from './integrations/github.js';
import { gmail } from './integrations/gmail.js';
import { googleSheets } from './integrations/google-sheets.js';
import { hubspot } from './integrations/hubspot.js';
import { jira } from './integrations/jira.js';
import { linear } from './integrations/linear.js';
import { notion } from './integrations/notion.js';
import { salesforce } from './integrations/salesforce.js';
import { slack } from './integrations/slack.js';
import { stripe } from './integrations/stripe.js';
import type { CatalogAction, CatalogIntegration } from './types.js';

export const CATALOG_VERSION = '2026-11-23';

const INTEGRATIONS: readonly CatalogIntegration[] = Object.freeze(
  [github, gmail, googleSheets, hubspot, jira, linear, notion, salesforce, slack, stripe].sort((a, b) => a.name.localeCompare(b.name)),
);
const BY_NAME = new Map(INTEGRATIONS.map((integration) => [integration.name, integration]));
const ACTIONS = new Map(INTEGRATIONS.map((i) => [i.name, new Map(i.actions.map((a) => [a.name, a]))]));

export function listIntegrations(): readonly CatalogIntegration[] {
  return INTEGRATIONS;
}

export function getIntegration(name: string): CatalogIntegration | undefined {
  return BY_NAME.get(name);
}

export function getAction(integrationName: string, actionName: string): CatalogAction | undefined {
  return ACTIONS.get(integrationName)?.get(actionName);
}

/** The integration's action names in catalog order ([] for an unknown integration). */
export function actionNames(integrationName: string): string[] {
  return [...(ACTIONS.get(integrationName)?.keys() ?? [])];
}
