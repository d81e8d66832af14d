// A real OAuth2 token endpoint on loopback for refresh tests: it records every
// form it receives and answers what the test tells it to.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenReply {
  status?: number;
  body: Record<string, unknown> | string;
  contentType?: string;
  /** Wait this long before answering (to make concurrent callers overlap, or to time out). */
  delayMs?: number;
}

export interface TokenServer {
  url: string;
  /** The forms received, in order. */
  calls: URLSearchParams[];
  reply: (form: URLSearchParams) => TokenReply;
  close(): Promise<void>;
}

export async function startTokenServer(): Promise<TokenServer> {
  const token: Omit<TokenServer, 'url' | 'close'> = {
    calls: [],
    reply: () => ({ body: { access_token: 'fresh-access-token', token_type: 'Bearer', expires_in: 3600 } }),
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(raw);
      token.calls.push(form);
      const answer = token.reply(form);
      setTimeout(() => {
        if (res.destroyed) return;
        const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json' }).end(body);
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(token, {
    url: `http://127.0.0.1:${port}/token`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
