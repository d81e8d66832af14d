// The registry of Providers against the catalog: every action of an
// integration that has a Provider can run, none is invented, and every output
// schema is a strict, compilable JSON Schema.
import { expect, test } from 'vitest';
import { actionNames, getIntegration } from '../../src/modules/catalog/catalog.js';
import { getProvider, providerNames } from '../../src/modules/catalog/providers.js';
import { newAjv } from '../support/ajv.js';

test('Slack and GitHub have Providers; an integration without one answers undefined', () => {
  expect(providerNames()).toEqual(expect.arrayContaining(['slack', 'github']));
  expect(getProvider('stripe')).toBeUndefined();
  expect(getProvider('constructor')).toBeUndefined();
});

test.each(providerNames())('%s: one ProviderAction per catalog action, and no other', (name) => {
  expect(getIntegration(name)).toBeDefined();
  expect(Object.keys(getProvider(name)!.actions).sort()).toEqual(actionNames(name).sort());
});

test.each(providerNames())('%s: output schemas compile in strict mode, describe every property and reject unknown ones', (name) => {
  const provider = getProvider(name)!;
  expect(new URL(provider.baseUrl).protocol).toBe('https:');
  const ajv = newAjv();
  for (const [action, definition] of Object.entries(provider.actions)) {
    expect(() => ajv.compile(definition.outputSchema), `${name}.${action}`).not.toThrow();
    expect(definition.outputSchema).toMatchObject({ type: 'object', additionalProperties: false });
    for (const [property, schema] of Object.entries(definition.outputSchema.properties)) {
      expect((schema as { description?: string }).description, `${name}.${action}.${property}`).toBeTruthy();
    }
    // A read-only action changes nothing, so it can neither destroy nor be unsafe to repeat.
    if (definition.readOnly) expect(definition).toMatchObject({ destructive: false, idempotent: true });
  }
});
