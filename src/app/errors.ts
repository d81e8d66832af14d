// What a GraphQL error may say. Every error leaves with a stable
// `extensions.code` (REQUEST_ERROR_CODES or ERROR_CODES); an unexpected one
// leaves as "Unexpected error." with no detail unless HEDDLE_EXPOSE_ERRORS is
// on. Yoga's maskError is the one place for errors of execution (HTTP, SSE
// and graphql-ws alike) and of the HTTP request; useErrorCodes tags parse
// errors, which graphql-ws returns without masking.
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { maskError, type Plugin } from 'graphql-yoga';
import { isTransientDatabaseError } from '../platform/db/errors.js';
import { HeddleError, ValidationError, type RequestErrorCode } from '../platform/errors.js';

/** Seconds a client should wait before retrying a SERVICE_UNAVAILABLE answer. */
export const RETRY_AFTER_SECONDS = 1;

/** Sets `code` on an error that has none (graphql-js and Yoga errors' extensions are plain objects). */
export function tagCode(error: GraphQLError, code: RequestErrorCode): GraphQLError {
  (error.extensions as Record<string, unknown>).code ??= code;
  return error;
}

/** The innermost error a GraphQLError wraps (a resolver's throw arrives wrapped, with its path). */
function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

/**
 * Yoga's maskError for Heddle: domain errors keep their message and code; a
 * database that cannot serve now is SERVICE_UNAVAILABLE (HTTP 503, nothing
 * was written, retry); an error of the caller's request keeps its message and
 * gets a code; anything else is masked.
 */
export function maskHeddleError(error: unknown, message: string, isDev?: boolean): Error {
  const cause = rootCause(error);
  const at = error instanceof GraphQLError ? { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path } : {};
  if (cause instanceof HeddleError) {
    const fieldErrors = cause instanceof ValidationError ? { fieldErrors: cause.fieldErrors } : {};
    return new GraphQLError(cause.message, { ...at, extensions: { code: cause.code, ...fieldErrors } });
  }
  if (isTransientDatabaseError(cause)) {
    return new GraphQLError('The service is busy and changed nothing: retry shortly.', {
      ...at,
      extensions: {
        code: 'SERVICE_UNAVAILABLE',
        http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
        ...(isDev ? { originalError: { message: (cause as Error).message } } : {}),
      },
    });
  }
  // Relay's "Invalid global ID", a negative `first`, a bad cursor.
  if (cause instanceof PothosValidationError) return new GraphQLError(cause.message, { ...at, extensions: { code: 'BAD_USER_INPUT' } });
  // Variables that do not coerce (graphql-js names the variable and path; a scalar's own error may be inside).
  if (error instanceof GraphQLError && !error.path && error.message.startsWith('Variable "$')) {
    return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code: 'BAD_USER_INPUT' } });
  }
  if (!(error instanceof GraphQLError) || !(cause instanceof GraphQLError)) return maskError(error, message, isDev);
  if (typeof cause.extensions.code === 'string') return withoutOriginalError(error, isDev);
  // graphql-js coercing an argument of a field ("Argument "first" of non-null type…").
  if (error.path && cause.message.startsWith('Argument "')) return tagCode(new GraphQLError(cause.message, at), 'BAD_USER_INPUT');
  // Any other codeless GraphQLError thrown while resolving a field (an output scalar that cannot serialize…) is a bug of ours.
  if (error.path) {
    const internal = Object.assign(new Error(cause.message), { stack: cause.stack });
    return maskError(new GraphQLError(cause.message, { ...at, originalError: internal }), message, isDev);
  }
  // The request itself: a CSRF rejection, a body Yoga cannot read.
  return tagCode(withoutOriginalError(error, isDev), 'BAD_REQUEST');
}

/**
 * Outside development, the error without the `originalError` Yoga puts in the
 * extensions of a body it cannot read: the JSON parser's message quotes the
 * body. Yoga keys the 400 for application/json off that originalError, so the
 * status is marked to hold anyway (`spec: false`).
 */
function withoutOriginalError(error: GraphQLError, isDev?: boolean): GraphQLError {
  if (isDev || !('originalError' in error.extensions)) return error;
  const { originalError: _hidden, http, ...extensions } = error.extensions as Record<string, unknown>;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...extensions, ...(http ? { http: { ...http, spec: false } } : {}) },
  });
}

/** A parse error (a syntax error, the token limit) carries GRAPHQL_PARSE_FAILED on every transport. */
export function useErrorCodes(): Plugin {
  return {
    onParse: () => ({ result }) => {
      if (result instanceof GraphQLError) tagCode(result, 'GRAPHQL_PARSE_FAILED');
    },
  };
}
