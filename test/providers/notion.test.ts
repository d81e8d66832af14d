// Notion's actions against the loopback fake Notion API: each sends the
// request Notion documents at version 2026-03-11 (method, path, bearer token,
// Notion-Version, JSON body; databases resolved to their data source) and maps
// the documented answers; every action also meets a provider failure, which
// arrives as a ProviderCallError carrying Notion's message and code.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { ConnectionSecret } from '../../src/platform/crypto/credential-store.js';
import { FAKE_NOTION_VERSION, notionError, richText, startNotionFake, type NotionFake } from '../support/fake-providers/notion.js';
import { providerError, runAction } from '../support/fake-providers/run.js';
import type { RecordedRequest } from '../support/fake-providers/server.js';

let notion: NotionFake;

beforeAll(async () => {
  notion = await startNotionFake();
});
afterAll(() => notion.close());
beforeEach(() => {
  notion.pages.clear();
  notion.databases.clear();
  notion.dataSources.clear();
  notion.server.requests.length = 0;
});

const run = (action: string, input: Record<string, unknown>, secret: ConnectionSecret = { accessToken: notion.token }) =>
  runAction('notion', action, input, { baseUrl: notion.url, secret });

/** Method, path, the headers Notion requires, and the JSON body (undefined when there is none). */
function sent(request: RecordedRequest) {
  expect(request.headers.authorization).toBe(`Bearer ${notion.token}`);
  expect(request.headers['notion-version']).toBe(FAKE_NOTION_VERSION);
  if (request.text) expect(request.headers['content-type']).toMatch(/^application\/json\b/);
  return { method: request.method, path: request.path, body: request.text ? JSON.parse(request.text) : undefined };
}

function tasksDatabase() {
  const { databaseId, dataSourceIds } = notion.addDatabase({ name: 'Tasks', schema: { Name: 'title', Status: 'select', Notes: 'rich_text' } });
  return { databaseId, dataSourceId: dataSourceIds[0]! };
}

describe('search', () => {
  test('POSTs /v1/search with query and page_size; pages and data sources come back newest first with their titles', async () => {
    const roadmap = notion.addPage({ title: 'Roadmap meeting', editedAt: '2026-11-20T10:00:00.000Z' });
    const notes = notion.addPage({ title: 'Meeting notes', editedAt: '2026-11-22T10:00:00.000Z' });
    notion.addPage({ title: 'Old meeting', inTrash: true });
    notion.addPage({ title: 'Budget' });

    const result = await run('search', { query: 'meeting', limit: 2 });
    expect(sent(notion.server.requests[0]!)).toEqual({ method: 'POST', path: '/v1/search', body: { query: 'meeting', page_size: 2 } });
    expect(result).toEqual({
      results: [
        { id: notes.id, object: 'page', title: 'Meeting notes', url: notes.url, lastEditedTime: '2026-11-22T10:00:00.000Z' },
        { id: roadmap.id, object: 'page', title: 'Roadmap meeting', url: roadmap.url, lastEditedTime: '2026-11-20T10:00:00.000Z' },
      ],
      nextCursor: null,
      hasMore: false,
    });
  });

  test('data sources are results too; an integration secret (SECRET_TEXT) is sent as a bearer token', async () => {
    const { dataSourceIds: [dataSourceId] } = notion.addDatabase({ name: 'Meeting log', schema: { Name: 'title' } });
    const result = await run('search', { query: 'LOG' }, { apiKey: notion.token });
    expect(sent(notion.server.requests[0]!).body).toEqual({ query: 'LOG' });
    expect(result.results).toEqual([{ id: dataSourceId, object: 'data_source', title: 'Meeting log', url: null, lastEditedTime: expect.any(String) }]);
  });

  test('429 rate_limited is a rate-limited failure with Notion’s message and Retry-After', async () => {
    notion.answerNext('search', { ...notionError(429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.'), headers: { 'retry-after': '3' } });
    const error = await providerError(run('search', { query: 'x' }));
    expect(error.providerStatus).toBe(429);
    expect(error.failure).toEqual({ message: 'You have been rate limited. Please try again in a few minutes.', providerCode: 'rate_limited', rateLimited: true, retryAfterMs: 3000 });
  });
});

describe('create_page', () => {
  test('under a page: POST /v1/pages with a page_id parent, the title property and the body as markdown', async () => {
    const parent = notion.addPage({ title: 'Team space' });
    const result = await run('create_page', { parentId: parent.id, title: 'Meeting notes', content: '# Agenda\n\n- Budget\n- Hiring' });

    expect(notion.server.requests.map(sent)).toEqual([
      {
        method: 'POST',
        path: '/v1/pages',
        body: {
          parent: { type: 'page_id', page_id: parent.id },
          properties: { title: { title: [{ type: 'text', text: { content: 'Meeting notes' } }] } },
          markdown: '# Agenda\n\n- Budget\n- Hiring',
        },
      },
    ]);
    const created = notion.pages.get(result.id as string)!;
    expect(result).toEqual({ id: created.page.id, url: created.page.url });
    expect(created.markdown).toBe('# Agenda\n\n- Budget\n- Hiring');
    expect(created.page.parent).toEqual({ type: 'page_id', page_id: parent.id });
  });

  test('in a database: its data source is looked up, then the row is created there with its properties', async () => {
    const { databaseId, dataSourceId } = tasksDatabase();
    const result = await run('create_page', { parentId: databaseId, title: 'Ship v2', properties: { Status: { select: { name: 'Doing' } } } });

    const [lookup, create] = notion.server.requests.map(sent);
    expect(lookup).toEqual({ method: 'GET', path: `/v1/databases/${databaseId}`, body: undefined });
    expect(create).toEqual({
      method: 'POST',
      path: '/v1/pages',
      body: {
        parent: { type: 'data_source_id', data_source_id: dataSourceId },
        properties: { Status: { select: { name: 'Doing' } }, title: { title: [{ type: 'text', text: { content: 'Ship v2' } }] } },
      },
    });
    const row = notion.pages.get(result.id as string)!.page;
    expect(row.properties.Name).toMatchObject({ id: 'title', type: 'title', title: richText('Ship v2') });
    expect(row.properties.Status).toMatchObject({ type: 'select', select: { name: 'Doing' } });
  });

  test('a property the data source does not have: HTTP 400 validation_error with Notion’s message', async () => {
    const { databaseId } = tasksDatabase();
    const error = await providerError(run('create_page', { parentId: databaseId, title: 'x', properties: { Priority: { select: { name: 'High' } } } }));
    expect(error.providerStatus).toBe(400);
    expect(error.failure).toEqual({ message: 'Priority is not a property that exists.', providerCode: 'validation_error' });
  });

  test('a parent page not shared with the integration: HTTP 404 object_not_found', async () => {
    const error = await providerError(run('create_page', { parentId: '59833787-2cf9-4fdf-8782-e53db20768a5', title: 'Orphan' }));
    expect(error.providerStatus).toBe(404);
    expect(error.failure.providerCode).toBe('object_not_found');
    expect(error.message).toMatch(/^Could not find page with ID: 59833787-2cf9-4fdf-8782-e53db20768a5\./);
  });

  test('a database with two data sources is refused before any page is created', async () => {
    const { databaseId } = notion.addDatabase({ name: 'A', schema: { Name: 'title' } }, { name: 'B', schema: { Name: 'title' } });
    const error = await providerError(run('create_page', { parentId: databaseId, title: 'x', properties: {} }));
    expect(error.providerStatus).toBeNull();
    expect(error.message).toMatch(/has 2 data sources/);
    expect(notion.server.requests.map((r) => r.method)).toEqual(['GET']);
  });
});

describe('get_page', () => {
  test('GETs the page and its markdown; title, properties and body come back', async () => {
    const { dataSourceId } = tasksDatabase();
    const page = notion.addPage({ title: 'Ship v2', dataSourceId, properties: { Status: { id: 'st', type: 'select', select: { name: 'Done' } } }, markdown: '## Plan\nShip it.' });

    const result = await run('get_page', { pageId: page.id });
    expect(notion.server.requests.map(sent)).toEqual([
      { method: 'GET', path: `/v1/pages/${page.id}`, body: undefined },
      { method: 'GET', path: `/v1/pages/${page.id}/markdown`, body: undefined },
    ]);
    expect(result).toEqual({
      id: page.id,
      url: page.url,
      title: 'Ship v2',
      parent: page.parent,
      properties: page.properties,
      content: '## Plan\nShip it.',
      truncated: false,
      inTrash: false,
      createdTime: page.created_time,
      lastEditedTime: page.last_edited_time,
    });
  });

  test('an unknown page: HTTP 404 object_not_found, and the markdown is not asked for', async () => {
    const error = await providerError(run('get_page', { pageId: 'b55c9c91-384d-452b-81db-d1ef79372b75' }));
    expect(error.providerStatus).toBe(404);
    expect(error.failure.providerCode).toBe('object_not_found');
    expect(notion.server.requests).toHaveLength(1);
  });
});

describe('append_block', () => {
  test('PATCHes /v1/pages/{id}/markdown with insert_content, which appends at the end', async () => {
    const page = notion.addPage({ title: 'Log', markdown: '- first' });
    const result = await run('append_block', { pageId: page.id, content: '- second **bold**' });
    expect(notion.server.requests.map(sent)).toEqual([
      { method: 'PATCH', path: `/v1/pages/${page.id}/markdown`, body: { type: 'insert_content', insert_content: { content: '- second **bold**' } } },
    ]);
    expect(result).toEqual({ pageId: page.id });
    expect(notion.pages.get(page.id)!.markdown).toBe('- first\n- second **bold**');
  });

  test('a page in the trash: HTTP 400 validation_error with Notion’s message', async () => {
    const page = notion.addPage({ title: 'Gone', inTrash: true });
    const error = await providerError(run('append_block', { pageId: page.id, content: 'more' }));
    expect(error.providerStatus).toBe(400);
    expect(error.failure).toEqual({ message: "Can't edit block that is archived. You must unarchive the block before editing.", providerCode: 'validation_error' });
  });
});

describe('query_database', () => {
  test('looks up the data source, then POSTs its query with the filter and page_size', async () => {
    const { databaseId, dataSourceId } = tasksDatabase();
    const done = notion.addPage({ title: 'Write docs', dataSourceId, properties: { Status: { id: 'st', type: 'select', select: { name: 'Done' } } } });
    notion.addPage({ title: 'Fix bug', dataSourceId, properties: { Status: { id: 'st', type: 'select', select: { name: 'Doing' } } } });
    const filter = { property: 'Status', select: { equals: 'Done' } };

    const result = await run('query_database', { databaseId, filter, limit: 10 });
    expect(notion.server.requests.map(sent)).toEqual([
      { method: 'GET', path: `/v1/databases/${databaseId}`, body: undefined },
      { method: 'POST', path: `/v1/data_sources/${dataSourceId}/query`, body: { filter, page_size: 10 } },
    ]);
    expect(result).toEqual({
      dataSourceId,
      results: [{ id: done.id, url: done.url, title: 'Write docs', properties: done.properties, createdTime: done.created_time, lastEditedTime: done.last_edited_time }],
      nextCursor: null,
      hasMore: false,
    });
  });

  test('a filter Notion cannot apply: HTTP 400 validation_error with Notion’s message', async () => {
    const { databaseId } = tasksDatabase();
    const error = await providerError(run('query_database', { databaseId, filter: { property: 'Status', checkbox: { equals: true } } }));
    expect(error.providerStatus).toBe(400);
    expect(error.failure.providerCode).toBe('validation_error');
    expect(error.message).toMatch(/^body failed validation: body\.filter/);
  });
});
