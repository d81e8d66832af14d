// GraphiQL that helps (issue #22, acceptance 2): the page opens on a Heddle example
// with an Authorization placeholder in the Headers tab; its files are compressed
// (br or gzip, as the browser accepts) and cacheable (hashed names, ETag); in
// headless Chromium the docs show Heddle's descriptions and the example runs once
// a token is pasted into the Headers tab.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXAMPLE_QUERY, GRAPHIQL_ASSETS_PATH, TOKEN_PLACEHOLDER } from '../../src/app/graphiql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { describeWithChromium, launchChromium } from '../support/browser.js';
import { seedOrganization } from '../support/fixtures.js';

const EMBEDDED = { database: 'pglite', pubsub: 'memory' } as const;

let t: TestApp;
beforeAll(async () => void (t = await startTestApp(EMBEDDED)));
afterAll(() => t?.stop());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers: { accept: 'text/html', ...headers } });

/** The page and every file it names, fetched with one Accept-Encoding: bytes on the wire per file. */
async function pageBytes(acceptEncoding: string): Promise<{ total: number; encodings: Set<string | null> }> {
  // fetch() decompresses the body: content-length is what travelled.
  const page = await get('/graphql', { 'accept-encoding': acceptEncoding });
  const html = await page.text();
  const paths = [...html.matchAll(/"(\/graphiql\/[^"]+)"/g)].map((match) => match[1]!);
  expect(paths.length).toBe(6);
  const responses = [page, ...(await Promise.all(paths.map((path) => get(path, { 'accept-encoding': acceptEncoding }))))];
  for (const response of responses) expect(response.status).toBe(200);
  return {
    total: responses.reduce((sum, response) => sum + Number(response.headers.get('content-length')), 0),
    encodings: new Set(responses.map((response) => response.headers.get('content-encoding'))),
  };
}

describe('the GraphiQL page over HTTP', () => {
  test('opens on the Heddle example with the Authorization placeholder, its files named by their content hash', async () => {
    const html = await (await get('/graphql')).text();
    expect(html).toContain('<title>Heddle GraphiQL</title>');
    expect(html).toContain(JSON.stringify(EXAMPLE_QUERY).replace(/</g, '\\u003c'));
    expect(html).toContain(TOKEN_PLACEHOLDER.replace(/</g, '\\u003c'));
    expect(html).toMatch(new RegExp(`"${GRAPHIQL_ASSETS_PATH}graphiql\\.[0-9a-f]{16}\\.js"`));
    // No more 9 MB inline: the page only names its files.
    expect(html.length).toBeLessThan(10_000);
  });

  test('compressed with br when accepted, else gzip, else as is: br sends under a quarter of the bytes', async () => {
    const plain = await pageBytes('identity');
    const gzip = await pageBytes('gzip, deflate');
    const br = await pageBytes('gzip, deflate, br, zstd');
    expect(plain.encodings).toEqual(new Set([null]));
    expect(gzip.encodings).toEqual(new Set(['gzip']));
    expect(br.encodings).toEqual(new Set(['br']));
    expect(plain.total).toBeGreaterThan(8_000_000);
    expect(br.total).toBeLessThan(plain.total / 4);
    expect(gzip.total).toBeLessThan(plain.total / 3);
  });

  test('cacheable: the page is revalidated by ETag (304), the hashed files are immutable', async () => {
    const page = await get('/graphql', { 'accept-encoding': 'br' });
    const html = await page.text();
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('vary')).toBe('Accept-Encoding');
    const etag = page.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{16}-br"$/);
    const again = await get('/graphql', { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    // Another encoding is another representation: no 304 for the br tag.
    expect((await get('/graphql', { 'accept-encoding': 'gzip', 'if-none-match': etag })).status).toBe(200);

    const script = /"(\/graphiql\/graphiql\.[0-9a-f]{16}\.js)"/.exec(html)![1]!;
    const file = await get(script, { 'accept-encoding': 'gzip' });
    expect(file.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(file.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(file.headers.get('etag')).toMatch(/^"[0-9a-f]{16}-gzip"$/);
    expect((await get(`${GRAPHIQL_ASSETS_PATH}graphiql.0000000000000000.js`)).status).toBe(404);
  });
});

describeWithChromium('GraphiQL in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => void (browser = await launchChromium()));
  afterAll(() => browser?.close());

  test('opens on the example; the docs show Heddle’s descriptions; the example runs with a pasted token', async () => {
    const token = await t.memberToken('graphiql@example.com');
    await seedOrganization(t, token, 'graphiql-acme');
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const graphqlRequests: { authorization: string | undefined; body: string }[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql') {
        graphqlRequests.push({ authorization: request.headers().authorization, body: request.postData() ?? '' });
      }
    });
    await page.goto(`${t.url}/graphql`);
    // The Headers editor: the open one of the two editor tools.
    const headersEditor = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
    const text = async (selector: string) => (await page.locator(selector).first().innerText()).replace(/\u00a0/g, ' ');

    // The example tab, and the Headers tab open on the placeholder.
    await expect.poll(() => text('.graphiql-query-editor'), { timeout: 30_000 }).toContain('query Viewer {');
    await expect.poll(() => text(headersEditor)).toContain(`"Authorization": "Bearer ${TOKEN_PLACEHOLDER}"`);

    // The schema came without the placeholder (anonymous introspection), so the docs work at once.
    await page.getByRole('button', { name: /documentation explorer/i }).click();
    await page.locator('.graphiql-doc-explorer').getByText('Mutation', { exact: true }).click();
    await expect.poll(() => text('.graphiql-doc-explorer')).toContain('Creates an organization; the caller becomes its OWNER.');

    // Running with the placeholder gets the server's explanation.
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => text('.graphiql-response')).toContain('Authorization must be');

    // Paste a token over the whole Headers editor (typing would meet the editor's auto-closed quotes), run again.
    await page.evaluate((headers) => navigator.clipboard.writeText(headers), JSON.stringify({ Authorization: `Bearer ${token}` }));
    await page.locator(headersEditor).click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('ControlOrMeta+V');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => text('.graphiql-response'), { timeout: 15_000 }).toContain('graphiql@example.com');
    expect(await text('.graphiql-response')).toContain('"slug": "graphiql-acme"');

    const runs = graphqlRequests.filter((request) => request.body.includes('"operationName":"Viewer"'));
    expect(runs.map((run) => run.authorization)).toEqual([`Bearer ${TOKEN_PLACEHOLDER}`, `Bearer ${token}`]);
    const introspection = graphqlRequests.find((request) => request.body.includes('"operationName":"IntrospectionQuery"'));
    expect(introspection?.authorization).toBeUndefined();
    expect(errors).toEqual([]);
    await context.close();
  });
});
