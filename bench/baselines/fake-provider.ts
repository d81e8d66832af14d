// W7's provider: a loopback stand-in for Slack's chat.postMessage, the same
// for Heddle and the raw baseline. It checks the bearer token and answers
// Slack's success shape with a fixed ts, so every answer is the same bytes.
import { createServer } from 'node:http';

export const FAKE_PROVIDER_TOKEN = 'bench-secret';
const ANSWER = JSON.stringify({ ok: true, channel: 'C0BENCH', ts: '1700000000.000100', message: { type: 'message', text: 'bench', ts: '1700000000.000100' } });

const server = createServer((req, res) => {
  if (req.url === '/readyz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  // Drain the body as a real server would before answering.
  req.resume();
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/api/chat.postMessage') return void res.writeHead(404).end();
    const authorized = req.headers.authorization === `Bearer ${FAKE_PROVIDER_TOKEN}`;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(authorized ? ANSWER : '{"ok":false,"error":"invalid_auth"}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
