// The shape of the built-in integration catalog.
import type { ConnectionType } from '../connection/connection.rules.js';

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
  /** Whether the provider supports PKCE (hosted connect sends S256 either way: RFC 9700 §2.1.1). */
  pkce: boolean;
  /** How the `scope` parameter joins scopes: ' ' (RFC 6749 §3.3) unless the provider wants another. */
  scopeSeparator?: string;
  /** Extra authorization request parameters the provider needs (e.g. Google's access_type=offline for a refresh token). */
  authorizationParams?: Record<string, string>;
}

export interface CatalogCustomAuthField {
  name: string;
  displayName: string;
  /** Whether the value is a secret (masked in UIs, never echoed back). */
  secret: boolean;
}

export interface CatalogIntegration {
  /** Slug: ^[a-z0-9]+(-[a-z0-9]+)*$ */
  name: string;
  displayName: string;
  description: string;
  /** Non-empty. */
  authTypes: AuthType[];
  /** Present exactly when authTypes includes OAUTH2 or PLATFORM_OAUTH2. */
  oauth2?: CatalogOAuth2;
  /** For CUSTOM_AUTH: the keys a connection's `credentials.fields` must hold. */
  customAuthFields?: CatalogCustomAuthField[];
  /** For SECRET_TEXT: what the provider calls the secret (default "API key"), shown on the connect form. */
  secretTextLabel?: string;
  /** At least three; names are snake_case and never contain `__` (MCP tools are `{alias}__{action}`). */
  actions: CatalogAction[];
  /** Events the service emits; [] when none. */
  triggers: CatalogTrigger[];
}
