import { action, boolean, email, input, limit, string, stringList, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

export const slack: CatalogIntegration = {
  name: 'slack',
  displayName: 'Slack',
  description: 'Team messaging: channels, direct messages and reactions.',
  authTypes: ['OAUTH2', 'PLATFORM_OAUTH2', 'SECRET_TEXT'],
  secretTextLabel: 'Bot token (xoxb-…)',
  oauth2: {
    authorizationUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    // users:read.email needs users:read; channels:history and reactions:read feed the triggers.
    defaultScopes: ['chat:write', 'channels:read', 'channels:history', 'groups:read', 'reactions:read', 'reactions:write', 'files:write', 'users:read', 'users:read.email'],
    pkce: false,
    scopeSeparator: ',',
  },
  actions: [
    action('send_message', 'Send message', 'Post a message to a channel or a direct-message conversation.', input(
      {
        channel: string('Channel id (C…), DM id (D…) or channel name such as #general.'),
        text: string('Message text in Slack mrkdwn.', { minLength: 1, maxLength: 40000 }),
        threadTs: string('Timestamp of the parent message, to reply in its thread.'),
        unfurlLinks: boolean('Whether Slack should expand link previews.'),
      },
      ['channel', 'text'],
    )),
    action('list_channels', 'List channels', 'List the public and private channels the token can see.', input({
      includePrivate: boolean('Also list private channels the token is a member of.'),
      limit: limit(1000),
      cursor: string('Pagination cursor from a previous call.'),
    })),
    action('add_reaction', 'Add reaction', 'Add an emoji reaction to a message.', input(
      {
        channel: string('Channel id of the message.'),
        timestamp: string('Timestamp (ts) of the message.'),
        name: string('Emoji name without colons, such as thumbsup.', { pattern: '^[a-z0-9_+-]+$' }),
      },
      ['channel', 'timestamp', 'name'],
    )),
    action('upload_file', 'Upload file', 'Upload text content as a file and share it in a channel.', input(
      {
        channel: string('Channel id to share the file in.'),
        filename: string('File name including its extension, such as report.csv.', { minLength: 1, maxLength: 255 }),
        content: string('Text content of the file.', { minLength: 1 }),
        title: string('Title shown above the file.'),
        initialComment: string('Message posted with the file.'),
        threadTs: string('Timestamp of the parent message, to share the file in its thread.'),
      },
      ['channel', 'filename', 'content'],
    )),
    action('lookup_user_by_email', 'Find user by email', 'Find a workspace member by email address.', input(
      { email: email('Email address of the member.') },
      ['email'],
    )),
    action('invite_to_channel', 'Invite to channel', 'Invite one or more users to a channel.', input(
      { channel: string('Channel id.'), users: stringList('User ids (U…) to invite.', { minLength: 1 }) },
      ['channel', 'users'],
    )),
  ],
  triggers: [
    trigger('new_message', 'New message', 'A message is posted in a channel the app is in.'),
    trigger('new_channel', 'New channel', 'A public channel is created.'),
    trigger('reaction_added', 'Reaction added', 'Someone reacts to a message.'),
  ],
};
