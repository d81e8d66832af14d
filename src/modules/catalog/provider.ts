// The contract between the execution layer (src/modules/execution) and one
// integration's provider API. An integration that can run its actions exports
// a `Provider` beside its catalog entry (src/modules/catalog/integrations/).
// The execution layer validates the input against the action's JSON Schema,
// resolves and decrypts the connection, then calls `run` with a `send` that
// reaches only the provider (its base URL, or a URL the provider itself
// returned), applies `authorize`, enforces the timeout and retries, and turns
// answers into typed errors through `failureOf`. Providers build requests and
// map answers; they never see configuration, the database or other tenants.
import type { ConnectionSecret } from '../../platform/crypto/credential-store.js';
import type { JsonSchema } from './types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryValue = string | number | boolean;

/** One request to the provider. */
export interface ProviderRequest {
  method: HttpMethod;
  /**
   * A path under the integration's base URL (`/chat.postMessage`), or an
   * absolute https URL the provider returned in an earlier answer (Slack's
   * upload URL). Never built from caller input alone.
   */
  path: string;
  /** Query parameters in order; an array repeats its key (`labelIds=A&labelIds=B`), undefined values are left out. */
  query?: Record<string, QueryValue | readonly QueryValue[] | undefined>;
  headers?: Record<string, string>;
  /** json: sent as application/json; form: application/x-www-form-urlencoded; raw: as given. */
  body?: { json: unknown } | { form: Record<string, string> } | { raw: string | Uint8Array; contentType: string };
}

/** The provider's answer: the body parsed as JSON when it is JSON, else its text. */
export interface ProviderAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A provider failure as the provider states it (message in the provider's words, never a credential). */
export interface ProviderFailure {
  message: string;
  /** The provider's own error code when it has one (Slack `channel_not_found`, GitHub's `message`). */
  providerCode?: string;
  /** Rate limited: the layer answers PROVIDER_RATE_LIMITED (and may retry after `Retry-After`). */
  rateLimited?: boolean;
  /** How long the provider asked to wait (its `Retry-After`); createSend fills it from the header when the provider does not. */
  retryAfterMs?: number;
  /**
   * The provider refused the credential, as an HTTP 401 says it: set by providers that say so
   * another way (Linear's `AUTHENTICATION_ERROR` with HTTP 400 or 200). An OAuth2 connection refreshes once and retries.
   */
  credentialRejected?: boolean;
}

/**
 * Sends a request to the provider with the connection's credential. Resolves
 * with answers `failureOf` accepts; a failure (or a timeout) throws
 * ProviderCallError, so `run` only handles successes.
 */
export type Send = (request: ProviderRequest) => Promise<ProviderAnswer>;

export interface ProviderAction {
  /** JSON Schema of what `run` returns (MCP `outputSchema`, `ActionExecution.output`). */
  outputSchema: JsonSchema;
  /** MCP tool annotations; `idempotent` also allows retries on 429/5xx without an idempotency key. */
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** Sends the request(s) the action needs and maps the answers to its output. */
  run(input: Record<string, unknown>, send: Send): Promise<Record<string, unknown>>;
}

export interface Provider {
  /** The public API base URL (`https://slack.com/api`); HEDDLE_PROVIDER_BASE_URLS overrides it. */
  baseUrl: string;
  /** Headers every request carries (`Notion-Version`, GitHub's `Accept` and `X-GitHub-Api-Version`). */
  headers?: Record<string, string>;
  /**
   * The header the provider documents for idempotent requests (Stripe's `Idempotency-Key` on POST), when it has one.
   * When the caller gave an idempotencyKey, each request of these methods under the base URL carries a value
   * derived from it (providerIdempotencyKey), the same on every retry, so a retried request cannot act twice.
   */
  idempotencyHeader?: { name: string; methods: readonly HttpMethod[] };
  /** The credential's headers (`Authorization: Bearer …` for most; Linear's API keys go bare). */
  authorize(secret: ConnectionSecret): Record<string, string>;
  /** A failed answer, or null for a success. Slack's HTTP 200 `ok:false` and Linear's `errors` are failures. */
  failureOf(answer: ProviderAnswer): ProviderFailure | null;
  /** One entry per catalog action of the integration (a test checks none is missing). */
  actions: Record<string, ProviderAction>;
}

/** Thrown by `run` (or by the layer for an answer `failureOf` rejects). */
export class ProviderCallError extends Error {
  constructor(
    readonly failure: ProviderFailure,
    readonly providerStatus: number | null,
  ) {
    super(failure.message);
  }
}
