import { action, enumOf, input, string, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

const spreadsheetId = string('Id of the spreadsheet, from its URL.');
const row = { type: 'array', description: 'Cell values of one row, left to right.', items: { type: ['string', 'number', 'boolean', 'null'] } };

export const googleSheets: CatalogIntegration = {
  name: 'google-sheets',
  displayName: 'Google Sheets',
  description: 'Spreadsheets: read and write rows and ranges.',
  authTypes: ['OAUTH2', 'PLATFORM_OAUTH2'],
  oauth2: {
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    defaultScopes: ['https://www.googleapis.com/auth/spreadsheets'],
    pkce: true,
    // Google issues a refresh token only for offline access, and again only with renewed consent.
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
  },
  actions: [
    action('append_row', 'Append row', 'Append a row after the last row of a sheet.', input(
      { spreadsheetId, sheet: string('Sheet (tab) name.'), values: row },
      ['spreadsheetId', 'sheet', 'values'],
    )),
    action('read_range', 'Read range', 'Read the values of a range in A1 notation.', input(
      { spreadsheetId, range: string('Range in A1 notation, such as Sheet1!A1:D20.'), valueRender: enumOf('How values are rendered.', ['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA']) },
      ['spreadsheetId', 'range'],
    )),
    action('update_range', 'Update range', 'Overwrite the values of a range in A1 notation.', input(
      { spreadsheetId, range: string('Range in A1 notation.'), values: { type: 'array', description: 'Rows of cell values.', items: row } },
      ['spreadsheetId', 'range', 'values'],
    )),
    action('create_spreadsheet', 'Create spreadsheet', 'Create an empty spreadsheet and return its id and URL.', input(
      { title: string('Title of the spreadsheet.', { minLength: 1 }) },
      ['title'],
    )),
  ],
  triggers: [trigger('new_row', 'New row', 'A row is added to a sheet.'), trigger('updated_row', 'Updated row', 'A row of a sheet changes.')],
};
