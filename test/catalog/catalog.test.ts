import { Ajv } from 'ajv';
import { expect, test } from 'vitest';
import { actionNames, getAction, getIntegration, listIntegrations } from '../../src/catalog/catalog.js';

const REQUIRED = ['slack', 'github', 'gmail', 'google-sheets', 'notion', 'linear', 'jira', 'hubspot', 'salesforce', 'stripe'];
const SNAKE = /^[a-z][a-z0-9_]*$/;

test('the catalog has the ten required integrations, named by the slug rule', () => {
  const names = listIntegrations().map((i) => i.name);
  expect(names).toEqual(expect.arrayContaining(REQUIRED));
  for (const name of names) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  expect(new Set(names).size).toBe(names.length);
});

test.each(listIntegrations().map((i) => [i.name, i] as const))('%s: actions, schemas, auth and triggers are well formed', (_name, integration) => {
  expect(integration.authTypes.length).toBeGreaterThan(0);
  const usesOAuth = integration.authTypes.some((type) => type === 'OAUTH2' || type === 'PLATFORM_OAUTH2');
  expect(integration.oauth2 !== undefined).toBe(usesOAuth);
  if (integration.oauth2) {
    expect(new URL(integration.oauth2.authorizationUrl).protocol).toBe('https:');
    expect(new URL(integration.oauth2.tokenUrl).protocol).toBe('https:');
  }

  expect(integration.actions.length).toBeGreaterThanOrEqual(3);
  const actionNamesSeen = integration.actions.map((a) => a.name);
  expect(new Set(actionNamesSeen).size).toBe(actionNamesSeen.length);
  const ajv = new Ajv({ strict: false });
  for (const action of integration.actions) {
    expect(action.name).toMatch(SNAKE);
    expect(action.name).not.toContain('__'); // reserved: MCP tool names are {alias}__{action}
    expect(action.description.length).toBeGreaterThan(10);
    expect(action.inputSchema.type).toBe('object');
    for (const required of action.inputSchema.required ?? []) expect(action.inputSchema.properties).toHaveProperty(required);
    for (const property of Object.values(action.inputSchema.properties)) expect(property).toHaveProperty('description');
    const validate = ajv.compile(action.inputSchema);
    expect(validate({ unexpected: true })).toBe(false); // no unknown properties
    if ((action.inputSchema.required ?? []).length > 0) expect(validate({})).toBe(false);
  }

  const triggerNames = integration.triggers.map((t) => t.name);
  for (const name of triggerNames) expect(name).toMatch(SNAKE);
  expect(new Set(triggerNames).size).toBe(triggerNames.length);
});

test('an action input that satisfies its schema validates', () => {
  const ajv = new Ajv({ strict: false });
  const sendMessage = getAction('slack', 'send_message')!;
  expect(ajv.validate(sendMessage.inputSchema, { channel: '#general', text: 'hello' })).toBe(true);
  expect(ajv.validate(sendMessage.inputSchema, { channel: '#general' })).toBe(false);
});

test('lookups', () => {
  expect(getIntegration('slack')?.displayName).toBe('Slack');
  expect(getIntegration('nope')).toBeUndefined();
  expect(getAction('github', 'create_issue')?.name).toBe('create_issue');
  expect(getAction('github', 'send_message')).toBeUndefined();
  expect(actionNames('stripe')).toEqual(getIntegration('stripe')!.actions.map((a) => a.name));
  expect(actionNames('nope')).toEqual([]);
});
