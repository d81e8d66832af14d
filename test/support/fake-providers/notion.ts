// A fake Notion API on loopback, written from Notion's reference
// (developers.notion.com/reference) at Notion-Version 2026-03-11: search,
// pages (create, retrieve, retrieve and update as Markdown), databases (which
// hold data sources since 2025-09-03) and data source queries. It checks the
// bearer token, the Notion-Version header (it answers that version's shapes
// only) and JSON bodies, validates parents and property values against the
// data source's schema, and fails with Notion's shape {object: 'error',
// status, code, message}.
import { randomUUID } from 'node:crypto';
import { jsonOf, startFakeServer, type FakeServer, type RecordedRequest, type Reply } from './server.js';

export const FAKE_NOTION_VERSION = '2026-03-11';

export interface RichText {
  type: 'text';
  text: { content: string; link: null };
  annotations: Record<string, boolean | string>;
  plain_text: string;
  href: null;
}

export interface PropertyValue {
  id: string;
  type: string;
  [value: string]: unknown;
}

export interface NotionPage {
  object: 'page';
  id: string;
  created_time: string;
  last_edited_time: string;
  in_trash: boolean;
  parent: Record<string, unknown>;
  properties: Record<string, PropertyValue>;
  url: string;
}

export interface DataSource {
  id: string;
  databaseId: string;
  name: string;
  /** Property schema by name: its id and type ("title" is the title property's id). */
  schema: Record<string, { id: string; type: string }>;
  lastEditedTime: string;
}

export interface NotionFake {
  /** The base URL Heddle is configured with (HEDDLE_PROVIDER_BASE_URLS.notion). */
  url: string;
  server: FakeServer;
  token: string;
  pages: Map<string, { page: NotionPage; markdown: string }>;
  databases: Map<string, { id: string; dataSources: string[] }>;
  dataSources: Map<string, DataSource>;
  /** A page under another page, or a row of a data source; returns it. */
  addPage(fields: { title: string; parentPageId?: string; dataSourceId?: string; properties?: Record<string, PropertyValue>; markdown?: string; inTrash?: boolean; editedAt?: string }): NotionPage;
  /** A database with one data source per schema given; returns the database id and its data source ids. */
  addDatabase(...schemas: { name: string; schema: Record<string, string> }[]): { databaseId: string; dataSourceIds: string[] };
  /** The next request to `route` gets this answer instead (rate limits, outages). */
  answerNext(route: Route, reply: Reply): void;
  close(): Promise<void>;
}

type Route = 'search' | 'pages' | 'markdown' | 'databases' | 'query';

export function notionError(status: number, code: string, message: string): Reply {
  return { status, body: { object: 'error', status, code, message, request_id: randomUUID() } };
}

class NotionFailure extends Error {
  constructor(readonly reply: Reply) {
    super('notion failure');
  }
}
const fail = (status: number, code: string, message: string): never => {
  throw new NotionFailure(notionError(status, code, message));
};
const invalid = (message: string) => fail(400, 'validation_error', message);
const notFound = (kind: string, id: string) =>
  fail(404, 'object_not_found', `Could not find ${kind} with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`);

export const richText = (content: string): RichText[] => [
  {
    type: 'text',
    text: { content, link: null },
    annotations: { bold: false, italic: false, strikethrough: false, underline: false, code: false, color: 'default' },
    plain_text: content,
    href: null,
  },
];

const plain = (value: unknown) => (Array.isArray(value) ? (value as { plain_text?: string; text?: { content?: string } }[]).map((t) => t.plain_text ?? t.text?.content ?? '').join('') : '');

/** Request rich text ({text: {content}}) as Notion stores and returns it. */
function toRichText(value: unknown, where: string): RichText[] {
  if (!Array.isArray(value)) invalid(`body failed validation: ${where} should be an array, instead was \`${JSON.stringify(value)}\`.`);
  return (value as { text?: { content?: unknown } }[]).flatMap((item) => {
    const content = item.text?.content;
    if (typeof content !== 'string') invalid(`body failed validation: ${where}[0].text.content should be defined.`);
    if ((content as string).length > 2000) invalid(`body failed validation: ${where}[0].text.content.length should be ≤ \`2000\`, instead was \`${(content as string).length}\`.`);
    return richText(content as string);
  });
}

export async function startNotionFake(options: { token?: string } = {}): Promise<NotionFake> {
  const token = options.token ?? 'ntn_fake_notion_secret';
  const overrides = new Map<Route, Reply>();
  const now = () => new Date().toISOString();

  const pageUrl = (title: string, id: string) => `https://www.notion.so/${title.replace(/[^A-Za-z0-9]+/g, '-')}-${id.replace(/-/g, '')}`;

  function findPage(id: string) {
    return fake.pages.get(id) ?? notFound('page', id);
  }

  /** The page's properties from a create request, checked against its parent's schema. */
  function propertiesFor(parent: { pageId?: string; dataSource?: DataSource }, given: Record<string, unknown>): Record<string, PropertyValue> {
    const schema = parent.dataSource?.schema ?? { title: { id: 'title', type: 'title' } };
    const properties: Record<string, PropertyValue> = {};
    for (const [key, value] of Object.entries(given)) {
      // Keys are property names or ids.
      const [name, definition] = Object.entries(schema).find(([n, d]) => n === key || d.id === key) ?? invalid(`${key} is not a property that exists.`);
      const typed = value as Record<string, unknown>;
      if (typeof typed !== 'object' || typed === null || !(definition.type in typed)) invalid(`${name} is expected to be ${definition.type}.`);
      const inner = typed[definition.type];
      properties[name] = {
        id: definition.id,
        type: definition.type,
        [definition.type]: definition.type === 'title' || definition.type === 'rich_text' ? toRichText(inner, `body.properties.${name}.${definition.type}`) : inner,
      };
    }
    const titleName = Object.entries(schema).find(([, d]) => d.type === 'title')![0];
    properties[titleName] ??= { id: 'title', type: 'title', title: [] };
    return properties;
  }

  function createPage(body: Record<string, unknown>): NotionPage {
    const parent = (body.parent ?? invalid('body failed validation: body.parent should be defined, instead was `undefined`.')) as Record<string, string>;
    let where: { pageId?: string; dataSource?: DataSource };
    let parentObject: Record<string, unknown>;
    if (typeof parent.page_id === 'string') {
      findPage(parent.page_id);
      where = { pageId: parent.page_id };
      parentObject = { type: 'page_id', page_id: parent.page_id };
    } else if (typeof parent.data_source_id === 'string') {
      const dataSource = fake.dataSources.get(parent.data_source_id) ?? notFound('data source', parent.data_source_id);
      where = { dataSource };
      parentObject = { type: 'data_source_id', data_source_id: dataSource.id, database_id: dataSource.databaseId };
    } else {
      return invalid('body failed validation: body.parent should be a page_id, data_source_id, database_id or workspace parent.');
    }
    if (body.markdown !== undefined && (body.children !== undefined || body.content !== undefined)) invalid('markdown cannot be combined with children or content.');
    if (body.markdown !== undefined && typeof body.markdown !== 'string') invalid('body failed validation: body.markdown should be a string.');
    const properties = propertiesFor(where, (body.properties ?? {}) as Record<string, unknown>);
    const id = randomUUID();
    const title = plain(Object.values(properties).find((p) => p.type === 'title')?.title);
    const page: NotionPage = { object: 'page', id, created_time: now(), last_edited_time: now(), in_trash: false, parent: parentObject, properties, url: pageUrl(title, id) };
    fake.pages.set(id, { page, markdown: (body.markdown as string | undefined) ?? '' });
    return page;
  }

  /** The filters Notion documents for the property types the fake stores; anything else is refused as Notion refuses it. */
  function checkFilter(filter: Record<string, unknown>, schema: DataSource['schema']): void {
    if (Array.isArray(filter.and ?? filter.or)) return ((filter.and ?? filter.or) as Record<string, unknown>[]).forEach((f) => checkFilter(f, schema));
    const definition = typeof filter.property === 'string' ? schema[filter.property] : undefined;
    const condition = definition ? filter[definition.type] : undefined;
    if (typeof condition !== 'object' || condition === null || !('equals' in condition) || Object.keys(filter).length !== 2) {
      invalid(`body failed validation: body.filter is not a valid filter for this data source: ${JSON.stringify(filter)}.`);
    }
  }

  function matches(page: NotionPage, filter: Record<string, unknown>): boolean {
    if (Array.isArray(filter.and)) return (filter.and as Record<string, unknown>[]).every((f) => matches(page, f));
    if (Array.isArray(filter.or)) return (filter.or as Record<string, unknown>[]).some((f) => matches(page, f));
    const property = page.properties[filter.property as string];
    if (!property) return false;
    const value = property[property.type];
    const actual = property.type === 'select' || property.type === 'status' ? (value as { name?: string } | null)?.name : property.type === 'title' || property.type === 'rich_text' ? plain(value) : value;
    return actual === (filter[property.type] as { equals: unknown }).equals;
  }

  function pageSize(value: unknown): number {
    if (value === undefined) return 100;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 100) invalid(`body failed validation: body.page_size should be ≤ \`100\`, instead was \`${String(value)}\`.`);
    return value as number;
  }

  function list<T>(items: T[], size: number, cursor: unknown): Reply {
    const offset = typeof cursor === 'string' ? Number(cursor) : 0;
    const results = items.slice(offset, offset + size);
    const more = offset + size < items.length;
    return { body: { object: 'list', results, next_cursor: more ? String(offset + size) : null, has_more: more, type: 'page_or_data_source', page_or_data_source: {} } };
  }

  const markdownOf = (id: string) => ({ object: 'page_markdown', id, markdown: findPage(id).markdown, truncated: false, unknown_block_ids: [] });

  async function route(request: RecordedRequest): Promise<Reply> {
    const { method, path } = request;
    if (method === 'POST' && path === '/v1/search') {
      const body = jsonOf(request) as { query?: string; page_size?: number; start_cursor?: string };
      const size = pageSize(body.page_size);
      const query = (body.query ?? '').toLowerCase();
      const pages = [...fake.pages.values()].filter(({ page }) => !page.in_trash).map(({ page }) => ({ item: page as object, title: plain(Object.values(page.properties).find((p) => p.type === 'title')?.title), edited: page.last_edited_time }));
      const sources = [...fake.dataSources.values()].map((source) => ({
        item: { object: 'data_source', id: source.id, title: richText(source.name), parent: { type: 'database_id', database_id: source.databaseId }, last_edited_time: source.lastEditedTime } as object,
        title: source.name,
        edited: source.lastEditedTime,
      }));
      const found = [...pages, ...sources].filter((f) => f.title.toLowerCase().includes(query)).sort((a, b) => b.edited.localeCompare(a.edited));
      return list(found.map((f) => f.item), size, body.start_cursor);
    }
    if (method === 'POST' && path === '/v1/pages') return { body: createPage(jsonOf(request) as Record<string, unknown>) };
    const markdown = /^\/v1\/pages\/([^/]+)\/markdown$/.exec(path);
    if (markdown && method === 'GET') return { body: markdownOf(decodeURIComponent(markdown[1]!)) };
    if (markdown && method === 'PATCH') {
      const id = decodeURIComponent(markdown[1]!);
      const stored = findPage(id);
      const body = jsonOf(request) as { type?: string; insert_content?: { content?: unknown; after?: unknown; position?: unknown } };
      if (body.type !== 'insert_content' || typeof body.insert_content?.content !== 'string') {
        invalid('body failed validation: body.type should be `insert_content`, `replace_content_range`, `update_content` or `replace_content` with its object.');
      }
      if (stored.page.in_trash) invalid("Can't edit block that is archived. You must unarchive the block before editing.");
      const content = body.insert_content!.content as string;
      stored.markdown = stored.markdown ? `${stored.markdown}\n${content}` : content;
      stored.page.last_edited_time = now();
      return { body: markdownOf(id) };
    }
    const page = /^\/v1\/pages\/([^/]+)$/.exec(path);
    if (page && method === 'GET') return { body: findPage(decodeURIComponent(page[1]!)).page };
    const database = /^\/v1\/databases\/([^/]+)$/.exec(path);
    if (database && method === 'GET') {
      const id = decodeURIComponent(database[1]!);
      const found = fake.databases.get(id) ?? notFound('database', id);
      const sources = found.dataSources.map((sourceId) => ({ id: sourceId, name: fake.dataSources.get(sourceId)!.name }));
      return { body: { object: 'database', id, title: richText('Database'), data_sources: sources, in_trash: false, is_inline: false, url: pageUrl('Database', id) } };
    }
    const query = /^\/v1\/data_sources\/([^/]+)\/query$/.exec(path);
    if (query && method === 'POST') {
      const id = decodeURIComponent(query[1]!);
      const source = fake.dataSources.get(id) ?? notFound('data source', id);
      const body = jsonOf(request) as { filter?: Record<string, unknown>; page_size?: number; start_cursor?: string };
      const size = pageSize(body.page_size);
      if (body.filter !== undefined) checkFilter(body.filter, source.schema);
      const rows = [...fake.pages.values()]
        .map(({ page: row }) => row)
        .filter((row) => row.parent.data_source_id === id && !row.in_trash)
        .filter((row) => body.filter === undefined || matches(row, body.filter))
        .sort((a, b) => b.created_time.localeCompare(a.created_time));
      return list(rows, size, body.start_cursor);
    }
    return notionError(400, 'invalid_request_url', 'Invalid request URL.');
  }

  const routeName = (path: string): Route | undefined =>
    path === '/v1/search' ? 'search' : path.endsWith('/markdown') ? 'markdown' : path.startsWith('/v1/pages') ? 'pages' : path.endsWith('/query') ? 'query' : path.startsWith('/v1/databases') ? 'databases' : undefined;

  const server = await startFakeServer(async (request) => {
    const name = routeName(request.path);
    const override = name && overrides.get(name);
    if (override) {
      overrides.delete(name);
      return override;
    }
    if (request.headers.authorization !== `Bearer ${token}`) return notionError(401, 'unauthorized', 'API token is invalid.');
    const version = request.headers['notion-version'];
    if (version === undefined) return notionError(400, 'missing_version', 'Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.');
    if (version !== FAKE_NOTION_VERSION) return notionError(400, 'validation_error', `this fake answers Notion-Version ${FAKE_NOTION_VERSION} only, not ${String(version)}`);
    try {
      return await route(request);
    } catch (error) {
      if (error instanceof NotionFailure) return error.reply;
      throw error;
    }
  });

  const fake: NotionFake = {
    url: `${server.url}/v1`,
    server,
    token,
    pages: new Map(),
    databases: new Map(),
    dataSources: new Map(),
    addPage({ title, parentPageId, dataSourceId, properties = {}, markdown = '', inTrash = false, editedAt = now() }) {
      const id = randomUUID();
      const dataSource = dataSourceId ? fake.dataSources.get(dataSourceId)! : undefined;
      const titleName = dataSource ? Object.entries(dataSource.schema).find(([, d]) => d.type === 'title')![0] : 'title';
      const page: NotionPage = {
        object: 'page',
        id,
        created_time: editedAt,
        last_edited_time: editedAt,
        in_trash: inTrash,
        parent: dataSource ? { type: 'data_source_id', data_source_id: dataSource.id, database_id: dataSource.databaseId } : parentPageId ? { type: 'page_id', page_id: parentPageId } : { type: 'workspace', workspace: true },
        properties: { ...properties, [titleName]: { id: 'title', type: 'title', title: richText(title) } },
        url: pageUrl(title, id),
      };
      fake.pages.set(id, { page, markdown });
      return page;
    },
    addDatabase(...schemas) {
      const databaseId = randomUUID();
      const dataSourceIds = schemas.map(({ name, schema }) => {
        const id = randomUUID();
        const properties = Object.fromEntries(Object.entries(schema).map(([property, type]) => [property, { id: type === 'title' ? 'title' : randomUUID().slice(0, 4), type }]));
        fake.dataSources.set(id, { id, databaseId, name, schema: properties, lastEditedTime: now() });
        return id;
      });
      fake.databases.set(databaseId, { id: databaseId, dataSources: dataSourceIds });
      return { databaseId, dataSourceIds };
    },
    answerNext: (name, reply) => void overrides.set(name, reply),
    close: () => server.close(),
  };
  return fake;
}
