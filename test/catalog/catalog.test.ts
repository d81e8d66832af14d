import { expect, test } from 'vitest';
import { actionNames, CATALOG_VERSION, getAction, getIntegration, listIntegrations } from '../../src/modules/catalog/catalog.js';
import { newAjv } from '../support/ajv.js';

const REQUIRED = ['slack', 'github', 'gmail', 'google-sheets', 'notion', 'linear', 'jira', 'hubspot', 'salesforce', 'stripe'];
const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SNAKE = /^[a-z][a-z0-9_]*$/;

// One realistic call per integration, as an agent would make it.
const SAMPLES: Record<string, { action: string; input: Record<string, unknown> }> = {
  slack: { action: 'send_message', input: { channel: '#general', text: 'Deploy finished', threadTs: '1700000000.000100' } },
  github: { action: 'create_issue', input: { owner: 'heddle', repo: 'api', title: 'Crash on empty alias', labels: ['bug'] } },
  gmail: { action: 'send_email', input: { to: ['ada@example.com'], subject: 'Hello', body: 'Hi Ada' } },
  'google-sheets': { action: 'append_row', input: { spreadsheetId: '1AbC', sheet: 'Leads', values: ['Ada', 42, true, null] } },
  notion: { action: 'create_page', input: { parentId: 'b55c9c91', title: 'Meeting notes', content: '# Agenda' } },
  linear: { action: 'create_issue', input: { teamId: 'team_1', title: 'Fix login', priority: 2, dueDate: '2026-12-01' } },
  jira: { action: 'create_issue', input: { projectKey: 'ENG', summary: 'Fix login', issueType: 'Bug' } },
  hubspot: { action: 'create_deal', input: { name: 'Acme renewal', stage: 'appointmentscheduled', amount: 1200, closeDate: '2026-12-31T17:00:00Z' } },
  salesforce: { action: 'create_record', input: { sobject: 'Contact', fields: { LastName: 'Lovelace' } } },
  stripe: { action: 'create_invoice', input: { customerId: 'cus_123', amount: 4999, currency: 'usd' } },
};

test('the catalog has the ten required integrations, in alphabetical order and frozen', () => {
  expect(CATALOG_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  const names = listIntegrations().map((i) => i.name);
  expect(names).toEqual(expect.arrayContaining(REQUIRED));
  expect(names).toEqual([...names].sort());
  expect(new Set(names).size).toBe(names.length);
  expect(Object.isFrozen(listIntegrations())).toBe(true);
  for (const name of names) expect(name).toMatch(SLUG);
});

test.each(listIntegrations().map((i) => [i.name, i] as const))('%s: auth, actions, schemas and triggers are well formed', (_name, integration) => {
  expect(integration.displayName.length).toBeGreaterThan(0);
  expect(integration.authTypes.length).toBeGreaterThan(0);
  expect(new Set(integration.authTypes).size).toBe(integration.authTypes.length);

  const usesOAuth = integration.authTypes.some((type) => type === 'OAUTH2' || type === 'PLATFORM_OAUTH2');
  expect(integration.oauth2 !== undefined).toBe(usesOAuth);
  if (integration.oauth2) {
    expect(new URL(integration.oauth2.authorizationUrl).protocol).toBe('https:');
    expect(new URL(integration.oauth2.tokenUrl).protocol).toBe('https:');
  }
  expect(integration.customAuthFields !== undefined).toBe(integration.authTypes.includes('CUSTOM_AUTH'));
  const customFields = (integration.customAuthFields ?? []).map((f) => f.name);
  expect(new Set(customFields).size).toBe(customFields.length);

  expect(integration.actions.length).toBeGreaterThanOrEqual(3);
  const names = integration.actions.map((a) => a.name);
  expect(new Set(names).size).toBe(names.length);
  const ajv = newAjv();
  for (const action of integration.actions) {
    expect(action.name).toMatch(SNAKE);
    expect(action.name).not.toContain('__'); // reserved: MCP tool names are {alias}__{action}
    expect(action.description.length).toBeGreaterThan(10);
    const schema = action.inputSchema;
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    for (const required of schema.required ?? []) expect(schema.properties).toHaveProperty(required);
    for (const property of Object.values(schema.properties)) {
      expect(property).toHaveProperty('type');
      expect(property).toHaveProperty('description');
    }
    const validate = ajv.compile(schema);
    expect(validate({ unexpected: true })).toBe(false);
    if ((schema.required ?? []).length > 0) expect(validate({})).toBe(false);
  }

  const triggerNames = integration.triggers.map((t) => t.name);
  for (const name of triggerNames) expect(name).toMatch(SNAKE);
  expect(new Set(triggerNames).size).toBe(triggerNames.length);
});

test('every integration has a sample input', () => {
  expect(Object.keys(SAMPLES).sort()).toEqual(listIntegrations().map((i) => i.name));
});

test.each(Object.entries(SAMPLES))('%s: a valid sample input validates, one missing a required field does not', (integration, sample) => {
  const action = getAction(integration, sample.action);
  expect(action).toBeDefined();
  const validate = newAjv().compile(action!.inputSchema);
  expect(validate(sample.input), JSON.stringify(validate.errors)).toBe(true);
  for (const field of action!.inputSchema.required ?? []) {
    const { [field]: _omitted, ...missing } = sample.input;
    expect(validate(missing)).toBe(false);
  }
});

test('formats are enforced', () => {
  const ajv = newAjv();
  const lookup = ajv.compile(getAction('slack', 'lookup_user_by_email')!.inputSchema);
  expect(lookup({ email: 'ada@example.com' })).toBe(true);
  expect(lookup({ email: 'not an email' })).toBe(false);
  const createContact = ajv.compile(getAction('hubspot', 'create_contact')!.inputSchema);
  expect(createContact({ email: 'ada@example.com', website: 'notaurl' })).toBe(false);
  const listPayments = ajv.compile(getAction('stripe', 'list_payments')!.inputSchema);
  expect(listPayments({ createdAfter: '2026-11-23T00:00:00Z' })).toBe(true);
  expect(listPayments({ createdAfter: 'yesterday' })).toBe(false);
});

test('jira custom auth lists its site, email and API token', () => {
  expect(getIntegration('jira')?.customAuthFields).toEqual([
    { name: 'domain', displayName: expect.any(String), secret: false },
    { name: 'email', displayName: expect.any(String), secret: false },
    { name: 'apiToken', displayName: expect.any(String), secret: true },
  ]);
});

test('lookups', () => {
  expect(getIntegration('slack')?.displayName).toBe('Slack');
  expect(getIntegration('google-sheets')?.name).toBe('google-sheets');
  expect(getIntegration('nope')).toBeUndefined();
  expect(getAction('github', 'create_issue')?.name).toBe('create_issue');
  expect(getAction('github', 'send_message')).toBeUndefined();
  expect(getAction('nope', 'create_issue')).toBeUndefined();
  expect(actionNames('stripe')).toEqual(getIntegration('stripe')!.actions.map((a) => a.name));
  expect(actionNames('nope')).toEqual([]);
});
