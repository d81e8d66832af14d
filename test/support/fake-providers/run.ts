// Runs one catalog action the way the execution layer does, against a fake
// provider: the input must match the catalog's input schema, the base URL
// comes from the HEDDLE_PROVIDER_BASE_URLS overrides, requests go through
// createSend, and the output must match the action's output schema.
import { expect } from 'vitest';
import type { ConnectionSecret } from '../../../src/platform/crypto/credential-store.js';
import { ProviderCallError } from '../../../src/modules/catalog/provider.js';
import { getAction } from '../../../src/modules/catalog/catalog.js';
import { getProvider } from '../../../src/modules/catalog/providers.js';
import { createSend, resolveBaseUrl } from '../../../src/modules/execution/provider-http.js';
import { newAjv } from '../ajv.js';

const ajv = newAjv();

export async function runAction(
  integration: string,
  action: string,
  input: Record<string, unknown>,
  options: { baseUrl: string; secret: ConnectionSecret },
): Promise<Record<string, unknown>> {
  const provider = getProvider(integration);
  const definition = provider?.actions[action];
  const catalogAction = getAction(integration, action);
  if (!provider || !definition || !catalogAction) throw new Error(`no provider action ${integration}.${action}`);
  const validInput = ajv.compile(catalogAction.inputSchema);
  if (!validInput(input)) throw new Error(`test input does not match ${integration}.${action}: ${ajv.errorsText(validInput.errors)}`);

  const baseUrl = await resolveBaseUrl(integration, provider, { overrides: { [integration]: options.baseUrl }, allowPrivateAddresses: true });
  const result = await definition.run(input, createSend({ provider, baseUrl, secret: options.secret, allowPrivateAddresses: true }));

  const validOutput = ajv.compile(definition.outputSchema);
  if (!validOutput(result)) throw new Error(`output of ${integration}.${action} does not match its outputSchema: ${ajv.errorsText(validOutput.errors)}`);
  return result;
}

/** The ProviderCallError a call rejects with (the test fails if it resolves or throws anything else). */
export async function providerError(call: Promise<unknown>): Promise<ProviderCallError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderCallError);
  return error as ProviderCallError;
}
