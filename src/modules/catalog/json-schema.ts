// Small constructors that keep the catalog's JSON Schemas short and uniform:
// every property has a description, objects reject unknown properties.
import type { CatalogAction, CatalogTrigger, JsonSchema } from './types.js';

type Property = Record<string, unknown> & { description: string };

export const string = (description: string, extra: Record<string, unknown> = {}): Property => ({ type: 'string', description, ...extra });
export const integer = (description: string, min?: number, max?: number): Property => ({
  type: 'integer',
  description,
  ...(min !== undefined ? { minimum: min } : {}),
  ...(max !== undefined ? { maximum: max } : {}),
});
export const boolean = (description: string): Property => ({ type: 'boolean', description });
export const stringList = (description: string, item: Record<string, unknown> = {}): Property => ({
  type: 'array',
  description,
  items: { type: 'string', ...item },
});
export const enumOf = (description: string, values: string[]): Property => ({ type: 'string', description, enum: values });
export const email = (description: string) => string(description, { format: 'email' });
export const uri = (description: string) => string(description, { format: 'uri' });
export const dateTime = (description: string) => string(description, { format: 'date-time' });
export const limit = (max = 100) => integer(`How many results to return (1-${max}).`, 1, max);

export function input(properties: Record<string, Property>, required: string[] = []): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

export function action(name: string, displayName: string, description: string, inputSchema: JsonSchema): CatalogAction {
  return { name, displayName, description, inputSchema };
}

export function trigger(name: string, displayName: string, description: string): CatalogTrigger {
  return { name, displayName, description };
}

/** An action's output (or an object inside it); properties listed in `required` are always present. */
export function output(properties: Record<string, Property>, required: string[] = Object.keys(properties)): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

/** A property that may also be null (the provider leaves it empty). */
export const nullable = (property: Property): Property => ({ ...property, type: [property.type, 'null'] });
export const objectOf = (description: string, schema: JsonSchema): Property => ({ ...schema, description });
export const listOf = (description: string, items: JsonSchema): Property => ({ type: 'array', description, items });
