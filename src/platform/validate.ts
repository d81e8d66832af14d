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
