import { action, email, input, limit, string, stringList, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

export const gmail: CatalogIntegration = {
  name: 'gmail',
  displayName: 'Gmail',
  description: 'Google email: send, search and read messages.',
  authTypes: ['OAUTH2', 'PLATFORM_OAUTH2'],
  oauth2: {
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    defaultScopes: ['https://www.googleapis.com/auth/gmail.send', 'https://www.googleapis.com/auth/gmail.readonly'],
    pkce: true,
    // Google issues a refresh token only for offline access, and again only with renewed consent.
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
  },
  actions: [
    action('send_email', 'Send email', 'Send an email from the connected account.', input(
      {
        to: stringList('Recipient addresses.', { format: 'email' }),
        cc: stringList('Copy recipients.', { format: 'email' }),
        subject: string('Subject line.', { maxLength: 998 }),
        body: string('Plain-text body.'),
        htmlBody: string('HTML body; sent alongside the plain-text body.'),
      },
      ['to', 'subject', 'body'],
    )),
    action('list_messages', 'Search messages', 'List messages matching a Gmail search query, newest first.', input({
      query: string('Gmail search syntax, such as "from:alice is:unread".'),
      labelIds: stringList('Only messages with all these label ids.'),
      limit: limit(500),
      pageToken: string('nextPageToken of the previous page.'),
    })),
    action('get_message', 'Get message', 'Read one message with its headers and body.', input(
      { messageId: string('Id of the message.') },
      ['messageId'],
    )),
    action('create_draft', 'Create draft', 'Save a draft without sending it.', input(
      { to: stringList('Recipient addresses.', { format: 'email' }), subject: string('Subject line.'), body: string('Plain-text body.') },
      ['subject', 'body'],
    )),
    action('reply_to_email', 'Reply to email', 'Reply to a message in its thread.', input(
      { messageId: string('Id of the message to reply to.'), body: string('Plain-text reply.'), replyAll: { type: 'boolean', description: 'Reply to every recipient.' }, from: email('Send-as alias to reply from.') },
      ['messageId', 'body'],
    )),
  ],
  triggers: [trigger('new_email', 'New email', 'A message arrives in the inbox.'), trigger('new_labeled_email', 'New labeled email', 'A label is added to a message.')],
};
