import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** Parses a mutation input, or throws a ValidationError whose paths start at `input`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      path: ['input', ...issue.path.map(String)],
      message: issue.message,
    })),
  );
}
