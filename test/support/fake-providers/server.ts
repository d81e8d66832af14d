// A loopback HTTP server for fake providers: it records every request (method,
// path, query, headers, raw body) and answers through the fake's handler.
// Fakes check what the provider's documentation requires and answer its
// documented shapes; tests assert on the recorded requests.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8 text. */
  text: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON (content-type application/json unless headers say otherwise); strings as text/plain. */
  body?: unknown;
}

export type Handler = (request: RecordedRequest, server: FakeServer) => Reply | Promise<Reply>;

export interface FakeServer {
  /** http://127.0.0.1:{port}, no trailing slash. */
  url: string;
  requests: RecordedRequest[];
  /** Resolves once `count` requests have arrived (in all, since start). */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeServer(handle: Handler): Promise<FakeServer> {
  const waiters: { count: number; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', fake.url);
      const body = Buffer.concat(chunks);
      const request: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, text: body.toString('utf8') };
      fake.requests.push(request);
      for (const waiter of waiters.filter((w) => fake.requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      Promise.resolve()
        .then(() => handle(request, fake))
        .then(
          (reply) => send(res, reply),
          (error: Error) => send(res, { status: 500, body: `fake provider failed: ${error.message}` }),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: FakeServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    received: (count) =>
      fake.requests.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const headers = { ...reply.headers };
  let body: string | undefined;
  if (typeof reply.body === 'string') {
    body = reply.body;
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    body = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(reply.status ?? 200, headers).end(body);
}

/** The request's body as a form (application/x-www-form-urlencoded), or a failure naming what was sent instead. */
export function formOf(request: RecordedRequest): URLSearchParams {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) throw new Error(`expected a form body, got content-type ${type || 'none'}`);
  return new URLSearchParams(request.text);
}

/** The request's body as JSON (application/json), or a failure naming what was sent instead. */
export function jsonOf(request: RecordedRequest): unknown {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/.test(type)) throw new Error(`expected a JSON body, got content-type ${type || 'none'}`);
  return JSON.parse(request.text);
}
