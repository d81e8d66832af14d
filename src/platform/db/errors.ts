// Database errors that are really answers: a unique violation means the
// caller asked for something that already exists; a busy database means retry.
import { Prisma } from '../../generated/prisma/client.js';
import { NotFoundError } from '../errors.js';

/** The columns of a violated unique constraint, or null when `error` is something else. */
export function uniqueViolation(error: unknown): string[] | null {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
    const meta = error.meta as { target?: string[] | string; driverAdapterError?: { cause?: { constraint?: { fields?: string[] } } } } | undefined;
    const fields = meta?.driverAdapterError?.cause?.constraint?.fields ?? meta?.target;
    if (Array.isArray(fields)) return fields.map((f) => f.replace(/"/g, ''));
    return typeof fields === 'string' ? [fields] : [];
  }
  return null;
}

/** True when `error` is a foreign key violation (a row still referenced, or a missing parent). */
export function foreignKeyViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && (error.code === 'P2003' || error.code === 'P2014');
}

/** True when `error` says the row to update or delete is gone (P2025: another call deleted it first). */
export function missingRow(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';
}

/** A catch handler: a row gone since it was found is NOT_FOUND (at `path`); anything else is rethrown. */
export const goneIsNotFound =
  (label: string, path: string[]) =>
  (error: unknown): never => {
    if (missingRow(error)) throw new NotFoundError(label, path);
    throw error;
  };

/**
 * Prisma codes of a database that cannot serve the call now: a transaction that
 * could not start in time or expired (P2028, rolled back), a pool timeout
 * (P2024), too many connections (P2037), an unreachable or dropped server
 * (P1001, P1002, P1017), a deadlock or write conflict (P2034).
 */
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024', 'P2028', 'P2034', 'P2037']);

/** pg's pool when no connection frees up within connectionTimeoutMillis (database.ts). */
const PG_POOL_TIMEOUT = 'timeout exceeded when trying to connect';

/**
 * True when `error` says the database could not serve the call now, not that
 * the call was wrong: nothing was committed, and the same call may be retried.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return TRANSIENT_PRISMA_CODES.has(error.code);
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  return error instanceof Error && error.message === PG_POOL_TIMEOUT;
}
