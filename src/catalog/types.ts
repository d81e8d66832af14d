// The shape of the built-in integration catalog.
import type { ConnectionType } from '../domain/connections.js';

export type AuthType = ConnectionType;

/** A JSON Schema for an action's input; always an object at the top level (MCP requires it). */
export type JsonSchema = {
  type: 'object';
  properties: Record<string, unknown>;
  required?: string[];
  additionalProperties?: boolean;
  [keyword: string]: unknown;
};

export interface CatalogAction {
  name: string;
  displayName: string;
  description: string;
  inputSchema: JsonSchema;
}

export interface CatalogTrigger {
  name: string;
  displayName: string;
  description: string;
}

export interface CatalogOAuth2 {
  authorizationUrl: string;
  tokenUrl: string;
  defaultScopes: string[];
  pkce: boolean;
}

export interface CatalogIntegration {
  name: string;
  displayName: string;
  description: string;
  authTypes: AuthType[];
  /** Present exactly when authTypes includes OAUTH2 or PLATFORM_OAUTH2. */
  oauth2?: CatalogOAuth2;
  actions: CatalogAction[];
  triggers: CatalogTrigger[];
}
