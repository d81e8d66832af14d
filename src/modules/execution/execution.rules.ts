// The pure rules of action execution (DESIGN.md, issue #24): what of a call is
// stored and answered (redacted, truncated), which failures are retried and
// after how long, which error code a failure is, and when a repeated
// idempotency key names the same request.
import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import stableStringify from 'safe-stable-stringify';
import type { ConnectionSecret } from '../../platform/crypto/credential-store.js';
import { ProviderError, ValidationError, type ProviderErrorCode } from '../../platform/errors.js';
import type { CatalogAction } from '../catalog/types.js';
import { ProviderCallError } from '../catalog/provider.js';

/** Stored inputs and outputs are cut to this many bytes of JSON. */
export const MAX_STORED_BYTES = 64 * 1024;
/** A repeated idempotency key returns the first execution for this long; later it starts a new one. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
export const REDACTED = '[redacted]';

// ---------------------------------------------------------------------------
// Input validation

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validators = new WeakMap<CatalogAction, ValidateFunction>();

/** The JSON pointer segments of a failing value; a missing or unknown property is named itself, not its parent. */
function pointerOf(error: ErrorObject): string[] {
  const segments = error.instancePath.split('/').slice(1).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty) segments.push(params.missingProperty);
  if (error.keyword === 'additionalProperties' && params.additionalProperty) segments.push(params.additionalProperty);
  return segments;
}

const pointerText = (segments: string[]) => segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');

/**
 * Checks an action's input against the catalog's JSON Schema, before anything
 * reaches the network. Each failing value is one field error: its path is
 * `prefix` and the segments of its JSON pointer, its message names the pointer.
 */
export function validateActionInput(action: CatalogAction, input: unknown, prefix: string[]): asserts input is Record<string, unknown> {
  let validate = validators.get(action);
  if (!validate) {
    validate = ajv.compile(action.inputSchema);
    validators.set(action, validate);
  }
  if (validate(input)) return;
  const byPath = new Map<string, { path: string[]; message: string }>();
  for (const error of validate.errors ?? []) {
    const pointer = pointerOf(error);
    const key = pointer.join('\u0000');
    const message = error.keyword === 'additionalProperties' ? 'is not a property of this action' : (error.message ?? 'is invalid');
    if (!byPath.has(key)) byPath.set(key, { path: [...prefix, ...pointer], message: `${pointerText(pointer) || '(the input)'} ${message}` });
  }
  throw new ValidationError([...byPath.values()]);
}

// ---------------------------------------------------------------------------
// What is kept: redaction and truncation

/** Keys whose values are never stored (compared without case, `-` or `_`). */
const SENSITIVE_KEYS = new Set([
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'secret',
  'clientsecret',
  'password',
  'passwd',
  'authorization',
  'proxyauthorization',
  'apikey',
  'xapikey',
  'cookie',
  'setcookie',
  'privatekey',
  'credentials',
]);

export function isSensitiveKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SENSITIVE_KEYS.has(normalised) || normalised.endsWith('secret') || normalised.endsWith('password');
}

/** The values of a connection's secret long enough to be recognised anywhere (they are scrubbed from every stored or answered text). */
export function secretValues(secret: ConnectionSecret): string[] {
  const values = [secret.accessToken, secret.refreshToken, secret.clientSecret, secret.apiKey, secret.password, ...Object.values(secret.fields ?? {})];
  return [...new Set(values.filter((value): value is string => typeof value === 'string' && value.length >= 6))];
}

/** `text` with every occurrence of a secret replaced. */
export function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  return result;
}

/** A copy of a JSON value with sensitive keys' values and every secret occurrence replaced. */
export function redact(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return scrub(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redact(item, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, isSensitiveKey(key) ? REDACTED : redact(item, secrets)]),
    );
  }
  return value;
}

/** A JSON value, or, above MAX_STORED_BYTES of JSON, a marker with the size and the beginning of the text. */
export function truncate(value: unknown): unknown {
  const text = JSON.stringify(value ?? null);
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_STORED_BYTES) return value ?? null;
  return { truncated: true, bytes, preview: Buffer.from(text).subarray(0, MAX_STORED_BYTES - 1024).toString('utf8').replace(/\uFFFD$/, '') };
}

/** What is stored of an input or output, and so what every caller is answered. */
export const forStorage = (value: unknown, secrets: readonly string[]): unknown => truncate(redact(value, secrets));

// ---------------------------------------------------------------------------
// Retries

/** Retries of one provider request after its first attempt (429, 5xx, network errors). */
export const MAX_RETRIES = 3;

/** Whether a failed call may be sent again: only when sending it twice cannot do harm (idempotent action or an idempotency key). */
export const mayRetry = (action: { idempotent: boolean }, idempotencyKey: string | null | undefined): boolean =>
  action.idempotent || Boolean(idempotencyKey);

/** A failure worth another attempt: rate limited, a 5xx, or no answer at all (not the caller's own timeout). */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ProviderCallError)) return false;
  const status = error.providerStatus;
  return error.failure.rateLimited === true || status === 429 || status === null || status >= 500;
}

/** The provider rejected the credential (HTTP 401, or its own way of saying so): an OAuth2 connection refreshes once and tries again. */
export const isUnauthorized = (error: unknown): boolean =>
  error instanceof ProviderCallError && (error.providerStatus === 401 || error.failure.credentialRejected === true);

/** How long to wait before the next attempt: the provider's Retry-After when it is longer than the backoff's own delay. */
export function waitBeforeRetry(error: unknown, backoffMs: number): number {
  const asked = error instanceof ProviderCallError ? (error.failure.retryAfterMs ?? 0) : 0;
  return Math.max(0, asked - backoffMs);
}

// ---------------------------------------------------------------------------
// Failures

/** A failed call as the typed error every entry point answers, its message scrubbed of secrets. */
export function providerErrorOf(error: unknown, timedOut: { afterMs: number } | null, secrets: readonly string[]): ProviderError {
  if (timedOut) return new ProviderError('PROVIDER_TIMEOUT', `the provider did not answer within ${timedOut.afterMs} ms`, null);
  if (error instanceof ProviderError) return error;
  if (error instanceof ProviderCallError) {
    const status = error.providerStatus;
    const code: ProviderErrorCode = error.failure.rateLimited || status === 429 ? 'PROVIDER_RATE_LIMITED' : 'PROVIDER_ERROR';
    return new ProviderError(code, scrub(error.failure.message, secrets), status, error.failure.providerCode ?? null);
  }
  // A provider's mapping failed on an answer it did not expect: still the provider's answer, never Heddle's internals.
  return new ProviderError('PROVIDER_ERROR', 'the provider answered in a shape Heddle could not read', null);
}

// ---------------------------------------------------------------------------
// Idempotency

/**
 * The value of a provider's idempotency header (Stripe's `Idempotency-Key`) for the `requestIndex`-th request of
 * one keyed execution. Never the caller's key itself: a hash of the workspace, the key and the execution, so two
 * workspaces (or organizations) that share a provider account and pick the same key cannot collide, a key reused
 * after Heddle's 24 h window is a new key at the provider too, and the caller's words do not leave Heddle. The
 * request index keeps an action's several requests apart; retries of one request send the same value.
 * base64url of SHA-256: 43 characters of [A-Za-z0-9_-], within the providers' limits (Stripe 255).
 */
export function providerIdempotencyKey(execution: { workspaceId: string; idempotencyKey: string; executionId: string }, requestIndex: number): string {
  return createHash('sha256')
    .update(JSON.stringify(['heddle-idempotency-v1', execution.workspaceId, execution.idempotencyKey, execution.executionId, requestIndex]))
    .digest('base64url');
}

/** What makes two calls "the same request" for an idempotency key. */
export function requestHash(request: { integration: string; action: string; externalId: string | null; input: unknown }): string {
  return createHash('sha256').update(stableStringify(request) ?? '').digest('hex');
}
