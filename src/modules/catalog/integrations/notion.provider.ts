// Notion API (https://developers.notion.com/reference), version 2026-03-11.
// Since 2025-09-03 a database holds data sources and rows belong to a data
// source, so database actions look the data source up first. Page bodies are
// read and written as Notion's enhanced Markdown (the /markdown endpoints).
import { boolean, listOf, nullable, output, string } from '../json-schema.js';
import { bearer, objectBody } from '../provider-kit.js';
import { ProviderCallError, type Provider, type ProviderAnswer, type ProviderFailure, type Send } from '../provider.js';

export const NOTION_VERSION = '2026-03-11';

interface RichText {
  plain_text?: string;
}

interface NotionPage {
  object: 'page';
  id: string;
  url: string;
  created_time: string;
  last_edited_time: string;
  in_trash?: boolean;
  parent?: Record<string, unknown>;
  properties: Record<string, { type?: string; title?: RichText[] }>;
}

interface NotionDataSource {
  object: 'data_source';
  id: string;
  title?: RichText[];
  url?: string;
  last_edited_time?: string;
}

interface NotionList<T> {
  results: T[];
  next_cursor: string | null;
  has_more: boolean;
}

const plain = (text: RichText[] | undefined) => (text ?? []).map((t) => t.plain_text ?? '').join('');

/** A page's title: the text of its one `title` property. */
const pageTitle = (page: NotionPage) => plain(Object.values(page.properties).find((p) => p.type === 'title')?.title);

const pageId = (id: unknown) => encodeURIComponent(id as string);

/** The database's data source: rows live there. A database with several needs a choice Heddle will not guess. */
async function dataSourceOf(send: Send, databaseId: string): Promise<string> {
  const database = (await send({ method: 'GET', path: `/databases/${pageId(databaseId)}` })).body as { data_sources?: { id: string }[] };
  const sources = database.data_sources ?? [];
  if (sources.length !== 1) {
    throw new ProviderCallError({ message: `database ${databaseId} has ${sources.length} data sources; Heddle writes to and queries databases with exactly one` }, null);
  }
  return sources[0]!.id;
}

/** Notion's error shape: {object: 'error', status, code, message}. */
function failureOf(answer: ProviderAnswer): ProviderFailure | null {
  if (answer.status < 400) return null;
  const error = objectBody(answer.body) as { code?: string; message?: string } | undefined;
  const code = error?.code;
  return {
    message: error?.message ?? `Notion answered HTTP ${answer.status}`,
    ...(code ? { providerCode: code } : {}),
    ...(answer.status === 429 || code === 'rate_limited' ? { rateLimited: true } : {}),
  };
}

const row = output({
  id: string('Id of the page.'),
  url: string('Link to the page.'),
  title: string('The page title.'),
  properties: { type: 'object', description: 'Property values by name, as Notion returns them.' },
  createdTime: string('When it was created.', { format: 'date-time' }),
  lastEditedTime: string('When it last changed.', { format: 'date-time' }),
});

const toRow = (page: NotionPage) => ({
  id: page.id,
  url: page.url,
  title: pageTitle(page),
  properties: page.properties,
  createdTime: page.created_time,
  lastEditedTime: page.last_edited_time,
});

const nextCursor = nullable(string('Cursor of the next page of results; null on the last page.'));

export const notionProvider: Provider = {
  baseUrl: 'https://api.notion.com/v1',
  headers: { 'notion-version': NOTION_VERSION },
  // Internal integration secrets and OAuth access tokens are both bearer tokens.
  authorize: bearer,
  failureOf,
  actions: {
    search: {
      outputSchema: output({
        results: listOf(
          'Pages and data sources whose title matches.',
          output({
            id: string('Id of the page or data source.'),
            object: { type: 'string', enum: ['page', 'data_source'], description: 'What was found.' },
            title: string('Its title.'),
            url: nullable(string('Link to it.')),
            lastEditedTime: nullable(string('When it last changed.', { format: 'date-time' })),
          }),
        ),
        nextCursor,
        hasMore: boolean('Whether more results follow.'),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const answer = await send({ method: 'POST', path: '/search', body: { json: { query: input.query, page_size: input.limit } } });
        const list = answer.body as NotionList<NotionPage | NotionDataSource>;
        return {
          results: list.results.map((found) =>
            found.object === 'page'
              ? { id: found.id, object: found.object, title: pageTitle(found), url: found.url, lastEditedTime: found.last_edited_time }
              : { id: found.id, object: found.object, title: plain(found.title), url: found.url ?? null, lastEditedTime: found.last_edited_time ?? null },
          ),
          nextCursor: list.next_cursor,
          hasMore: list.has_more,
        };
      },
    },

    create_page: {
      outputSchema: output({ id: string('Id of the new page.'), url: string('Link to it.') }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        // `properties` marks a database parent (the input schema says so); a page parent takes only a title.
        const parent =
          input.properties === undefined
            ? { type: 'page_id', page_id: input.parentId }
            : { type: 'data_source_id', data_source_id: await dataSourceOf(send, input.parentId as string) };
        const page = (
          await send({
            method: 'POST',
            path: '/pages',
            body: {
              json: {
                parent,
                // "title" is the title property's id in every data source, whatever its name.
                properties: { ...(input.properties as Record<string, unknown> | undefined), title: { title: [{ type: 'text', text: { content: input.title } }] } },
                markdown: input.content,
              },
            },
          })
        ).body as NotionPage;
        return { id: page.id, url: page.url };
      },
    },

    get_page: {
      outputSchema: output({
        id: string('Id of the page.'),
        url: string('Link to the page.'),
        title: string('The page title.'),
        parent: { type: 'object', description: 'Where the page lives, as Notion describes it.' },
        properties: { type: 'object', description: 'Property values by name, as Notion returns them.' },
        content: string('The page body in Notion’s enhanced Markdown.'),
        truncated: boolean('Whether Notion cut the body short (very large pages).'),
        inTrash: boolean('Whether the page is in the trash.'),
        createdTime: string('When it was created.', { format: 'date-time' }),
        lastEditedTime: string('When it last changed.', { format: 'date-time' }),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const page = (await send({ method: 'GET', path: `/pages/${pageId(input.pageId)}` })).body as NotionPage;
        const body = (await send({ method: 'GET', path: `/pages/${pageId(input.pageId)}/markdown` })).body as { markdown: string; truncated: boolean };
        return {
          id: page.id,
          url: page.url,
          title: pageTitle(page),
          parent: page.parent ?? {},
          properties: page.properties,
          content: body.markdown,
          truncated: body.truncated,
          inTrash: page.in_trash ?? false,
          createdTime: page.created_time,
          lastEditedTime: page.last_edited_time,
        };
      },
    },

    append_block: {
      outputSchema: output({ pageId: string('Id of the page.') }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        // insert_content without a position appends at the end of the page.
        const answer = await send({
          method: 'PATCH',
          path: `/pages/${pageId(input.pageId)}/markdown`,
          body: { json: { type: 'insert_content', insert_content: { content: input.content } } },
        });
        return { pageId: (answer.body as { id: string }).id };
      },
    },

    query_database: {
      outputSchema: output({
        dataSourceId: string('The database’s data source that was queried.'),
        results: listOf('Rows, as pages.', row),
        nextCursor,
        hasMore: boolean('Whether more rows follow.'),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const dataSourceId = await dataSourceOf(send, input.databaseId as string);
        const answer = await send({
          method: 'POST',
          path: `/data_sources/${encodeURIComponent(dataSourceId)}/query`,
          body: { json: { filter: input.filter, page_size: input.limit } },
        });
        const list = answer.body as NotionList<NotionPage>;
        return {
          dataSourceId,
          results: list.results.filter((r) => r.object === 'page').map(toRow),
          nextCursor: list.next_cursor,
          hasMore: list.has_more,
        };
      },
    },
  },
};
