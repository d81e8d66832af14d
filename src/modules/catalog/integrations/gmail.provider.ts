// Gmail API v1 (https://developers.google.com/gmail/api/reference/rest).
// Messages are sent as RFC 2822 documents, base64url-encoded in `raw`;
// nodemailer's composer writes them (RFC 2047 headers, CRLF, transfer encodings).
import addressparser, { type Address } from 'nodemailer/lib/addressparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { integer, listOf, nullable, output, string, stringList } from '../json-schema.js';
import { bearer, objectBody } from '../provider-kit.js';
import { ProviderCallError, type Provider, type ProviderAnswer, type ProviderFailure, type Send } from '../provider.js';

const MESSAGES = '/gmail/v1/users/me/messages';

interface Header {
  name: string;
  value: string;
}

/** A MessagePart of the Gmail API: body data is base64url, already free of its transfer encoding. */
interface MessagePart {
  mimeType?: string;
  filename?: string;
  headers?: Header[];
  body?: { data?: string; size?: number; attachmentId?: string };
  parts?: MessagePart[];
}

interface GmailMessage {
  id: string;
  threadId: string;
  labelIds?: string[];
  snippet?: string;
  internalDate?: string;
  payload?: MessagePart;
}

interface Mail {
  from?: string;
  to?: string[];
  cc?: string[];
  subject: string;
  text: string;
  html?: string;
  inReplyTo?: string;
  references?: string;
}

/** The message as base64url RFC 2822 text. */
async function encodeMessage(mail: Mail): Promise<string> {
  const composer = new MailComposer({
    ...mail,
    // CRLF everywhere (RFC 5322 §2.1), and the composer never reads files or URLs.
    newline: 'windows',
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const message = await composer.compile().build();
  return message.toString('base64url');
}

const sentMessage = output({
  id: string('Id of the sent message.'),
  threadId: string('Id of its thread.'),
  labelIds: stringList('Labels Gmail gave it (SENT).'),
});

function toSent(body: unknown) {
  const message = body as GmailMessage;
  return { id: message.id, threadId: message.threadId, labelIds: message.labelIds ?? [] };
}

function headerOf(headers: Header[] | undefined, name: string): string | null {
  const wanted = name.toLowerCase();
  return headers?.find((h) => h.name.toLowerCase() === wanted)?.value ?? null;
}

function addresses(value: string | null): string[] {
  if (!value) return [];
  const flatten = (list: Address[]): string[] => list.flatMap((a) => (a.group ? flatten(a.group) : a.address ? [a.address] : []));
  return flatten(addressparser(value));
}

/** A part's text in the charset its Content-Type names (UTF-8 when it names none or one Node does not know). */
function partText(part: MessagePart): string {
  const bytes = Buffer.from(part.body?.data ?? '', 'base64url');
  const charset = /charset="?([^";\s]+)/i.exec(headerOf(part.headers, 'content-type') ?? '')?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

interface Attachment {
  filename: string;
  mimeType: string;
  size: number;
  attachmentId: string | null;
}

/** The first plain-text and HTML bodies in the MIME tree, and the attachments' descriptions. */
function readParts(root: MessagePart | undefined) {
  let text: string | null = null;
  let html: string | null = null;
  const attachments: Attachment[] = [];
  const visit = (part: MessagePart) => {
    if (part.filename) {
      attachments.push({ filename: part.filename, mimeType: part.mimeType ?? 'application/octet-stream', size: part.body?.size ?? 0, attachmentId: part.body?.attachmentId ?? null });
    } else if (part.mimeType === 'text/plain' && text === null && part.body?.data !== undefined) {
      text = partText(part);
    } else if (part.mimeType === 'text/html' && html === null && part.body?.data !== undefined) {
      html = partText(part);
    }
    part.parts?.forEach(visit);
  };
  if (root) visit(root);
  return { text, html, attachments };
}

/** Google's error shape: {error: {code, message, status, errors: [{reason, domain, message}]}}. */
function failureOf(answer: ProviderAnswer): ProviderFailure | null {
  if (answer.status < 400) return null;
  const error = objectBody(answer.body)?.error as { message?: string; status?: string; errors?: { reason?: string }[] } | undefined;
  const reason = error?.errors?.[0]?.reason;
  // 403 with these reasons is Gmail's per-user or per-project rate limit; a daily quota is not worth retrying.
  const rateLimited = answer.status === 429 || (answer.status === 403 && (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded'));
  return {
    message: error?.message ?? `Gmail answered HTTP ${answer.status}`,
    ...(reason ?? error?.status ? { providerCode: reason ?? error?.status } : {}),
    ...(rateLimited ? { rateLimited } : {}),
  };
}

async function getMessage(send: Send, id: string, format: 'full' | 'metadata'): Promise<GmailMessage> {
  const answer = await send({ method: 'GET', path: `${MESSAGES}/${encodeURIComponent(id)}`, query: { format } });
  return answer.body as GmailMessage;
}

/** The reply's recipients: the sender (or Reply-To), and for reply-all every other recipient except the account itself. */
async function replyRecipients(send: Send, headers: Header[] | undefined, replyAll: boolean, from: string | undefined) {
  const to = addresses(headerOf(headers, 'reply-to') ?? headerOf(headers, 'from'));
  if (!replyAll) return { to, cc: [] };
  const self = from ?? ((await send({ method: 'GET', path: '/gmail/v1/users/me/profile' })).body as { emailAddress: string }).emailAddress;
  const seen = new Set([self, ...to].map((a) => a.toLowerCase()));
  const cc = [...addresses(headerOf(headers, 'to')), ...addresses(headerOf(headers, 'cc'))].filter((address) => {
    const key = address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { to, cc };
}

export const gmailProvider: Provider = {
  baseUrl: 'https://gmail.googleapis.com',
  authorize: bearer,
  failureOf,
  actions: {
    send_email: {
      outputSchema: sentMessage,
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const raw = await encodeMessage({
          to: input.to as string[],
          cc: input.cc as string[] | undefined,
          subject: input.subject as string,
          text: input.body as string,
          html: input.htmlBody as string | undefined,
        });
        return toSent((await send({ method: 'POST', path: `${MESSAGES}/send`, body: { json: { raw } } })).body);
      },
    },

    list_messages: {
      outputSchema: output({
        messages: listOf(
          'Matching messages, newest first (ids only: read one with get_message).',
          output({ id: string('Id of the message.'), threadId: string('Id of its thread.') }),
        ),
        nextPageToken: nullable(string('Pass as pageToken for the next page; null on the last page.')),
        resultSizeEstimate: integer('Gmail’s estimate of the total number of matches.'),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const answer = await send({
          method: 'GET',
          path: MESSAGES,
          // Gmail repeats the parameter for each label (labelIds=A&labelIds=B).
          query: {
            q: input.query as string | undefined,
            labelIds: input.labelIds as string[] | undefined,
            maxResults: input.limit as number | undefined,
            pageToken: input.pageToken as string | undefined,
          },
        });
        const body = answer.body as { messages?: { id: string; threadId: string }[]; nextPageToken?: string; resultSizeEstimate?: number };
        return {
          messages: (body.messages ?? []).map(({ id, threadId }) => ({ id, threadId })),
          nextPageToken: body.nextPageToken ?? null,
          resultSizeEstimate: body.resultSizeEstimate ?? 0,
        };
      },
    },

    get_message: {
      outputSchema: output({
        id: string('Id of the message.'),
        threadId: string('Id of its thread.'),
        labelIds: stringList('Its labels.'),
        snippet: string('A short part of the text.'),
        receivedAt: nullable(string('When Gmail received it.', { format: 'date-time' })),
        from: nullable(string('The From header.')),
        to: nullable(string('The To header.')),
        cc: nullable(string('The Cc header.')),
        subject: nullable(string('The Subject header.')),
        date: nullable(string('The Date header.')),
        messageIdHeader: nullable(string('The RFC 2822 Message-ID header.')),
        textBody: nullable(string('The plain-text body.')),
        htmlBody: nullable(string('The HTML body.')),
        attachments: listOf(
          'Attached files (not downloaded).',
          output({
            filename: string('File name.'),
            mimeType: string('Media type.'),
            size: integer('Size in bytes.'),
            attachmentId: nullable(string('Id to download it with.')),
          }),
        ),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const message = await getMessage(send, input.messageId as string, 'full');
        const headers = message.payload?.headers;
        const { text, html, attachments } = readParts(message.payload);
        return {
          id: message.id,
          threadId: message.threadId,
          labelIds: message.labelIds ?? [],
          snippet: message.snippet ?? '',
          receivedAt: message.internalDate ? new Date(Number(message.internalDate)).toISOString() : null,
          from: headerOf(headers, 'from'),
          to: headerOf(headers, 'to'),
          cc: headerOf(headers, 'cc'),
          subject: headerOf(headers, 'subject'),
          date: headerOf(headers, 'date'),
          messageIdHeader: headerOf(headers, 'message-id'),
          textBody: text,
          htmlBody: html,
          attachments,
        };
      },
    },

    create_draft: {
      outputSchema: output({
        draftId: string('Id of the draft.'),
        messageId: string('Id of the draft’s message.'),
        threadId: string('Id of its thread.'),
      }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const raw = await encodeMessage({ to: input.to as string[] | undefined, subject: input.subject as string, text: input.body as string });
        const draft = (await send({ method: 'POST', path: '/gmail/v1/users/me/drafts', body: { json: { message: { raw } } } })).body as {
          id: string;
          message: GmailMessage;
        };
        return { draftId: draft.id, messageId: draft.message.id, threadId: draft.message.threadId };
      },
    },

    reply_to_email: {
      outputSchema: sentMessage,
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const original = await getMessage(send, input.messageId as string, 'metadata');
        const headers = original.payload?.headers;
        const messageId = headerOf(headers, 'message-id');
        if (!messageId) throw new ProviderCallError({ message: `message ${original.id} has no Message-ID header to reply to` }, null);
        const from = input.from as string | undefined;
        const { to, cc } = await replyRecipients(send, headers, input.replyAll === true, from);
        const subject = headerOf(headers, 'subject') ?? '';
        // Gmail threads a reply when threadId, In-Reply-To/References (RFC 2822 §3.6.4) and the subject agree.
        const raw = await encodeMessage({
          from,
          to,
          cc,
          subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`,
          text: input.body as string,
          inReplyTo: messageId,
          references: [headerOf(headers, 'references') ?? headerOf(headers, 'in-reply-to'), messageId].filter(Boolean).join(' '),
        });
        return toSent((await send({ method: 'POST', path: `${MESSAGES}/send`, body: { json: { raw, threadId: original.threadId } } })).body);
      },
    },
  },
};
