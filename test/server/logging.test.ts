import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { startTestApp, type TestApp } from '../support/app.js';

const WhoAmI = graphql(`
  query LoggingWhoAmI { viewer { kind } }
`);

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

test('secret-looking fields are redacted at any depth', () => {
  const out = capture();
  const logger = createLogger('info', out.stream);
  logger.info(
    {
      req: { headers: { authorization: 'Bearer canary-1' } },
      input: { connection: { credentials: { accessToken: 'canary-2' } }, nested: [{ password: 'canary-3' }] },
      apiKey: 'canary-4',
      keep: 'visible',
    },
    'hello',
  );
  expect(out.text()).toContain('visible');
  expect(out.text()).not.toMatch(/canary/);
  expect(out.text()).toContain('[redacted]');
});

let t: TestApp;
const out = capture();
beforeAll(async () => {
  t = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { logStream: out.stream });
});
afterAll(() => t.stop());

test("a request's Authorization header never reaches the logs", async () => {
  const token = await t.memberToken('logged@example.com');
  const result = await t.request(WhoAmI, undefined, token);
  expect(result.data?.viewer.kind).toBe('MEMBER');
  const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const requestLine = lines.find((line) => line.operation === 'LoggingWhoAmI');
  expect(requestLine).toMatchObject({ principal: 'member', headers: { authorization: '[redacted]' } });
  expect(out.text()).not.toContain(token);
});

test('an unexpected error is logged at level error with its message, while the client sees only "Unexpected error."', async () => {
  const token = await t.memberToken('broken@example.com');
  const org = await t.requestRaw<{ createOrganization: { id: string } }>(
    'mutation { createOrganization(input: { name: "Broken", slug: "broken" }) { ... on Organization { id } } }',
    {},
    token,
  );
  await t.app.database.prisma.$executeRawUnsafe('ALTER TABLE "Trigger" RENAME TO "TriggerGone"');
  try {
    const result = await t.requestRaw('query($id: ID!) { organization(id: $id) { triggers(first: 1) { totalCount } } }', { id: org.data!.createOrganization.id }, token);
    expect(result.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  } finally {
    await t.app.database.prisma.$executeRawUnsafe('ALTER TABLE "TriggerGone" RENAME TO "Trigger"');
  }
  const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg?: string; err?: unknown });
  const logged = lines.find((line) => line.level === 50 && line.err);
  expect(logged?.msg).toMatch(/Trigger/);
});
