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
import type { AuthType, CatalogAction, CatalogCustomAuthField, CatalogIntegration } from './types.js';

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

/** A value a person types to connect, and the key of the connection's secret it fills. */
export interface AuthField extends CatalogCustomAuthField {
  key: 'apiKey' | 'username' | 'password' | 'fields';
}

/** What a person fills in to connect `integration` with `type` (none for OAuth2: the provider asks). */
export function authFields(integration: CatalogIntegration, type: AuthType): AuthField[] {
  switch (type) {
    case 'SECRET_TEXT':
      return [{ name: 'apiKey', displayName: integration.secretTextLabel ?? 'API key', secret: true, key: 'apiKey' }];
    case 'BASIC_AUTH':
      return [
        { name: 'username', displayName: 'Username', secret: false, key: 'username' },
        { name: 'password', displayName: 'Password', secret: true, key: 'password' },
      ];
    case 'CUSTOM_AUTH':
      return (integration.customAuthFields ?? []).map((field) => ({ ...field, key: 'fields' as const }));
    case 'OAUTH2':
    case 'PLATFORM_OAUTH2':
      return [];
  }
}
