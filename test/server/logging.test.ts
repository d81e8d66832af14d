import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { createLogger, wantsPrettyLogs } from '../../src/platform/logger.js';
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

/** POST /graphql with the given headers; the parsed log lines written since. */
async function postLogged(headers: Record<string, string>, query: string) {
  const before = out.text().length;
  const response = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  await response.json();
  const lines = out.text().slice(before).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { response, lines };
}

test("every log line of a request carries its request id: the caller's X-Request-Id when well-formed, else a new one, echoed back", async () => {
  const token = await t.memberToken('traced@example.com');
  const given = await postLogged({ authorization: `Bearer ${token}`, 'x-request-id': 'gateway-req-0001' }, 'query LoggingTraced { viewer { kind } }');
  expect(given.response.headers.get('x-request-id')).toBe('gateway-req-0001');
  expect(given.lines.find((line) => line.operation === 'LoggingTraced')).toMatchObject({ requestId: 'gateway-req-0001' });
  expect(given.lines.every((line) => line.requestId === 'gateway-req-0001')).toBe(true);

  const malformed = await postLogged({ authorization: `Bearer ${token}`, 'x-request-id': 'bad id\twith "quotes"' }, 'query LoggingUntraced { viewer { kind } }');
  const generated = malformed.response.headers.get('x-request-id');
  expect(generated).toMatch(/^[0-9a-f-]{36}$/);
  expect(malformed.lines.find((line) => line.operation === 'LoggingUntraced')).toMatchObject({ requestId: generated });

  // Two requests at once keep their own ids.
  const [a, b] = await Promise.all([
    fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'concurrent-a' }, body: JSON.stringify({ query: 'query LoggingA { viewer { kind } }' }) }),
    fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'concurrent-b' }, body: JSON.stringify({ query: 'query LoggingB { viewer { kind } }' }) }),
  ]);
  await Promise.all([a.text(), b.text()]);
  const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.find((line) => line.operation === 'LoggingA')).toMatchObject({ requestId: 'concurrent-a' });
  expect(lines.find((line) => line.operation === 'LoggingB')).toMatchObject({ requestId: 'concurrent-b' });
});

test('each graphql-ws operation logs under a request id of its own', async () => {
  const token = await t.memberToken('socket@example.com');
  const client = t.wsClient(token);
  try {
    for (const name of ['LoggingSocketOne', 'LoggingSocketTwo']) {
      for await (const result of client.iterate({ query: `query ${name} { viewer { kind } }` })) expect(result.errors).toBeUndefined();
    }
  } finally {
    await client.dispose();
  }
  const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const one = lines.find((line) => line.operation === 'LoggingSocketOne')?.requestId;
  const two = lines.find((line) => line.operation === 'LoggingSocketTwo')?.requestId;
  expect(one).toMatch(/^[0-9a-f-]{36}$/);
  expect(two).toMatch(/^[0-9a-f-]{36}$/);
  expect(one).not.toBe(two);
});

test('pretty lines only for a terminal outside production', () => {
  expect(wantsPrettyLogs('development', { isTTY: true })).toBe(true);
  expect(wantsPrettyLogs('production', { isTTY: true })).toBe(false);
  expect(wantsPrettyLogs('development', { isTTY: false })).toBe(false);
});
