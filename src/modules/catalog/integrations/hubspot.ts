import { action, dateTime, email, enumOf, input, limit, string, trigger, uri } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

export const hubspot: CatalogIntegration = {
  name: 'hubspot',
  displayName: 'HubSpot',
  description: 'CRM: contacts, companies and deals.',
  authTypes: ['OAUTH2', 'SECRET_TEXT'],
  secretTextLabel: 'Private app access token',
  oauth2: {
    authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
    tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
    defaultScopes: ['crm.objects.contacts.write', 'crm.objects.deals.write'],
    pkce: false,
  },
  actions: [
    action('create_contact', 'Create contact', 'Create a HubSpot contact identified by its email address.', input(
      { email: email('Contact email.'), firstName: string('First name.'), lastName: string('Last name.'), company: string('Company name.'), website: uri('Company website URL.') },
      ['email'],
    )),
    action('find_contact', 'Find contact', 'Find a contact by email address.', input({ email: email('Contact email.') }, ['email'])),
    action('create_deal', 'Create deal', 'Create a deal in a pipeline stage, optionally associated with a contact.', input(
      {
        name: string('Deal name.', { minLength: 1 }),
        amount: { type: 'number', description: 'Deal amount in the account currency.', minimum: 0 },
        stage: string('Id of the pipeline stage.'),
        closeDate: dateTime('Expected close date and time (ISO 8601).'),
        contactId: string('Id of a contact to associate.'),
      },
      ['name', 'stage'],
    )),
    action('list_deals', 'List deals', 'List deals, optionally only those in one stage.', input({
      stage: string('Id of the pipeline stage.'),
      sort: enumOf('Order of the results.', ['newest', 'oldest', 'amount']),
      limit: limit(),
    })),
  ],
  triggers: [
    trigger('new_contact', 'New contact', 'A contact is created.'),
    trigger('new_deal', 'New deal', 'A deal is created.'),
    trigger('deal_stage_changed', 'Deal stage changed', 'A deal moves to another stage.'),
  ],
};
