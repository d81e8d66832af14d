// Every Slack action against the fake Slack Web API: the exact request Slack
// documents (HTTP method, path, bearer token, encoding, arguments), the mapped
// output (checked against the action's outputSchema by runAction), and Slack's
// failures (HTTP 200 ok:false, HTTP 429) as typed ProviderCallErrors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ConnectionSecret } from '../../src/platform/crypto/credential-store.js';
import { providerError, runAction } from '../support/fake-providers/run.js';
import { startSlackFake, type SlackFake } from '../support/fake-providers/slack.js';

let slack: SlackFake;
beforeAll(async () => {
  slack = await startSlackFake({ token: 'xoxb-canary-slack-token' });
});
afterAll(() => slack.close());

const run = (action: string, input: Record<string, unknown>, secret: ConnectionSecret = { accessToken: slack.token }) =>
  runAction('slack', action, input, { baseUrl: slack.apiUrl, secret });

/** The requests the action made, from a starting count. */
const since = (count: number) => slack.api.requests.slice(count);


const JSON_TYPE = 'application/json; charset=utf-8';

describe('send_message (chat.postMessage)', () => {
  test('POSTs JSON with the bearer token and returns the new message’s channel and ts', async () => {
    const start = slack.api.requests.length;
    const output = await run('send_message', { channel: '#general', text: 'Deploy *finished*', threadTs: '1700000000.000100', unfurlLinks: false });
    const [request] = since(start);
    expect(request).toMatchObject({ method: 'POST', path: '/api/chat.postMessage' });
    expect(request!.headers).toMatchObject({ authorization: 'Bearer xoxb-canary-slack-token', 'content-type': JSON_TYPE });
    expect(JSON.parse(request!.text)).toEqual({ channel: '#general', text: 'Deploy *finished*', thread_ts: '1700000000.000100', unfurl_links: false });
    const posted = slack.messages.at(-1)!;
    expect(output).toEqual({ channel: 'C0GENERAL', ts: posted.ts, threadTs: '1700000000.000100' });
  });

  test('ok:false with HTTP 200 is a failure carrying Slack’s error code', async () => {
    const error = await providerError(run('send_message', { channel: 'C0NOPE', text: 'hello' }));
    expect(error).toMatchObject({ message: 'channel_not_found', providerStatus: 200, failure: { providerCode: 'channel_not_found', rateLimited: false } });
  });

  test('missing_scope names the scope Slack says is needed; a wrong token is invalid_auth', async () => {
    slack.answerNext('chat.postMessage', { body: { ok: false, error: 'missing_scope', needed: 'chat:write', provided: 'channels:read' } });
    expect(await providerError(run('send_message', { channel: 'C0GENERAL', text: 'hi' }))).toMatchObject({
      message: 'missing_scope (needed: chat:write)',
      failure: { providerCode: 'missing_scope' },
    });
    const wrong = await providerError(run('send_message', { channel: 'C0GENERAL', text: 'hi' }, { accessToken: 'xoxb-revoked' }));
    expect(wrong.failure.providerCode).toBe('invalid_auth');
  });

  test('HTTP 429 with Retry-After is rate limited, with the wait Slack asked for', async () => {
    slack.answerNext('chat.postMessage', { status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } });
    const error = await providerError(run('send_message', { channel: 'C0GENERAL', text: 'hi' }));
    expect(error).toMatchObject({ providerStatus: 429, failure: { rateLimited: true, retryAfterMs: 30_000, providerCode: 'ratelimited' } });
  });

  test('a SECRET_TEXT connection’s bot token is sent the same way', async () => {
    const start = slack.api.requests.length;
    await run('send_message', { channel: 'C0GENERAL', text: 'from a pasted token' }, { apiKey: slack.token });
    expect(since(start)[0]!.headers.authorization).toBe('Bearer xoxb-canary-slack-token');
  });
});

describe('list_channels (conversations.list)', () => {
  test('GETs with query arguments and no body, pages with Slack’s cursor, and ends with a null cursor', async () => {
    const start = slack.api.requests.length;
    const first = await run('list_channels', { includePrivate: true, limit: 2 });
    const [request] = since(start);
    expect(request).toMatchObject({ method: 'GET', path: '/api/conversations.list', text: '' });
    expect(request!.headers['content-type']).toBeUndefined();
    expect(request!.headers.authorization).toBe('Bearer xoxb-canary-slack-token');
    expect(Object.fromEntries(request!.query)).toEqual({ types: 'public_channel,private_channel', limit: '2' });
    expect(first.channels).toEqual([
      { id: 'C0GENERAL', name: 'general', isPrivate: false, isArchived: false, isMember: true, memberCount: 2, topic: 'Company-wide' },
      { id: 'C0RANDOM', name: 'random', isPrivate: false, isArchived: false, isMember: false, memberCount: 1, topic: null },
    ]);
    expect(first.nextCursor).toEqual(expect.any(String));

    const second = await run('list_channels', { includePrivate: true, limit: 2, cursor: first.nextCursor as string });
    expect(since(start)[1]!.query.get('cursor')).toBe(first.nextCursor);
    expect((second.channels as { id: string }[]).map((c) => c.id)).toEqual(['G0SECRET', 'C0OLD']);
    expect(second.nextCursor).toBeNull();

    const publicOnly = await run('list_channels', {});
    expect(since(start)[2]!.query.get('types')).toBe('public_channel');
    expect((publicOnly.channels as { isPrivate: boolean }[]).every((c) => !c.isPrivate)).toBe(true);
  });

  test('a cursor Slack does not know is invalid_cursor', async () => {
    expect(await providerError(run('list_channels', { cursor: 'bm90LWEtY3Vyc29y' }))).toMatchObject({ message: 'invalid_cursor', providerStatus: 200 });
  });
});

describe('add_reaction (reactions.add)', () => {
  test('POSTs JSON; adding a reaction that is already there succeeds without a change', async () => {
    const start = slack.api.requests.length;
    const input = { channel: 'C0GENERAL', timestamp: '1700000000.000100', name: 'tada' };
    expect(await run('add_reaction', input)).toEqual({ alreadyReacted: false });
    const [request] = since(start);
    expect(request).toMatchObject({ method: 'POST', path: '/api/reactions.add' });
    expect(request!.headers).toMatchObject({ authorization: 'Bearer xoxb-canary-slack-token', 'content-type': JSON_TYPE });
    expect(JSON.parse(request!.text)).toEqual(input);
    expect(await run('add_reaction', input)).toEqual({ alreadyReacted: true });
    expect([...slack.messages[0]!.reactions]).toEqual(['tada']);
  });

  test('a message that does not exist is message_not_found', async () => {
    const error = await providerError(run('add_reaction', { channel: 'C0GENERAL', timestamp: '1.2', name: 'eyes' }));
    expect(error).toMatchObject({ message: 'message_not_found', failure: { providerCode: 'message_not_found' } });
  });
});

describe('upload_file (files.getUploadURLExternal → upload URL → files.completeUploadExternal)', () => {
  test('reserves with a form, posts the bytes to the upload host without the token, then completes with JSON', async () => {
    const apiStart = slack.api.requests.length;
    const filesStart = slack.files.requests.length;
    const content = 'name,city\nZoë,Zürich ☃\n';
    const bytes = Buffer.from(content, 'utf8');
    const output = await run('upload_file', {
      channel: 'C0GENERAL',
      filename: 'report.csv',
      content,
      title: 'Weekly report',
      initialComment: 'Here it is',
      threadTs: '1700000000.000100',
    });

    const [reserve, complete] = since(apiStart);
    expect(reserve).toMatchObject({ method: 'POST', path: '/api/files.getUploadURLExternal' });
    expect(reserve!.headers).toMatchObject({ authorization: 'Bearer xoxb-canary-slack-token', 'content-type': 'application/x-www-form-urlencoded' });
    expect(Object.fromEntries(new URLSearchParams(reserve!.text))).toEqual({ filename: 'report.csv', length: String(bytes.length) });

    const [upload] = slack.files.requests.slice(filesStart);
    expect(upload).toMatchObject({ method: 'POST', path: `/upload/v1/${output.fileId}` });
    expect(upload!.body.equals(bytes)).toBe(true);
    expect(upload!.headers['content-type']).toBe('application/octet-stream');
    expect(upload!.headers.authorization).toBeUndefined();

    expect(complete).toMatchObject({ method: 'POST', path: '/api/files.completeUploadExternal' });
    expect(complete!.headers).toMatchObject({ authorization: 'Bearer xoxb-canary-slack-token', 'content-type': JSON_TYPE });
    expect(JSON.parse(complete!.text)).toEqual({
      files: [{ id: output.fileId, title: 'Weekly report' }],
      channel_id: 'C0GENERAL',
      initial_comment: 'Here it is',
      thread_ts: '1700000000.000100',
    });
    expect(output).toEqual({ fileId: expect.stringMatching(/^F/), title: 'Weekly report', permalink: expect.stringContaining('report.csv') });
    expect(slack.uploads.get(output.fileId as string)).toMatchObject({ channel: 'C0GENERAL', title: 'Weekly report' });
  });

  test('a channel Slack does not know fails the completion with channel_not_found', async () => {
    const error = await providerError(run('upload_file', { channel: 'C0NOPE', filename: 'a.txt', content: 'x' }));
    expect(error).toMatchObject({ message: 'channel_not_found', providerStatus: 200 });
  });

  test('an upload host that refuses the bytes fails the action with its status', async () => {
    // An upload URL the upload host does not know: it answers 404, and nothing is completed.
    slack.answerNext('files.getUploadURLExternal', { body: { ok: true, upload_url: `${slack.files.url}/upload/v1/F0MISSING`, file_id: 'F0MISSING' } });
    const error = await providerError(run('upload_file', { channel: 'C0GENERAL', filename: 'a.txt', content: 'x' }));
    expect(error).toMatchObject({ providerStatus: 404, message: 'Slack answered HTTP 404' });
  });
});

describe('lookup_user_by_email (users.lookupByEmail)', () => {
  test('GETs with the email as a query argument and maps the member', async () => {
    const start = slack.api.requests.length;
    const output = await run('lookup_user_by_email', { email: 'ada@example.com' });
    const [request] = since(start);
    expect(request).toMatchObject({ method: 'GET', path: '/api/users.lookupByEmail', text: '' });
    expect(request!.query.get('email')).toBe('ada@example.com');
    expect(request!.headers.authorization).toBe('Bearer xoxb-canary-slack-token');
    expect(output).toEqual({
      id: 'U0ADA',
      teamId: 'T0TEAM',
      name: 'ada',
      realName: 'Ada Lovelace',
      displayName: 'ada',
      email: 'ada@example.com',
      isBot: false,
      deleted: false,
      timezone: 'Europe/Paris',
    });
  });

  test('an unknown email is users_not_found', async () => {
    expect(await providerError(run('lookup_user_by_email', { email: 'nobody@example.com' }))).toMatchObject({ message: 'users_not_found' });
  });
});

describe('invite_to_channel (conversations.invite)', () => {
  test('POSTs JSON with the user ids as one comma-separated string', async () => {
    const start = slack.api.requests.length;
    slack.users.push({ id: 'U0CAROL', name: 'carol', real_name: 'Carol', email: 'carol@example.com', is_bot: false });
    const output = await run('invite_to_channel', { channel: 'G0SECRET', users: ['U0BOB', 'U0CAROL'] });
    const [request] = since(start);
    expect(request).toMatchObject({ method: 'POST', path: '/api/conversations.invite' });
    expect(request!.headers).toMatchObject({ authorization: 'Bearer xoxb-canary-slack-token', 'content-type': JSON_TYPE });
    expect(JSON.parse(request!.text)).toEqual({ channel: 'G0SECRET', users: 'U0BOB,U0CAROL' });
    expect(output).toEqual({ channel: { id: 'G0SECRET', name: 'secret' } });
    expect([...slack.channels.find((c) => c.id === 'G0SECRET')!.members]).toEqual(['U0BOT', 'U0BOB', 'U0CAROL']);
  });

  test('a user already in the channel is already_in_channel', async () => {
    expect(await providerError(run('invite_to_channel', { channel: 'C0GENERAL', users: ['U0ADA'] }))).toMatchObject({
      message: 'already_in_channel',
      failure: { providerCode: 'already_in_channel' },
    });
  });
});
