// Slack Web API (https://docs.slack.dev/reference/methods): one method per
// path under https://slack.com/api, the token as `Authorization: Bearer`.
// Read methods are GET with query arguments; writes POST JSON (charset
// required), except files.getUploadURLExternal, which takes a form. Slack
// answers HTTP 200 with `ok:false` and an `error` string for failures, and
// HTTP 429 with Retry-After when rate limited.
import { boolean, integer, listOf, nullable, objectOf, output, string } from '../json-schema.js';
import { ProviderCallError, type Provider, type ProviderAnswer, type Send } from '../provider.js';
import { bearer, objectBody } from '../provider-kit.js';

interface SlackChannel {
  id: string;
  name?: string;
  is_private?: boolean;
  is_archived?: boolean;
  is_member?: boolean;
  num_members?: number;
  topic?: { value?: string };
}

interface SlackUser {
  id: string;
  team_id?: string;
  name?: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  tz?: string;
  profile?: { email?: string; display_name?: string; real_name?: string };
}

/** Calls one Web API method and returns Slack's answer body (send has already rejected `ok:false`). */
async function call(send: Send, method: string, args: Record<string, unknown>, encoding: 'query' | 'json' | 'form'): Promise<Record<string, unknown>> {
  const path = `/${method}`;
  const answer =
    encoding === 'query'
      ? await send({ method: 'GET', path, query: args as Record<string, string | number | boolean | undefined> })
      : encoding === 'json'
        ? await send({ method: 'POST', path, body: { json: args } })
        : await send({ method: 'POST', path, body: { form: Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])) } });
  return objectBody(answer.body) ?? {};
}

const emptyToNull = (value: string | undefined) => (value ? value : null);

const channelSummary = output({
  id: string('Channel id (C…, G… or D…).'),
  name: nullable(string('Channel name without #.')),
});

export const slackProvider: Provider = {
  baseUrl: 'https://slack.com/api',
  authorize: bearer,
  failureOf(answer: ProviderAnswer) {
    const body = objectBody(answer.body);
    const error = typeof body?.error === 'string' ? body.error : undefined;
    if (answer.status === 429) return { message: error ?? 'ratelimited', providerCode: error ?? 'ratelimited', rateLimited: true };
    if (answer.status >= 400) return { message: error ?? `Slack answered HTTP ${answer.status}`, providerCode: error };
    if (body?.ok === false) {
      const code = error ?? 'unknown_error';
      // missing_scope says which scope the token lacks; that is what a person needs to fix it.
      const needed = typeof body.needed === 'string' ? ` (needed: ${body.needed})` : '';
      return { message: code + needed, providerCode: code, rateLimited: code === 'ratelimited' };
    }
    return null;
  },
  actions: {
    send_message: {
      outputSchema: output({
        channel: string('Id of the channel the message was posted in.'),
        ts: string('Timestamp of the new message; its id within the channel.'),
        threadTs: nullable(string('Timestamp of the thread parent, when the message is a reply.')),
      }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const { channel, text, threadTs, unfurlLinks } = input as { channel: string; text: string; threadTs?: string; unfurlLinks?: boolean };
        const body = await call(send, 'chat.postMessage', { channel, text, thread_ts: threadTs, unfurl_links: unfurlLinks }, 'json');
        const message = objectBody(body.message);
        return { channel: String(body.channel), ts: String(body.ts), threadTs: (message?.thread_ts as string | undefined) ?? null };
      },
    },
    list_channels: {
      outputSchema: output({
        channels: listOf(
          'The channels of this page.',
          output({
            id: string('Channel id.'),
            name: string('Channel name without #.'),
            isPrivate: boolean('Whether the channel is private.'),
            isArchived: boolean('Whether the channel is archived.'),
            isMember: boolean('Whether the token’s user or bot is a member.'),
            memberCount: nullable(integer('Number of members, when Slack reports it.', 0)),
            topic: nullable(string('Channel topic.')),
          }),
        ),
        nextCursor: nullable(string('Pass as cursor to get the next page; null on the last page.')),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const { includePrivate, limit, cursor } = input as { includePrivate?: boolean; limit?: number; cursor?: string };
        const types = includePrivate ? 'public_channel,private_channel' : 'public_channel';
        const body = await call(send, 'conversations.list', { types, limit, cursor }, 'query');
        const channels = (body.channels as SlackChannel[] | undefined) ?? [];
        const metadata = objectBody(body.response_metadata);
        return {
          channels: channels.map((c) => ({
            id: c.id,
            name: c.name ?? '',
            isPrivate: c.is_private ?? false,
            isArchived: c.is_archived ?? false,
            isMember: c.is_member ?? false,
            memberCount: c.num_members ?? null,
            topic: emptyToNull(c.topic?.value),
          })),
          // Slack sends an empty next_cursor on the last page.
          nextCursor: emptyToNull(metadata?.next_cursor as string | undefined),
        };
      },
    },
    add_reaction: {
      outputSchema: output({ alreadyReacted: boolean('True when the reaction was already there (nothing changed).') }),
      readOnly: false,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const { channel, timestamp, name } = input as { channel: string; timestamp: string; name: string };
        try {
          await call(send, 'reactions.add', { channel, timestamp, name }, 'json');
          return { alreadyReacted: false };
        } catch (error) {
          // The reaction the caller wants is there: a repeated call (or a retry) succeeds.
          if (error instanceof ProviderCallError && error.failure.providerCode === 'already_reacted') return { alreadyReacted: true };
          throw error;
        }
      },
    },
    upload_file: {
      outputSchema: output({
        fileId: string('Id of the new file (F…).'),
        title: nullable(string('Title of the file.')),
        permalink: nullable(string('Link to the file in Slack, when Slack returns it.')),
      }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const { channel, filename, content, title, initialComment, threadTs } = input as {
          channel: string;
          filename: string;
          content: string;
          title?: string;
          initialComment?: string;
          threadTs?: string;
        };
        const bytes = new TextEncoder().encode(content);
        // The external upload flow: reserve an upload URL, send the bytes there, then complete and share.
        const reserved = await call(send, 'files.getUploadURLExternal', { filename, length: bytes.byteLength }, 'form');
        const fileId = String(reserved.file_id);
        await send({ method: 'POST', path: String(reserved.upload_url), body: { raw: bytes, contentType: 'application/octet-stream' } });
        const completed = await call(
          send,
          'files.completeUploadExternal',
          { files: [{ id: fileId, title: title ?? filename }], channel_id: channel, initial_comment: initialComment, thread_ts: threadTs },
          'json',
        );
        const file = objectBody((completed.files as unknown[] | undefined)?.[0]);
        return {
          fileId: (file?.id as string | undefined) ?? fileId,
          title: (file?.title as string | undefined) ?? null,
          permalink: (file?.permalink as string | undefined) ?? null,
        };
      },
    },
    lookup_user_by_email: {
      outputSchema: output({
        id: string('User id (U… or W…).'),
        teamId: nullable(string('Workspace id.')),
        name: string('Username.'),
        realName: nullable(string('Full name.')),
        displayName: nullable(string('Display name the member chose.')),
        email: nullable(string('Email address.')),
        isBot: boolean('Whether the member is a bot.'),
        deleted: boolean('Whether the member was deactivated.'),
        timezone: nullable(string('IANA time zone, such as Europe/Paris.')),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const { email } = input as { email: string };
        const body = await call(send, 'users.lookupByEmail', { email }, 'query');
        const user = body.user as SlackUser;
        return {
          id: user.id,
          teamId: user.team_id ?? null,
          name: user.name ?? '',
          realName: emptyToNull(user.real_name ?? user.profile?.real_name),
          displayName: emptyToNull(user.profile?.display_name),
          email: emptyToNull(user.profile?.email),
          isBot: user.is_bot ?? false,
          deleted: user.deleted ?? false,
          timezone: emptyToNull(user.tz),
        };
      },
    },
    invite_to_channel: {
      outputSchema: output({ channel: objectOf('The channel the users were invited to.', channelSummary) }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const { channel, users } = input as { channel: string; users: string[] };
        const body = await call(send, 'conversations.invite', { channel, users: users.join(',') }, 'json');
        const invited = body.channel as SlackChannel;
        return { channel: { id: invited.id, name: invited.name ?? null } };
      },
    },
  },
};
