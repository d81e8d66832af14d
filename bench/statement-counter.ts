// Counts the SQL statements a process sends to PostgreSQL: a TCP proxy in
// front of the server that reads the frontend side of the wire protocol and
// counts Execute ('E', extended protocol: one per statement run) and Query
// ('Q', simple protocol) messages. It sees every statement of the process,
// whatever issued it (Prisma, $queryRaw, transactions' BEGIN/COMMIT), and
// needs nothing from the server (no pg_stat_statements, no log parsing).
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/** Startup-phase requests that are not followed by typed messages yet. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export interface StatementCounter {
  /** postgresql://… through the proxy, for the counted process's DATABASE_URL. */
  url: string;
  statements: number;
  close(): Promise<void>;
}

export async function startStatementCounter(databaseUrl: string): Promise<StatementCounter> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  const counter = { statements: 0 };

  const server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let buffered = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      // Typed messages: 1 byte type, 4 bytes length (itself included); startup ones have no type byte.
      for (;;) {
        const header = started ? 5 : 4;
        if (buffered.length < header) break;
        const length = started ? buffered.readUInt32BE(1) + 1 : buffered.readUInt32BE(0);
        if (buffered.length < length) break;
        if (started) {
          const type = String.fromCharCode(buffered[0]!);
          if (type === 'E' || type === 'Q') counter.statements++;
        } else {
          const code = buffered.readUInt32BE(4);
          started = code !== SSL_REQUEST && code !== GSSENC_REQUEST;
        }
        buffered = buffered.subarray(length);
      }
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) socket.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);

  return {
    url: url.toString(),
    get statements() {
      return counter.statements;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
