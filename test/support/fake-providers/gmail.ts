// A fake Gmail API v1 on loopback, written from Google's reference
// (developers.google.com/gmail/api/reference/rest): users.messages.send /
// list / get, users.drafts.create and users.getProfile. It checks the bearer
// token and the JSON body, decodes `raw` (base64url) and parses the RFC 2822
// message with postal-mime, a parser independent of the composer Heddle uses,
// refusing bare LF line endings (RFC 5322 §2.3) and messages without a valid
// recipient. Threading follows Gmail's documented rule: threadId, In-Reply-To
// or References naming a message of the thread, and the same subject.
// Failures use Google's shape {error: {code, message, errors: [{reason}], status}}.
import PostalMime, { decodeWords, type Email } from 'postal-mime';
import { jsonOf, startFakeServer, type FakeServer, type RecordedRequest, type Reply } from './server.js';

export interface GmailHeader {
  name: string;
  value: string;
}

/** A MessagePart as the API returns it: body data base64url, without its transfer encoding. */
export interface GmailPart {
  partId?: string;
  mimeType: string;
  filename?: string;
  headers?: GmailHeader[];
  body?: { size: number; data?: string; attachmentId?: string };
  parts?: GmailPart[];
}

/** A Message resource as stored by the fake (format=full). */
export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  internalDate: string;
  payload: GmailPart;
}

export interface SentMail {
  /** The decoded RFC 2822 text exactly as Heddle sent it. */
  raw: string;
  /** The same message parsed by postal-mime. */
  email: Email;
  /** The threadId the request named, if any. */
  requestedThreadId?: string;
  message: GmailMessage;
}

export interface GmailFake {
  /** The base URL Heddle is configured with (HEDDLE_PROVIDER_BASE_URLS.gmail). */
  url: string;
  server: FakeServer;
  token: string;
  /** The connected account's address (users.getProfile). */
  address: string;
  messages: Map<string, GmailMessage>;
  /** Every message sent (users.messages.send) or saved as a draft, in order. */
  sent: SentMail[];
  drafts: Map<string, GmailMessage>;
  /** The next request to `route` ('send', 'list', 'get', 'drafts', 'profile') gets this answer instead (rate limits, outages). */
  answerNext(route: Route, reply: Reply): void;
  close(): Promise<void>;
}

type Route = 'send' | 'list' | 'get' | 'drafts' | 'profile';

const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED' };

/** Google's error body. */
export function googleError(code: number, message: string, reason: string): Reply {
  return { status: code, body: { error: { code, message, errors: [{ message, domain: 'global', reason }], status: STATUS[code] ?? 'UNKNOWN' } } };
}

class GmailFailure extends Error {
  constructor(readonly reply: Reply) {
    super('gmail failure');
  }
}
const fail = (code: number, message: string, reason: string): never => {
  throw new GmailFailure(googleError(code, message, reason));
};

/** A text part (UTF-8) as the API shows it. */
export function textPart(mimeType: 'text/plain' | 'text/html', text: string, charset = 'UTF-8'): GmailPart {
  const bytes = charset.toLowerCase() === 'utf-8' ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
  return { mimeType, headers: [{ name: 'Content-Type', value: `${mimeType}; charset="${charset}"` }], body: { size: bytes.length, data: bytes.toString('base64url') } };
}

const subjectKey = (subject: string) => subject.replace(/^(re|fwd?):\s*/i, '').trim().toLowerCase();
const headerValue = (message: GmailMessage, name: string) => message.payload.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

export async function startGmailFake(options: { token?: string; address?: string } = {}): Promise<GmailFake> {
  const token = options.token ?? 'ya29.fake-gmail-token';
  const overrides = new Map<Route, Reply>();
  let sequence = 0;
  const nextId = () => (0x18c0000000000000n + BigInt(++sequence)).toString(16);

  /** Decodes and parses `raw`; the checks Gmail makes before it accepts a message. */
  async function parseRaw(raw: unknown): Promise<{ text: string; email: Email }> {
    if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(raw)) fail(400, "Invalid value for ByteString: 'raw' is not base64url", 'invalidArgument');
    const text = Buffer.from(raw as string, 'base64url').toString('utf8');
    if (/(^|[^\r])\n/.test(text)) fail(400, 'Invalid raw message: lines must end in CRLF', 'invalidArgument');
    const email = await PostalMime.parse(text);
    return { text, email };
  }

  function recipients(email: Email, required: boolean): void {
    const all = [...(email.to ?? []), ...(email.cc ?? []), ...(email.bcc ?? [])].flatMap((a) => ('group' in a && a.group ? a.group : [a]));
    if (required && all.length === 0) fail(400, 'Recipient address required', 'invalidArgument');
    const invalid = all.find((a) => !('address' in a) || !/^[^\s@]+@[^\s@]+$/.test(a.address ?? ''));
    if (invalid) fail(400, 'Invalid To header', 'invalidArgument');
  }

  /** The thread a new message joins: the requested one when Gmail's threading criteria hold, else a new one. */
  function threadFor(email: Email, requested: string | undefined, id: string): string {
    if (requested === undefined) return id;
    const thread = [...fake.messages.values()].filter((m) => m.threadId === requested);
    if (thread.length === 0) fail(404, 'Requested entity was not found.', 'notFound');
    const cited = `${email.inReplyTo ?? ''} ${email.references ?? ''}`;
    const joins = thread.some((m) => {
      const messageId = headerValue(m, 'Message-ID');
      return messageId !== undefined && cited.includes(messageId) && subjectKey(headerValue(m, 'Subject') ?? '') === subjectKey(email.subject ?? '');
    });
    return joins ? requested! : id;
  }

  function store(email: Email, threadId: string, id: string, labelIds: string[]): GmailMessage {
    const parts = [email.text !== undefined ? textPart('text/plain', email.text) : undefined, email.html !== undefined ? textPart('text/html', email.html) : undefined].filter(
      (p): p is GmailPart => p !== undefined,
    );
    const headers = email.headers.map((h) => ({ name: h.originalKey, value: decodeWords(h.value) }));
    const payload: GmailPart = parts.length === 1 ? { ...parts[0]!, headers } : { mimeType: 'multipart/alternative', headers, body: { size: 0 }, parts };
    return { id, threadId, labelIds, snippet: (email.text ?? '').slice(0, 100), internalDate: String(Date.now()), payload };
  }

  function authorized(request: RecordedRequest): boolean {
    return request.headers.authorization === `Bearer ${token}`;
  }

  async function route(request: RecordedRequest): Promise<Reply> {
    const { method, path, query } = request;
    const base = '/gmail/v1/users/me';
    if (method === 'POST' && path === `${base}/messages/send`) {
      const body = jsonOf(request) as { raw?: unknown; threadId?: string };
      const { text, email } = await parseRaw(body.raw);
      recipients(email, true);
      const id = nextId();
      const message = store(email, threadFor(email, body.threadId, id), id, ['SENT']);
      fake.messages.set(id, message);
      fake.sent.push({ raw: text, email, requestedThreadId: body.threadId, message });
      return { body: { id, threadId: message.threadId, labelIds: message.labelIds } };
    }
    if (method === 'POST' && path === `${base}/drafts`) {
      const body = jsonOf(request) as { message?: { raw?: unknown; threadId?: string } };
      const { text, email } = await parseRaw(body.message?.raw);
      recipients(email, false);
      const id = nextId();
      const message = store(email, id, id, ['DRAFT']);
      const draftId = `r-${id}`;
      fake.drafts.set(draftId, message);
      fake.sent.push({ raw: text, email, message });
      return { body: { id: draftId, message: { id, threadId: message.threadId, labelIds: message.labelIds } } };
    }
    if (method === 'GET' && path === `${base}/messages`) {
      const labelIds = query.getAll('labelIds');
      const maxResults = Number(query.get('maxResults') ?? 100);
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 500) fail(400, 'Invalid maxResults', 'invalidArgument');
      const from = /(?:^|\s)from:(\S+)/.exec(query.get('q') ?? '')?.[1]?.toLowerCase();
      const matching = [...fake.messages.values()]
        .filter((m) => labelIds.every((label) => m.labelIds.includes(label)))
        .filter((m) => from === undefined || (headerValue(m, 'From') ?? '').toLowerCase().includes(from))
        .sort((a, b) => Number(b.internalDate) - Number(a.internalDate));
      const offset = Number(query.get('pageToken') ?? 0);
      const page = matching.slice(offset, offset + maxResults);
      const more = offset + maxResults < matching.length;
      // Gmail leaves `messages` out of an empty page.
      return {
        body: {
          ...(page.length ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
          ...(more ? { nextPageToken: String(offset + maxResults) } : {}),
          resultSizeEstimate: matching.length,
        },
      };
    }
    const get = new RegExp(`^${base}/messages/([^/]+)$`).exec(path);
    if (method === 'GET' && get) {
      const message = fake.messages.get(decodeURIComponent(get[1]!)) ?? fail(404, 'Requested entity was not found.', 'notFound');
      const format = query.get('format') ?? 'full';
      if (format === 'full') return { body: message };
      if (format === 'metadata') return { body: { ...message, payload: { mimeType: message.payload.mimeType, headers: message.payload.headers } } };
      return fail(400, `Invalid value at 'format' (${format})`, 'invalidArgument');
    }
    if (method === 'GET' && path === `${base}/profile`) {
      return { body: { emailAddress: fake.address, messagesTotal: fake.messages.size, threadsTotal: fake.messages.size, historyId: '1000' } };
    }
    return googleError(404, 'Not Found', 'notFound');
  }

  const routeName = (request: RecordedRequest): Route | undefined => {
    if (request.path.endsWith('/messages/send')) return 'send';
    if (request.path.endsWith('/drafts')) return 'drafts';
    if (request.path.endsWith('/messages')) return 'list';
    if (request.path.endsWith('/profile')) return 'profile';
    if (request.path.includes('/messages/')) return 'get';
    return undefined;
  };

  const server = await startFakeServer(async (request) => {
    const name = routeName(request);
    const override = name && overrides.get(name);
    if (override) {
      overrides.delete(name);
      return override;
    }
    if (!authorized(request)) {
      return googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'authError');
    }
    try {
      return await route(request);
    } catch (error) {
      if (error instanceof GmailFailure) return error.reply;
      throw error;
    }
  });

  const fake: GmailFake = {
    url: server.url,
    server,
    token,
    address: options.address ?? 'me@example.com',
    messages: new Map(),
    sent: [],
    drafts: new Map(),
    answerNext: (name, reply) => void overrides.set(name, reply),
    close: () => server.close(),
  };
  return fake;
}

/** A received message for the fake's mailbox, with its headers and MIME parts as Gmail shows them. */
export function receivedMessage(fields: {
  id: string;
  threadId?: string;
  labelIds?: string[];
  internalDate?: number;
  headers: Record<string, string>;
  parts: GmailPart[];
}): GmailMessage {
  const headers = Object.entries(fields.headers).map(([name, value]) => ({ name, value }));
  const payload: GmailPart =
    fields.parts.length === 1
      ? { ...fields.parts[0]!, partId: '', headers: [...headers, ...(fields.parts[0]!.headers ?? [])] }
      : { partId: '', mimeType: 'multipart/mixed', headers, body: { size: 0 }, parts: fields.parts.map((p, i) => ({ ...p, partId: String(i) })) };
  const firstText = (parts: GmailPart[]): string | undefined =>
    parts.map((p) => (p.mimeType === 'text/plain' ? p.body?.data : firstText(p.parts ?? []))).find((d) => d !== undefined);
  const text = firstText(fields.parts);
  return {
    id: fields.id,
    threadId: fields.threadId ?? fields.id,
    labelIds: fields.labelIds ?? ['INBOX', 'UNREAD'],
    snippet: text ? Buffer.from(text, 'base64url').toString('utf8').slice(0, 100) : '',
    internalDate: String(fields.internalDate ?? Date.now()),
    payload,
  };
}
