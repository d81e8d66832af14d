import { action, input, limit, string, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

export const notion: CatalogIntegration = {
  name: 'notion',
  displayName: 'Notion',
  description: 'Docs and databases: pages, blocks and database rows.',
  authTypes: ['OAUTH2', 'SECRET_TEXT'],
  secretTextLabel: 'Internal integration secret',
  oauth2: {
    authorizationUrl: 'https://api.notion.com/v1/oauth/authorize',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    defaultScopes: [],
    pkce: false,
  },
  actions: [
    action('search', 'Search', 'Search pages and databases shared with the integration by title.', input({
      query: string('Text to look for in titles.'),
      limit: limit(),
    })),
    action('create_page', 'Create page', 'Create a page under a parent page or as a row of a database.', input(
      {
        parentId: string('Id of the parent page or database.'),
        title: string('Page title.', { minLength: 1 }),
        content: string('Page body in Markdown.'),
        properties: { type: 'object', description: 'Database properties by name, when the parent is a database.' },
      },
      ['parentId', 'title'],
    )),
    action('get_page', 'Get page', 'Read a page’s properties and content.', input({ pageId: string('Id of the page.') }, ['pageId'])),
    action('append_block', 'Append to page', 'Append Markdown content to the end of a page.', input(
      { pageId: string('Id of the page.'), content: string('Markdown to append.', { minLength: 1 }) },
      ['pageId', 'content'],
    )),
    action('query_database', 'Query database', 'List rows of a database, optionally filtered.', input(
      { databaseId: string('Id of the database.'), filter: { type: 'object', description: 'A Notion filter object.' }, limit: limit() },
      ['databaseId'],
    )),
  ],
  triggers: [trigger('new_page', 'New page', 'A page is created in a shared database.'), trigger('updated_page', 'Updated page', 'A page in a shared database changes.')],
};
