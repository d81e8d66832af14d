// A fake Slack Web API on loopback, written from Slack's method reference
// (docs.slack.dev/reference/methods): each method checks the HTTP method and
// body encoding Slack documents for it, the bearer token, and its arguments,
// and answers Slack's shapes: HTTP 200 with ok:true and the method's fields,
// or HTTP 200 with ok:false and an `error` code. The external upload flow
// hands out upload URLs on a second server (files.slack.com is another host).
import { formOf, jsonOf, startFakeServer, type FakeServer, type RecordedRequest, type Reply } from './server.js';

export interface SlackChannel {
  id: string;
  name: string;
  is_private: boolean;
  is_archived: boolean;
  members: Set<string>;
  topic: string;
}

export interface SlackUser {
  id: string;
  name: string;
  real_name: string;
  email: string;
  is_bot: boolean;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  thread_ts?: string;
  reactions: Set<string>;
}

export interface SlackFake {
  /** The base URL Heddle is configured with (HEDDLE_PROVIDER_BASE_URLS.slack). */
  apiUrl: string;
  api: FakeServer;
  /** The upload host (files.slack.com). */
  files: FakeServer;
  token: string;
  botUserId: string;
  channels: SlackChannel[];
  users: SlackUser[];
  messages: SlackMessage[];
  /** Uploads by file id: reserved by getUploadURLExternal, bytes set once posted, shared once completed. */
  uploads: Map<string, { filename: string; length: number; bytes?: Buffer; title?: string; channel?: string }>;
  /** The next call to `method` gets this answer instead (rate limits, outages). */
  answerNext(method: string, reply: Reply): void;
  close(): Promise<void>;
}

type Args = Record<string, unknown>;
type Method = { http: 'GET' | 'POST'; encodings: ('query' | 'form' | 'json')[]; handle: (args: Args) => Args };

const failure = (error: string, extra: Args = {}): never => {
  throw Object.assign(new Error(error), { slack: { ok: false, error, ...extra } });
};

export async function startSlackFake(options: { token?: string } = {}): Promise<SlackFake> {
  const token = options.token ?? 'xoxb-fake-slack-token';
  const botUserId = 'U0BOT';
  const overrides = new Map<string, Reply>();
  let sequence = 0;
  const nextTs = () => `1700000${String(++sequence).padStart(3, '0')}.000${String(sequence).padStart(3, '0')}`;

  const files = await startFakeServer((request) => {
    const id = request.path.match(/^\/upload\/v1\/(F[A-Z0-9]+)$/)?.[1];
    const upload = id ? fake.uploads.get(id) : undefined;
    if (request.method !== 'POST' || !upload) return { status: 404, body: 'Not Found' };
    if (request.body.length !== upload.length) return { status: 400, body: `length ${request.body.length} does not match the reserved ${upload.length}` };
    upload.bytes = request.body;
    return { status: 200, body: `OK - ${request.body.length}` };
  });

  const channelOf = (value: unknown): SlackChannel => {
    const wanted = String(value ?? '');
    if (!wanted) failure('channel_not_found');
    const channel = fake.channels.find((c) => c.id === wanted || `#${c.name}` === wanted || c.name === wanted);
    return channel ?? failure('channel_not_found');
  };
  const publicChannel = (c: SlackChannel) => ({
    id: c.id,
    name: c.name,
    is_channel: true,
    is_private: c.is_private,
    is_archived: c.is_archived,
    is_member: c.members.has(botUserId),
    num_members: c.members.size,
    topic: { value: c.topic, creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    created: 1_600_000_000,
  });
  const publicUser = (u: SlackUser) => ({
    id: u.id,
    team_id: 'T0TEAM',
    name: u.name,
    deleted: false,
    real_name: u.real_name,
    tz: 'Europe/Paris',
    is_bot: u.is_bot,
    profile: { real_name: u.real_name, display_name: u.name, email: u.email },
  });

  const methods: Record<string, Method> = {
    'chat.postMessage': {
      http: 'POST',
      encodings: ['json', 'form'],
      handle(args) {
        const channel = channelOf(args.channel);
        if (!channel.members.has(botUserId)) failure('not_in_channel');
        if (typeof args.text !== 'string' || !args.text) failure('no_text');
        const message: SlackMessage = { channel: channel.id, ts: nextTs(), text: String(args.text), reactions: new Set() };
        if (args.thread_ts !== undefined) {
          if (!fake.messages.some((m) => m.channel === channel.id && m.ts === args.thread_ts)) failure('thread_not_found');
          message.thread_ts = String(args.thread_ts);
        }
        fake.messages.push(message);
        return {
          channel: channel.id,
          ts: message.ts,
          message: { type: 'message', user: botUserId, text: message.text, ts: message.ts, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) },
        };
      },
    },
    'conversations.list': {
      http: 'GET',
      encodings: ['query'],
      handle(args) {
        const types = String(args.types ?? 'public_channel').split(',');
        const limit = Number(args.limit ?? 100);
        const offset = args.cursor ? Number(Buffer.from(String(args.cursor), 'base64').toString().replace(/^offset:/, '')) : 0;
        if (!Number.isInteger(offset) || offset < 0) failure('invalid_cursor');
        const visible = fake.channels.filter((c) => types.includes(c.is_private ? 'private_channel' : 'public_channel') && (!c.is_private || c.members.has(botUserId)));
        const page = visible.slice(offset, offset + limit);
        const more = offset + limit < visible.length;
        return {
          channels: page.map(publicChannel),
          response_metadata: { next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' },
        };
      },
    },
    'reactions.add': {
      http: 'POST',
      encodings: ['json', 'form'],
      handle(args) {
        const channel = channelOf(args.channel);
        const message = fake.messages.find((m) => m.channel === channel.id && m.ts === args.timestamp) ?? failure('message_not_found');
        if (!['thumbsup', 'tada', 'eyes', 'white_check_mark'].includes(String(args.name))) failure('invalid_name');
        if (message.reactions.has(String(args.name))) failure('already_reacted');
        message.reactions.add(String(args.name));
        return {};
      },
    },
    'files.getUploadURLExternal': {
      http: 'POST',
      encodings: ['form'],
      handle(args) {
        const length = Number(args.length);
        if (!args.filename) failure('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: filename'] } });
        if (!Number.isInteger(length) || length < 1) failure('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: length'] } });
        const fileId = `F0${String(fake.uploads.size + 1).padStart(6, '0')}`;
        fake.uploads.set(fileId, { filename: String(args.filename), length });
        return { upload_url: `${files.url}/upload/v1/${fileId}`, file_id: fileId };
      },
    },
    'files.completeUploadExternal': {
      http: 'POST',
      encodings: ['json', 'form'],
      handle(args) {
        const parsed: unknown = typeof args.files === 'string' ? JSON.parse(args.files) : args.files;
        const list = Array.isArray(parsed) && parsed.length > 0 ? (parsed as { id: string; title?: string }[]) : failure('invalid_arguments');
        const channel = args.channel_id === undefined ? undefined : channelOf(args.channel_id);
        if (channel && !channel.members.has(botUserId)) failure('not_in_channel');
        const done = list.map(({ id, title }) => {
          const upload = fake.uploads.get(id);
          if (!upload?.bytes) failure('file_not_found');
          Object.assign(upload!, { title: title ?? upload!.filename, channel: channel?.id });
          return { id, title: title ?? upload!.filename, name: upload!.filename, permalink: `https://fake.slack.com/files/${botUserId}/${id}/${upload!.filename}` };
        });
        return { files: done };
      },
    },
    'users.lookupByEmail': {
      http: 'GET',
      encodings: ['query'],
      handle(args) {
        const user = fake.users.find((u) => u.email === args.email) ?? failure('users_not_found');
        return { user: publicUser(user) };
      },
    },
    'conversations.invite': {
      http: 'POST',
      encodings: ['json', 'form'],
      handle(args) {
        const channel = channelOf(args.channel);
        if (!channel.members.has(botUserId)) failure('not_in_channel');
        const ids = typeof args.users === 'string' ? args.users.split(',') : failure('invalid_arguments');
        for (const id of ids) {
          if (!fake.users.some((u) => u.id === id)) failure('user_not_found');
          if (channel.members.has(id)) failure('already_in_channel', { errors: [{ user: id, ok: false, error: 'already_in_channel' }] });
        }
        for (const id of ids) channel.members.add(id);
        return { channel: publicChannel(channel) };
      },
    },
  };

  /** Slack reads arguments from the query (GET), a form, or JSON (POST with application/json only). */
  function argsOf(request: RecordedRequest, method: Method): Args | undefined {
    const type = request.headers['content-type'] ?? '';
    if (request.method === 'GET') return method.encodings.includes('query') ? Object.fromEntries(request.query) : undefined;
    if (type.startsWith('application/json')) return method.encodings.includes('json') ? (jsonOf(request) as Args) : undefined;
    if (type.startsWith('application/x-www-form-urlencoded')) return method.encodings.includes('form') ? Object.fromEntries(formOf(request)) : undefined;
    return undefined;
  }

  const api = await startFakeServer((request) => {
    const name = request.path.replace(/^\/api\//, '');
    const override = overrides.get(name);
    if (override) {
      overrides.delete(name);
      return override;
    }
    const method = methods[name];
    if (!request.path.startsWith('/api/') || !method) return { body: { ok: false, error: 'unknown_method', req_method: name } };
    const authorization = request.headers.authorization;
    if (!authorization) return { body: { ok: false, error: 'not_authed' } };
    if (authorization !== `Bearer ${token}`) return { body: { ok: false, error: 'invalid_auth' } };
    if (request.method !== method.http) return { body: { ok: false, error: 'invalid_request', detail: `${name} is ${method.http}` } };
    const args = argsOf(request, method);
    if (!args) return { body: { ok: false, error: 'invalid_form_data' } };
    try {
      return { body: { ok: true, ...method.handle(args) } };
    } catch (error) {
      const slack = (error as { slack?: Args }).slack;
      if (slack) return { body: slack };
      throw error;
    }
  });

  const fake: SlackFake = {
    apiUrl: `${api.url}/api`,
    api,
    files,
    token,
    botUserId,
    channels: [
      { id: 'C0GENERAL', name: 'general', is_private: false, is_archived: false, members: new Set([botUserId, 'U0ADA']), topic: 'Company-wide' },
      { id: 'C0RANDOM', name: 'random', is_private: false, is_archived: false, members: new Set(['U0ADA']), topic: '' },
      { id: 'G0SECRET', name: 'secret', is_private: true, is_archived: false, members: new Set([botUserId]), topic: 'Shh' },
      { id: 'C0OLD', name: 'old-news', is_private: false, is_archived: true, members: new Set(), topic: '' },
    ],
    users: [
      { id: 'U0ADA', name: 'ada', real_name: 'Ada Lovelace', email: 'ada@example.com', is_bot: false },
      { id: 'U0BOB', name: 'bob', real_name: 'Bob Babbage', email: 'bob@example.com', is_bot: false },
    ],
    messages: [{ channel: 'C0GENERAL', ts: '1700000000.000100', text: 'Deploy finished', reactions: new Set() }],
    uploads: new Map(),
    answerNext: (method, reply) => overrides.set(method, reply),
    close: async () => {
      await api.close();
      await files.close();
    },
  };
  return fake;
}
