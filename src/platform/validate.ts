import type { z } from 'zod';
import { ValidationError, type FieldError } from './errors.js';

/**
 * Parses a mutation input, or throws a ValidationError whose paths start at
 * `input`. One error per path: the first rule a value breaks is the one reported.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const byPath = new Map<string, FieldError>();
  for (const issue of result.error.issues) {
    const path = ['input', ...issue.path.map(String)];
    const key = path.join('\u0000');
    if (!byPath.has(key)) byPath.set(key, { path, message: issue.message });
  }
  throw new ValidationError([...byPath.values()]);
}

/**
 * Text PostgreSQL cannot store: the NUL character (text and jsonb refuse it)
 * and unpaired UTF-16 surrogates (not Unicode; jsonb refuses their escapes,
 * drivers turn them into U+FFFD). Refused wherever text enters.
 */
export const UNSTORABLE_TEXT_MESSAGE = 'must not contain the NUL character (U+0000) or unpaired surrogates';

export function isStorableText(text: string): boolean {
  return text.isWellFormed() && !text.includes('\u0000');
}

/**
 * The paths (from `path`) of every string, and every object key, in `value`
 * that PostgreSQL cannot store: input objects, lists and JSON at any depth.
 */
export function unstorableTextPaths(value: unknown, path: string[]): string[][] {
  type Visit = { item: unknown; key: string; parent: Visit | null; badKey?: boolean };
  const pathOf = (visit: Visit): string[] => {
    const keys: string[] = [];
    for (let at: Visit | null = visit; at; at = at.parent) keys.push(at.key);
    return [...path, ...keys.reverse().slice(1)];
  };
  const found: string[][] = [];
  // Iterative, with paths built only for what is found: a JSON value may nest deeper than the call stack.
  const pending: Visit[] = [{ item: value, key: '', parent: null }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    const { item } = visit;
    if (visit.badKey) found.push(pathOf(visit));
    if (typeof item === 'string') {
      if (!isStorableText(item)) found.push(pathOf(visit));
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) pending.push({ item: item[i], key: String(i), parent: visit });
    } else if (isPlainObject(item)) {
      for (const [key, child] of Object.entries(item).reverse()) {
        // Paths are stored too (audit details, logs): an offending key is named with U+FFFD in its place.
        const name = key.toWellFormed().replaceAll('\u0000', '\uFFFD');
        pending.push({ item: child, key: name, parent: visit, badKey: name !== key });
      }
    }
  }
  return found;
}

/** Input objects (graphql-js makes them without a prototype) and JSON objects; not Dates. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === null || proto === Object.prototype;
}
