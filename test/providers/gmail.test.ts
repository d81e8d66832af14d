// Gmail's actions against the loopback fake Gmail API: each sends the request
// Google documents (method, path, query, bearer token, JSON body, an RFC 2822
// message base64url-encoded in `raw`) and maps the documented answers; every
// action also meets a provider failure, which arrives as a ProviderCallError
// carrying Google's message.
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { googleError, receivedMessage, startGmailFake, textPart, type GmailFake } from '../support/fake-providers/gmail.js';
import { providerError, runAction } from '../support/fake-providers/run.js';
import type { RecordedRequest } from '../support/fake-providers/server.js';

let gmail: GmailFake;

beforeAll(async () => {
  gmail = await startGmailFake({ address: 'me@example.com' });
});
afterAll(() => gmail.close());
beforeEach(() => {
  gmail.messages.clear();
  gmail.sent.length = 0;
  gmail.server.requests.length = 0;
});

const run = (action: string, input: Record<string, unknown>, token = gmail.token) =>
  runAction('gmail', action, input, { baseUrl: gmail.url, secret: { accessToken: token } });

/** The decoded message of a send or draft request, checked for base64url and CRLF line endings. */
function rawOf(request: RecordedRequest, pick: (body: Record<string, unknown>) => unknown = (b) => b.raw): string {
  expect(request.headers['content-type']).toMatch(/^application\/json\b/);
  const raw = pick(JSON.parse(request.text) as Record<string, unknown>) as string;
  expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
  const message = Buffer.from(raw, 'base64url').toString('utf8');
  expect(message).not.toMatch(/[^\r]\n/);
  return message;
}

/** The header section as name → value, unfolded (RFC 5322 §2.2.3). */
function headersOf(message: string): Map<string, string> {
  const section = message.slice(0, message.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  return new Map(section.split('\r\n').map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
}

function seedThread() {
  const original = receivedMessage({
    id: '18c00000000000aa',
    threadId: '18c00000000000a0',
    headers: {
      From: 'Ada Lovelace <ada@example.com>',
      To: 'me@example.com, Bob <bob@example.com>',
      Cc: 'carol@example.com',
      Subject: 'Engine notes',
      'Message-ID': '<note-2@example.com>',
      References: '<note-1@example.com>',
    },
    parts: [textPart('text/plain', 'The engine weaves algebraic patterns.')],
  });
  gmail.messages.set(original.id, original);
  return original;
}

describe('send_email', () => {
  test('POSTs users/me/messages/send with a plain-text RFC 2822 message: RFC 2047 subject, UTF-8, CRLF', async () => {
    const result = await run('send_email', {
      to: ['ada@example.com', 'bob@example.com'],
      cc: ['carol@example.com'],
      subject: 'Grüße aus Zürich – 会議',
      body: 'Hello Ada,\nthe numbers are ready: ½ done.\n',
    });

    const [request] = gmail.server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/gmail/v1/users/me/messages/send' });
    expect(request!.headers.authorization).toBe(`Bearer ${gmail.token}`);
    expect(Object.keys(JSON.parse(request!.text))).toEqual(['raw']);
    const message = rawOf(request!);
    const headers = headersOf(message);
    // Header fields are ASCII: the subject travels as encoded-words.
    expect(message.slice(0, message.indexOf('\r\n\r\n'))).toMatch(/^[\x20-\x7e\r\n\t]*$/);
    expect(headers.get('subject')).toMatch(/^=\?UTF-8\?[BQ]\?.+\?=$/i);
    expect(headers.get('to')).toBe('ada@example.com, bob@example.com');
    expect(headers.get('cc')).toBe('carol@example.com');
    expect(headers.get('mime-version')).toBe('1.0');
    expect(headers.get('content-type')).toMatch(/^text\/plain; charset=utf-8$/i);

    const email = await PostalMime.parse(message);
    expect(email.subject).toBe('Grüße aus Zürich – 会議');
    expect(email.text).toBe('Hello Ada,\nthe numbers are ready: ½ done.\n');
    expect(email.html).toBeUndefined();

    const sent = gmail.sent[0]!.message;
    expect(result).toEqual({ id: sent.id, threadId: sent.threadId, labelIds: ['SENT'] });
  });

  test('an HTML body goes beside the text as multipart/alternative', async () => {
    await run('send_email', { to: ['ada@example.com'], subject: 'Report', body: 'See the table.', htmlBody: '<p>See the <b>table</b>.</p>' });
    const message = rawOf(gmail.server.requests[0]!);
    expect(headersOf(message).get('content-type')).toMatch(/^multipart\/alternative; boundary=/);
    expect(message).toMatch(/\r\nContent-Type: text\/plain; charset=utf-8\r\n/i);
    expect(message).toMatch(/\r\nContent-Type: text\/html; charset=utf-8\r\n/i);
    const email = await PostalMime.parse(message);
    expect({ text: email.text, html: email.html }).toEqual({ text: 'See the table.', html: '<p>See the <b>table</b>.</p>' });
  });

  test('an expired token: a ProviderCallError with Google’s message and HTTP 401', async () => {
    const error = await providerError(run('send_email', { to: ['ada@example.com'], subject: 'Hi', body: 'x' }, 'ya29.expired'));
    expect(error.providerStatus).toBe(401);
    expect(error.message).toMatch(/^Request had invalid authentication credentials/);
    expect(error.failure).toMatchObject({ providerCode: 'authError' });
    expect(error.failure.rateLimited).toBeUndefined();
    expect(gmail.sent).toEqual([]);
  });
});

describe('list_messages', () => {
  beforeEach(() => {
    const from = (address: string, id: string, internalDate: number, labelIds: string[]) =>
      gmail.messages.set(id, receivedMessage({ id, internalDate, labelIds, headers: { From: address, Subject: id }, parts: [textPart('text/plain', id)] }));
    from('Ada <ada@example.com>', 'm1', 1_000, ['INBOX', 'IMPORTANT']);
    from('Ada <ada@example.com>', 'm2', 3_000, ['INBOX', 'IMPORTANT']);
    from('Ada <ada@example.com>', 'm3', 2_000, ['INBOX']);
    from('Bob <bob@example.com>', 'm4', 4_000, ['INBOX', 'IMPORTANT']);
  });

  test('GETs users/me/messages with q, maxResults, repeated labelIds and pageToken, newest first', async () => {
    const first = await run('list_messages', { query: 'from:ada@example.com', labelIds: ['INBOX', 'IMPORTANT'], limit: 1 });
    const request = gmail.server.requests[0]!;
    expect(request).toMatchObject({ method: 'GET', path: '/gmail/v1/users/me/messages', text: '' });
    expect(request.headers.authorization).toBe(`Bearer ${gmail.token}`);
    expect(request.query.get('q')).toBe('from:ada@example.com');
    expect(request.query.get('maxResults')).toBe('1');
    expect(request.query.getAll('labelIds')).toEqual(['INBOX', 'IMPORTANT']);
    expect(request.query.has('pageToken')).toBe(false);
    expect(first).toEqual({ messages: [{ id: 'm2', threadId: 'm2' }], nextPageToken: '1', resultSizeEstimate: 2 });

    const second = await run('list_messages', { query: 'from:ada@example.com', labelIds: ['INBOX', 'IMPORTANT'], limit: 1, pageToken: '1' });
    expect(gmail.server.requests[1]!.query.get('pageToken')).toBe('1');
    expect(second).toEqual({ messages: [{ id: 'm1', threadId: 'm1' }], nextPageToken: null, resultSizeEstimate: 2 });
  });

  test('no match: Gmail leaves messages out, the output has an empty list', async () => {
    expect(await run('list_messages', { query: 'from:nobody@example.com' })).toEqual({ messages: [], nextPageToken: null, resultSizeEstimate: 0 });
    expect([...gmail.server.requests[0]!.query.keys()]).toEqual(['q']);
  });

  test('429 rateLimitExceeded is a rate-limited failure with Retry-After; 403 dailyLimitExceeded is not rate limited', async () => {
    gmail.answerNext('list', { ...googleError(429, 'Too many concurrent requests for user.', 'rateLimitExceeded'), headers: { 'retry-after': '7' } });
    const limited = await providerError(run('list_messages', { query: 'is:unread' }));
    expect(limited.providerStatus).toBe(429);
    expect(limited.failure).toEqual({ message: 'Too many concurrent requests for user.', providerCode: 'rateLimitExceeded', rateLimited: true, retryAfterMs: 7000 });

    gmail.answerNext('list', googleError(403, 'Quota exceeded for quota metric ‘Queries’.', 'dailyLimitExceeded'));
    const quota = await providerError(run('list_messages', {}));
    expect(quota.failure).toEqual({ message: 'Quota exceeded for quota metric ‘Queries’.', providerCode: 'dailyLimitExceeded' });
  });
});

describe('get_message', () => {
  test('GETs the message with format=full and decodes nested parts in their charsets; attachments are listed', async () => {
    const alternative = {
      mimeType: 'multipart/alternative',
      body: { size: 0 },
      parts: [textPart('text/plain', 'Ça va? — oui ✓'), textPart('text/html', '<p>Café crème</p>', 'ISO-8859-1')],
    };
    const attachment = { mimeType: 'application/pdf', filename: 'notes.pdf', body: { size: 2048, attachmentId: 'ANGjdJ9x' } };
    gmail.messages.set(
      '18c0000000000abc',
      receivedMessage({
        id: '18c0000000000abc',
        threadId: '18c0000000000ab0',
        internalDate: Date.UTC(2026, 10, 23, 9, 30),
        headers: { From: 'Ada <ada@example.com>', To: 'me@example.com', Subject: 'Grüße', Date: 'Mon, 23 Nov 2026 09:30:00 +0000', 'Message-ID': '<g-1@example.com>' },
        parts: [alternative, attachment],
      }),
    );

    const result = await run('get_message', { messageId: '18c0000000000abc' });
    const request = gmail.server.requests[0]!;
    expect(request).toMatchObject({ method: 'GET', path: '/gmail/v1/users/me/messages/18c0000000000abc' });
    expect(Object.fromEntries(request.query)).toEqual({ format: 'full' });
    expect(request.headers.authorization).toBe(`Bearer ${gmail.token}`);
    expect(result).toEqual({
      id: '18c0000000000abc',
      threadId: '18c0000000000ab0',
      labelIds: ['INBOX', 'UNREAD'],
      snippet: 'Ça va? — oui ✓',
      receivedAt: '2026-11-23T09:30:00.000Z',
      from: 'Ada <ada@example.com>',
      to: 'me@example.com',
      cc: null,
      subject: 'Grüße',
      date: 'Mon, 23 Nov 2026 09:30:00 +0000',
      messageIdHeader: '<g-1@example.com>',
      textBody: 'Ça va? — oui ✓',
      htmlBody: '<p>Café crème</p>',
      attachments: [{ filename: 'notes.pdf', mimeType: 'application/pdf', size: 2048, attachmentId: 'ANGjdJ9x' }],
    });
  });

  test('an unknown id: HTTP 404 with Google’s message', async () => {
    const error = await providerError(run('get_message', { messageId: 'does-not-exist' }));
    expect(error.providerStatus).toBe(404);
    expect(error.failure).toEqual({ message: 'Requested entity was not found.', providerCode: 'notFound' });
  });
});

describe('create_draft', () => {
  test('POSTs users/me/drafts with the message in message.raw', async () => {
    const result = await run('create_draft', { to: ['ada@example.com'], subject: 'Draft: plan', body: 'Line one\nLine two' });
    const request = gmail.server.requests[0]!;
    expect(request).toMatchObject({ method: 'POST', path: '/gmail/v1/users/me/drafts' });
    expect(request.headers.authorization).toBe(`Bearer ${gmail.token}`);
    const message = rawOf(request, (body) => (body.message as { raw: string }).raw);
    expect(headersOf(message).get('to')).toBe('ada@example.com');
    // The composer ends the body with a line break, as every MIME part ends.
    expect((await PostalMime.parse(message)).text).toBe('Line one\nLine two\n');
    const draft = gmail.sent[0]!.message;
    expect(result).toEqual({ draftId: `r-${draft.id}`, messageId: draft.id, threadId: draft.threadId });
  });

  test('403 userRateLimitExceeded is a rate-limited failure', async () => {
    gmail.answerNext('drafts', googleError(403, 'User-rate limit exceeded.', 'userRateLimitExceeded'));
    const error = await providerError(run('create_draft', { subject: 'x', body: 'y' }));
    expect(error.providerStatus).toBe(403);
    expect(error.failure).toEqual({ message: 'User-rate limit exceeded.', providerCode: 'userRateLimitExceeded', rateLimited: true });
  });
});

describe('reply_to_email', () => {
  test('reads the original’s headers, then sends in its thread with In-Reply-To, References and Re: subject', async () => {
    const original = seedThread();
    const result = await run('reply_to_email', { messageId: original.id, body: 'Agreed.' });

    const [read, send] = gmail.server.requests;
    expect(read).toMatchObject({ method: 'GET', path: `/gmail/v1/users/me/messages/${original.id}` });
    expect(Object.fromEntries(read!.query)).toEqual({ format: 'metadata' });
    expect(send).toMatchObject({ method: 'POST', path: '/gmail/v1/users/me/messages/send' });
    expect(JSON.parse(send!.text).threadId).toBe(original.threadId);
    const headers = headersOf(rawOf(send!));
    expect(headers.get('to')).toBe('ada@example.com');
    expect(headers.has('cc')).toBe(false);
    expect(headers.get('subject')).toBe('Re: Engine notes');
    expect(headers.get('in-reply-to')).toBe('<note-2@example.com>');
    expect(headers.get('references')).toBe('<note-1@example.com> <note-2@example.com>');
    // The fake joins the thread only when Gmail's threading criteria hold.
    expect(result).toEqual({ id: gmail.sent[0]!.message.id, threadId: original.threadId, labelIds: ['SENT'] });
  });

  test('reply-all from an alias: the profile is not needed, every other recipient is copied once, the alias is From', async () => {
    const original = seedThread();
    await run('reply_to_email', { messageId: original.id, body: 'Thanks all.', replyAll: true, from: 'me@example.com' });
    expect(gmail.server.requests.map((r) => r.path)).toEqual([`/gmail/v1/users/me/messages/${original.id}`, '/gmail/v1/users/me/messages/send']);
    const email = await PostalMime.parse(rawOf(gmail.server.requests[1]!));
    expect(email.from?.address).toBe('me@example.com');
    expect(email.to?.map((a) => a.address)).toEqual(['ada@example.com']);
    expect(email.cc?.map((a) => a.address)).toEqual(['bob@example.com', 'carol@example.com']);
  });

  test('reply-all without an alias asks users.getProfile who the account is', async () => {
    const original = seedThread();
    await run('reply_to_email', { messageId: original.id, body: 'Thanks all.', replyAll: true });
    expect(gmail.server.requests[1]).toMatchObject({ method: 'GET', path: '/gmail/v1/users/me/profile' });
    const email = await PostalMime.parse(rawOf(gmail.server.requests[2]!));
    expect(email.cc?.map((a) => a.address)).toEqual(['bob@example.com', 'carol@example.com']);
  });

  test('an unknown message: the 404 stops the action before anything is sent', async () => {
    const error = await providerError(run('reply_to_email', { messageId: 'gone', body: 'Hello?' }));
    expect(error.providerStatus).toBe(404);
    expect(error.message).toBe('Requested entity was not found.');
    expect(gmail.server.requests).toHaveLength(1);
    expect(gmail.sent).toEqual([]);
  });
});
