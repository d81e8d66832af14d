// Typed domain errors. Mutations return them as members of their result union
// (`interface Error { message code }`); every failure has a stable ErrorCode.

export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'CONFLICT',
  'ALIAS_CONFLICT',
  'NOT_FOUND',
  'FORBIDDEN',
  'SCOPE_DENIED',
  'CONNECTION_REQUIRED',
  'AMBIGUOUS_INTEGRATION',
  'ACTION_NOT_ALLOWED',
  'QUOTA_EXCEEDED',
  'ACTION_NOT_SUPPORTED',
  'PROVIDER_ERROR',
  'PROVIDER_TIMEOUT',
  'PROVIDER_RATE_LIMITED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The other `extensions.code`s of top-level GraphQL errors (a query field, a
 * subscription or a whole request that failed); ERROR_CODES appear there too.
 * Together, every code a client can see (README, "Errors").
 */
export const REQUEST_ERROR_CODES = [
  'UNAUTHENTICATED',
  'BAD_REQUEST',
  'REQUEST_ENTITY_TOO_LARGE',
  'BAD_USER_INPUT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'TOKEN_LIMIT_EXCEEDED',
  'DEPTH_LIMIT_EXCEEDED',
  'ALIAS_LIMIT_EXCEEDED',
  'DIRECTIVE_LIMIT_EXCEEDED',
  'COST_LIMIT_EXCEEDED',
  'SUBSCRIPTION_LIMIT',
  'SINCE_VERSION_EXPIRED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
] as const;
export type RequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

export abstract class HeddleError extends Error {
  abstract readonly code: ErrorCode;
}

export interface FieldError {
  path: string[];
  message: string;
}

export class ValidationError extends HeddleError {
  readonly code = 'VALIDATION_ERROR' as const;
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((e) => `${e.path.join('.')}: ${e.message}`).join('; ') || 'invalid input');
  }
}

export class ConflictError extends HeddleError {
  readonly code = 'CONFLICT' as const;
  constructor(message: string, readonly path: string[] = []) {
    super(message);
  }
}

/** Missing, or belonging to another tenant: callers cannot tell which. */
export class NotFoundError extends HeddleError {
  readonly code = 'NOT_FOUND' as const;
  constructor(what = 'resource', readonly path: string[] = []) {
    super(`${what} not found`);
  }
}

/** Allowed for the caller's role in general, but not on this row (e.g. the OWNER's membership). */
export class ForbiddenError extends HeddleError {
  readonly code = 'FORBIDDEN' as const;
  constructor(message: string, readonly path: string[] = []) {
    super(message);
  }
}

/** No ACTIVE connection resolves (none exists, it is in ERROR, or its token could not be refreshed). */
export class ConnectionRequiredError extends HeddleError {
  readonly code = 'CONNECTION_REQUIRED' as const;
  constructor(
    message: string,
    readonly explanation: string[],
  ) {
    super(message);
  }
}

/** An integration name that several workspace integrations share: the caller must name an alias. */
export class AmbiguousIntegrationError extends HeddleError {
  readonly code = 'AMBIGUOUS_INTEGRATION' as const;
  constructor(
    readonly integration: string,
    readonly aliases: string[],
  ) {
    super(`integration "${integration}" is used under several aliases (${aliases.join(', ')}): name one of them`);
  }
}

export class ActionNotAllowedError extends HeddleError {
  readonly code = 'ACTION_NOT_ALLOWED' as const;
  constructor(
    readonly action: string,
    readonly alias: string,
    readonly allowedActions: string[],
  ) {
    super(`action "${action}" is not allowed for "${alias}"`);
  }
}

/** A catalog action no provider implements yet (its integration cannot execute; resolveConnection still works). */
export class ActionNotSupportedError extends HeddleError {
  readonly code = 'ACTION_NOT_SUPPORTED' as const;
  constructor(
    readonly integration: string,
    readonly action: string,
  ) {
    super(`${integration} actions cannot be executed by this Heddle release ("${action}"); resolve the connection and call the provider yourself`);
  }
}

export const PROVIDER_ERROR_CODES = ['PROVIDER_ERROR', 'PROVIDER_TIMEOUT', 'PROVIDER_RATE_LIMITED'] as const;
export type ProviderErrorCode = (typeof PROVIDER_ERROR_CODES)[number];

/**
 * The provider refused or failed the call (PROVIDER_ERROR, with its status and
 * message), did not answer in time (PROVIDER_TIMEOUT), or rate limited it
 * after Heddle's retries (PROVIDER_RATE_LIMITED). Never carries a credential.
 */
export class ProviderError extends HeddleError {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly providerStatus: number | null,
    /** The provider's own error code (Slack `channel_not_found`), when it has one. */
    readonly providerCode: string | null = null,
  ) {
    super(message);
  }
}
