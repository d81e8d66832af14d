import { action, input, limit, string, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

const sobject = string('API name of the object, such as Account, Contact or Opportunity.', { pattern: '^[A-Za-z][A-Za-z0-9_]*$' });

export const salesforce: CatalogIntegration = {
  name: 'salesforce',
  displayName: 'Salesforce',
  description: 'CRM: records of any standard or custom object, and SOQL queries.',
  authTypes: ['OAUTH2'],
  oauth2: {
    authorizationUrl: 'https://login.salesforce.com/services/oauth2/authorize',
    tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
    defaultScopes: ['api', 'refresh_token'],
    pkce: true,
  },
  actions: [
    action('query', 'Run SOQL query', 'Run a SOQL query and return the matching records.', input(
      { soql: string('SOQL query, such as "SELECT Id, Name FROM Account LIMIT 10".', { minLength: 1 }), limit: limit(2000) },
      ['soql'],
    )),
    action('create_record', 'Create record', 'Create a record of a standard or custom object from its field values.', input(
      { sobject, fields: { type: 'object', description: 'Field values by API name.' } },
      ['sobject', 'fields'],
    )),
    action('update_record', 'Update record', 'Update fields of an existing record.', input(
      { sobject, recordId: string('Id of the record.'), fields: { type: 'object', description: 'Field values by API name.' } },
      ['sobject', 'recordId', 'fields'],
    )),
    action('get_record', 'Get record', 'Read one record of an object by its id.', input({ sobject, recordId: string('Id of the record.') }, ['sobject', 'recordId'])),
  ],
  triggers: [trigger('new_record', 'New record', 'A record of the chosen object is created.'), trigger('updated_record', 'Updated record', 'A record of the chosen object changes.')],
};
