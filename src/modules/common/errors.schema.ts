// `interface Error { message code }`, the ErrorCode enum, and the error types
// that mutations return as members of their result unions.
import {
  ActionNotAllowedError,
  ActionNotSupportedError,
  AmbiguousIntegrationError,
  ConflictError,
  ConnectionRequiredError,
  ERROR_CODES,
  ForbiddenError,
  HeddleError,
  NotFoundError,
  ValidationError,
} from '../../platform/errors.js';
import { builder } from './builder.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: ERROR_CODES });

export const ErrorInterface = builder.interfaceRef<HeddleError>('Error').implement({
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
  }),
});

export const FieldErrorRef = builder.objectRef<{ path: string[]; message: string }>('FieldError').implement({
  description: 'One offending input value: its path from the mutation argument, and what is wrong.',
  fields: (t) => ({
    path: t.exposeStringList('path'),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    fieldErrors: t.field({ type: [FieldErrorRef], resolve: (error) => error.fieldErrors }),
  }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ConflictError,
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'The input path of the value that conflicts.' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'The input path of the id that was not found, when it came from the input.' }),
  }),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ForbiddenError,
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'The input path of the row the rule protects.' }),
  }),
});

builder.objectType(ConnectionRequiredError, {
  name: 'ConnectionRequiredError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ConnectionRequiredError,
  fields: (t) => ({
    explanation: t.exposeStringList('explanation', { description: 'Each candidate that was checked and why it did not resolve.' }),
  }),
});

builder.objectType(AmbiguousIntegrationError, {
  name: 'AmbiguousIntegrationError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof AmbiguousIntegrationError,
  fields: (t) => ({
    integration: t.exposeString('integration'),
    aliases: t.exposeStringList('aliases', { description: 'The aliases the integration name matches; pass one of them instead.' }),
  }),
});

builder.objectType(ActionNotAllowedError, {
  name: 'ActionNotAllowedError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ActionNotAllowedError,
  fields: (t) => ({
    action: t.exposeString('action'),
    allowedActions: t.exposeStringList('allowedActions'),
  }),
});

builder.objectType(ActionNotSupportedError, {
  name: 'ActionNotSupportedError',
  description: 'The catalog lists the action, but this Heddle release cannot run it yet: resolve the connection and call the provider yourself.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ActionNotSupportedError,
  fields: (t) => ({
    integration: t.exposeString('integration'),
    action: t.exposeString('action'),
  }),
});
