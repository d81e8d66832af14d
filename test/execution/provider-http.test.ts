// createSend and resolveBaseUrl against real loopback servers: what reaches the
// provider (URL, query, headers, body encoding), how answers are parsed, how
// failures are typed, and the address rule for URLs Heddle did not configure.
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ProviderCallError, type Provider, type ProviderAnswer } from '../../src/modules/catalog/provider.js';
import { providerIdempotencyKey } from '../../src/modules/execution/execution.rules.js';
import { createSend, isPublicAddress, ProviderAddressRefusedError, resolveBaseUrl } from '../../src/modules/execution/provider-http.js';
import { startFakeServer, type FakeServer, type Reply } from '../support/fake-providers/server.js';

const SECRET = 'canary-token-provider-http';

const provider: Provider = {
  baseUrl: 'https://api.example.com/v1',
  headers: { 'x-api-version': '2024-01-01', accept: 'application/json' },
  authorize: (secret) => ({ authorization: `Bearer ${secret.accessToken}` }),
  failureOf: (answer: ProviderAnswer) => {
    if (answer.status < 400) return null;
    const body = answer.body as { message?: string; code?: string } | null;
    return { message: body?.message ?? `HTTP ${answer.status}`, providerCode: body?.code, rateLimited: answer.status === 429 };
  },
  actions: {},
};

let server: FakeServer;
let other: FakeServer;
let next: Reply = { body: { ok: true } };

beforeAll(async () => {
  server = await startFakeServer(() => next);
  other = await startFakeServer(() => ({ body: 'stored' }));
});
afterAll(async () => {
  await server.close();
  await other.close();
});

const sendFor = (options: Partial<Parameters<typeof createSend>[0]> = {}) =>
  createSend({ provider, baseUrl: `${server.url}/v1`, secret: { accessToken: SECRET }, allowPrivateAddresses: true, ...options });

const lastRequest = () => server.requests.at(-1)!;

describe('requests', () => {
  test('a JSON body goes under the base URL path with the query, the provider headers and the credential', async () => {
    next = { body: { id: 7, name: 'created' }, headers: { 'content-type': 'application/vnd.example+json; charset=utf-8' } };
    const answer = await sendFor()({
      method: 'POST',
      path: '/items/a%20b',
      query: { limit: 10, draft: false, cursor: undefined, q: 'x&y=z' },
      headers: { 'idempotency-key': 'k-1' },
      body: { json: { title: 'Hello', tags: ['a'] } },
    });
    expect(answer).toMatchObject({ status: 200, body: { id: 7, name: 'created' } });
    const request = lastRequest();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/items/a%20b');
    expect([...request.query]).toEqual([
      ['limit', '10'],
      ['draft', 'false'],
      ['q', 'x&y=z'],
    ]);
    expect(request.headers).toMatchObject({
      authorization: `Bearer ${SECRET}`,
      'x-api-version': '2024-01-01',
      accept: 'application/json',
      'idempotency-key': 'k-1',
      'content-type': 'application/json; charset=utf-8',
    });
    expect(JSON.parse(request.text)).toEqual({ title: 'Hello', tags: ['a'] });
  });

  test('form and raw bodies are encoded as given; a non-JSON answer is text and an empty one null', async () => {
    next = { body: 'plain words' };
    const send = sendFor();
    const text = await send({ method: 'POST', path: '/form', body: { form: { channel: 'C1', text: 'a b&c' } } });
    expect(text.body).toBe('plain words');
    expect(lastRequest().headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(lastRequest().text).toBe('channel=C1&text=a+b%26c');

    next = { status: 204 };
    const empty = await send({ method: 'PUT', path: '/raw', body: { raw: new Uint8Array([1, 2, 3]), contentType: 'application/octet-stream' } });
    expect(empty).toMatchObject({ status: 204, body: null });
    expect(lastRequest().headers['content-type']).toBe('application/octet-stream');
    expect([...lastRequest().body]).toEqual([1, 2, 3]);
  });

  test('an array in the query repeats its key, once per item and in order, after any query the path holds', async () => {
    next = { body: { ok: true } };
    await sendFor()({ method: 'GET', path: '/search?fixed=1', query: { labels: ['a', 'b c', 'a&b'], ids: [7, true], empty: [], q: 'x', skipped: undefined } });
    const request = lastRequest();
    expect(request.query.getAll('labels')).toEqual(['a', 'b c', 'a&b']);
    expect([...request.query]).toEqual([
      ['fixed', '1'],
      ['labels', 'a'],
      ['labels', 'b c'],
      ['labels', 'a&b'],
      ['ids', '7'],
      ['ids', 'true'],
      ['q', 'x'],
    ]);
  });

  test('JSON that does not parse stays text', async () => {
    next = { body: '{not json', headers: { 'content-type': 'application/json' } };
    expect((await sendFor()({ method: 'GET', path: '/broken' })).body).toBe('{not json');
  });
});

describe('the provider’s idempotency header', () => {
  // As Stripe documents it: `Idempotency-Key` on POST requests (GET and DELETE are idempotent already).
  const stripeLike: Provider = { ...provider, idempotencyHeader: { name: 'Idempotency-Key', methods: ['POST'] } };
  const VALUE = providerIdempotencyKey({ workspaceId: 'ws-1', idempotencyKey: 'deploy-1', executionId: 'ex-1' }, 0);

  test('a keyed request of a declared method carries the value; other methods, other origins and unkeyed calls carry none', async () => {
    next = { body: { ok: true } };
    await sendFor({ provider: stripeLike, idempotencyKey: VALUE })({ method: 'POST', path: '/customers', body: { form: { email: 'a@example.com' } } });
    expect(lastRequest().headers['idempotency-key']).toBe(VALUE);

    await sendFor({ provider: stripeLike, idempotencyKey: VALUE })({ method: 'GET', path: '/customers' });
    expect(lastRequest().headers['idempotency-key']).toBeUndefined();
    await sendFor({ provider: stripeLike })({ method: 'POST', path: '/customers' });
    expect(lastRequest().headers['idempotency-key']).toBeUndefined();
    // A provider that documents no such header gets none, keyed or not.
    await sendFor({ idempotencyKey: VALUE })({ method: 'POST', path: '/customers' });
    expect(lastRequest().headers['idempotency-key']).toBeUndefined();
    await sendFor({ provider: stripeLike, idempotencyKey: VALUE })({ method: 'POST', path: `${other.url}/upload` });
    expect(other.requests.at(-1)!.headers['idempotency-key']).toBeUndefined();
  });

  test('the value is derived, never the caller’s key: stable for one request, different across workspaces, keys, executions and requests', () => {
    const of = (workspaceId: string, idempotencyKey: string, executionId: string, index: number) =>
      providerIdempotencyKey({ workspaceId, idempotencyKey, executionId }, index);
    expect(VALUE).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(VALUE).not.toContain('deploy-1');
    expect(of('ws-1', 'deploy-1', 'ex-1', 0)).toBe(VALUE);
    const others = [of('ws-2', 'deploy-1', 'ex-1', 0), of('ws-1', 'deploy-2', 'ex-1', 0), of('ws-1', 'deploy-1', 'ex-2', 0), of('ws-1', 'deploy-1', 'ex-1', 1)];
    expect(new Set([VALUE, ...others]).size).toBe(5);
    // No concatenation ambiguity: moving characters between the workspace and the key changes the value.
    expect(of('ws-1a', 'b', 'ex-1', 0)).not.toBe(of('ws-1', 'ab', 'ex-1', 0));
  });
});

describe('failures', () => {
  test('an answer failureOf rejects is a ProviderCallError with the provider message, code and status', async () => {
    next = { status: 422, body: { message: 'Validation Failed', code: 'invalid' } };
    const error = await sendFor()({ method: 'POST', path: '/items', body: { json: {} } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderCallError);
    expect(error).toMatchObject({ message: 'Validation Failed', providerStatus: 422, failure: { providerCode: 'invalid', rateLimited: false } });
    expect((error as ProviderCallError).failure.retryAfterMs).toBeUndefined();
  });

  test('Retry-After, in seconds or as an HTTP date, becomes retryAfterMs', async () => {
    next = { status: 429, headers: { 'retry-after': '7' }, body: { message: 'slow down' } };
    await expect(sendFor()({ method: 'GET', path: '/x' })).rejects.toMatchObject({ providerStatus: 429, failure: { rateLimited: true, retryAfterMs: 7000 } });

    next = { status: 503, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }, body: { message: 'maintenance' } };
    const error = (await sendFor()({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as ProviderCallError;
    expect(error.failure.retryAfterMs).toBeGreaterThan(55_000);
    expect(error.failure.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  test('an unreachable provider is a ProviderCallError without status, naming the host and never the credential', async () => {
    const closed = await startFakeServer(() => ({}));
    await closed.close();
    const error = (await sendFor({ baseUrl: closed.url })({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as ProviderCallError;
    expect(error).toBeInstanceOf(ProviderCallError);
    expect(error.providerStatus).toBeNull();
    expect(error.message).toBe(`could not reach ${new URL(closed.url).host}: ECONNREFUSED`);
    expect(error.message).not.toContain(SECRET);
  });

  test('an aborted call rejects with the abort reason, so the layer can tell a timeout from a provider failure', async () => {
    const slow = await startFakeServer(() => new Promise<Reply>(() => {}));
    try {
      const controller = new AbortController();
      const call = sendFor({ baseUrl: slow.url, signal: controller.signal })({ method: 'GET', path: '/slow' });
      await slow.received(1);
      const reason = new DOMException('took too long', 'TimeoutError');
      controller.abort(reason);
      await expect(call).rejects.toBe(reason);
    } finally {
      await slow.close();
    }
  });
});

describe('URLs', () => {
  test.each(['/../admin', '/items/..', '/%2e%2e/admin', '/a/%2E/b', '//evil.example.com/x', 'items', '/a\\..\\..\\b'])(
    'the path %s is refused before anything is sent',
    async (path) => {
      const before = server.requests.length;
      await expect(sendFor()({ method: 'GET', path })).rejects.toBeInstanceOf(ProviderAddressRefusedError);
      expect(server.requests.length).toBe(before);
    },
  );

  test('an absolute URL on the base origin carries the credential; one on another origin carries neither it nor the provider headers', async () => {
    next = { body: { ok: true } };
    await sendFor()({ method: 'GET', path: `${server.url}/upload/1` });
    expect(lastRequest()).toMatchObject({ path: '/upload/1', headers: { authorization: `Bearer ${SECRET}` } });

    const answer = await sendFor()({ method: 'POST', path: `${other.url}/upload/2?sig=abc`, body: { raw: 'data', contentType: 'text/plain' } });
    expect(answer.body).toBe('stored');
    const upload = other.requests.at(-1)!;
    expect(upload).toMatchObject({ method: 'POST', path: '/upload/2', text: 'data' });
    expect(upload.query.get('sig')).toBe('abc');
    expect(upload.headers.authorization).toBeUndefined();
    expect(upload.headers['x-api-version']).toBeUndefined();
  });

  test('outside development and test, an answer URL on another origin must be https and public', async () => {
    const send = sendFor({ allowPrivateAddresses: false });
    const before = other.requests.length;
    await expect(send({ method: 'POST', path: `${other.url}/upload` })).rejects.toThrow(/must be https/);
    await expect(send({ method: 'GET', path: 'https://169.254.169.254/latest/meta-data/' })).rejects.toThrow(/link-local/);
    await expect(send({ method: 'GET', path: 'https://[::1]/x' })).rejects.toBeInstanceOf(ProviderAddressRefusedError);
    expect(other.requests.length).toBe(before);
  });
});

describe('resolveBaseUrl', () => {
  const resolver =
    (table: Record<string, string[]>) =>
    async (hostname: string): Promise<LookupAddress[]> => {
      const addresses = table[hostname];
      if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
  const production = { overrides: {}, allowPrivateAddresses: false };

  test('HEDDLE_PROVIDER_BASE_URLS wins over the connection and the provider; the provider host is the default', async () => {
    const overrides = { example: 'http://127.0.0.1:9001/api/' };
    await expect(resolveBaseUrl('example', provider, { ...production, overrides, connectionBaseUrl: 'https://site.example.com' })).resolves.toEqual({
      baseUrl: 'http://127.0.0.1:9001/api',
      guarded: false,
    });
    await expect(resolveBaseUrl('other', provider, { ...production, overrides })).resolves.toEqual({ baseUrl: 'https://api.example.com/v1', guarded: false });
  });

  test('a connection base URL that resolves only to public addresses is accepted and guarded', async () => {
    const resolveHost = resolver({ 'acme.atlassian.example': ['104.192.142.1', '2606:4700::6810:84e5'] });
    await expect(resolveBaseUrl('jira', provider, { ...production, resolveHost, connectionBaseUrl: 'https://acme.atlassian.example/' })).resolves.toEqual({
      baseUrl: 'https://acme.atlassian.example',
      guarded: true,
    });
  });

  test.each([
    ['http://site.example.com', /must be https/],
    ['https://user:pw@site.example.com', /without credentials/],
    ['not a url', /https URL/],
    ['https://127.0.0.1', /loopback, private/],
    ['https://169.254.169.254', /loopback, private/],
    ['https://[fd00:ec2::254]', /loopback, private/],
    ['https://loopback.example', /resolves to a loopback, private/],
    ['https://mixed.example', /resolves to a loopback, private/],
    ['https://metadata.example', /resolves to a loopback, private/],
    ['https://mapped.example', /resolves to a loopback, private/],
  ])('in production the connection base URL %s is refused', async (connectionBaseUrl, message) => {
    const resolveHost = resolver({
      'loopback.example': ['127.0.0.1'],
      'mixed.example': ['104.192.142.1', '10.0.0.5'],
      'metadata.example': ['169.254.169.254'],
      'mapped.example': ['::ffff:192.168.1.1'],
    });
    const error = await resolveBaseUrl('jira', provider, { ...production, resolveHost, connectionBaseUrl }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAddressRefusedError);
    expect((error as Error).message).toMatch(message);
  });

  test('in development and test a connection may point at a loopback http server', async () => {
    await expect(
      resolveBaseUrl('jira', provider, { overrides: {}, allowPrivateAddresses: true, connectionBaseUrl: `${server.url}/rest/` }),
    ).resolves.toEqual({ baseUrl: `${server.url}/rest`, guarded: true });
  });

  test('a name that answers a public address when checked and loopback when connecting is refused at connect', async () => {
    const answers = [['104.192.142.1'], ['127.0.0.1']];
    const resolveHost = async (): Promise<LookupAddress[]> => (answers.shift() ?? ['127.0.0.1']).map((address) => ({ address, family: 4 }));
    const port = new URL(server.url).port;
    const target = await resolveBaseUrl('jira', provider, { ...production, resolveHost, connectionBaseUrl: `https://rebind.example:${port}` });
    expect(target.guarded).toBe(true);
    const before = server.requests.length;
    const error = await createSend({ provider, baseUrl: target, secret: { accessToken: SECRET }, ...production, resolveHost })({
      method: 'GET',
      path: '/x',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAddressRefusedError);
    expect((error as Error).message).toMatch(/rebind\.example is refused: it resolves to a loopback/);
    expect(answers).toEqual([]);
    expect(server.requests.length).toBe(before);
  });

  test.each([
    ['8.8.8.8', true],
    ['2606:4700::1111', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.0.1', false],
    ['169.254.169.254', false],
    ['100.100.100.200', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00:ec2::254', false],
    ['::ffff:127.0.0.1', false],
    ['not-an-address', false],
  ])('isPublicAddress(%s) is %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});
