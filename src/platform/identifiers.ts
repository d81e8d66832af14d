// The identifier rules of DESIGN.md §2, as zod schemas: the one place they live.
import { z } from 'zod';

/** `slug` of organizations and workspaces. */
export const slugSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lowercase letters and digits separated by single hyphens');

/** An end user's `externalId` (Weavy's uid), a directory `name`, a space `uid`. */
export const externalIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(/^\S+$/, 'must not contain whitespace')
  .regex(/\D/, 'must contain at least one non-digit');

export const displayNameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
