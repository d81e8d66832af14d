// The subscriber harness: a process of its own (started by fanout.ts) holding
// many websocket subscribers. It speaks graphql-ws (graphql-transport-ws) by
// hand over `ws`, or just listens (the raw ws baseline), so both servers'
// messages cost the harness the same: one JSON.parse each. For every `next`
// it records delivery latency: receive time minus the event's occurredAt.
import WebSocket from 'ws';
import { percentile } from './stats.js';

export type HarnessCommand =
  | {
      cmd: 'open';
      url: string;
      count: number;
      protocol: 'graphql-ws' | 'raw';
      authorization?: string;
      query?: string;
      variables?: Record<string, unknown>;
    }
  | { cmd: 'reset' }
  /** Counts only (cheap enough to poll while events arrive). */
  | { cmd: 'progress' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export interface HarnessProgress {
  subscribers: number;
  /** Subscribers that received at least one event since the last reset. */
  heard: number;
  deliveries: number;
  /** Date.now() of the last delivery. */
  lastAt: number;
}

export interface HarnessReport extends HarnessProgress {
  p50: number;
  p99: number;
  max: number;
  /** error/complete messages and sockets closed by the server. */
  failures: number;
}

/** Handshakes in flight at once while opening. */
const OPENING_CONCURRENCY = 100;

interface Subscriber {
  socket: WebSocket;
  heard: boolean;
}

let subscribers: Subscriber[] = [];
let latencies: number[] = [];
let deliveries = 0;
let lastAt = 0;
let failures = 0;

function record(subscriber: Subscriber, message: { payload?: { data?: { workspaceConfigChanged?: { occurredAt: string } } } }): void {
  const now = Date.now();
  const event = message.payload?.data?.workspaceConfigChanged;
  if (!event) {
    failures++;
    return;
  }
  latencies.push(now - Date.parse(event.occurredAt));
  deliveries++;
  lastAt = now;
  subscriber.heard = true;
}

function openOne(command: Extract<HarnessCommand, { cmd: 'open' }>): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const graphqlWs = command.protocol === 'graphql-ws';
    const socket = new WebSocket(command.url, graphqlWs ? 'graphql-transport-ws' : undefined);
    const subscriber: Subscriber = { socket, heard: false };
    let ready = false;
    const done = () => {
      ready = true;
      resolve(subscriber);
    };
    socket.on('open', () => {
      if (graphqlWs) socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: command.authorization } }));
      else done();
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      switch (message.type) {
        case 'connection_ack':
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: command.query, variables: command.variables } }));
          return done();
        case 'ping':
          return socket.send('{"type":"pong"}');
        case 'next':
          return record(subscriber, message);
        default:
          failures++;
      }
    });
    socket.on('error', (error) => (ready ? failures++ : reject(error)));
    socket.on('close', (code) => {
      if (!ready) reject(new Error(`closed with ${code} while opening`));
      else if (code !== 1000 && code !== 1005) failures++;
    });
  });
}

async function open(command: Extract<HarnessCommand, { cmd: 'open' }>): Promise<{ opened: number; failed: number; error?: string }> {
  let next = 0;
  let failed = 0;
  let error: string | undefined;
  const worker = async () => {
    while (next < command.count) {
      next++;
      try {
        subscribers.push(await openOne(command));
      } catch (e) {
        failed++;
        error ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_CONCURRENCY, command.count) }, worker));
  return { opened: subscribers.length, failed, error };
}

function progress(): HarnessProgress {
  return { subscribers: subscribers.length, heard: subscribers.filter((s) => s.heard).length, deliveries, lastAt };
}

function report(): HarnessReport {
  return {
    ...progress(),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    failures,
  };
}

async function close(): Promise<void> {
  await Promise.all(
    subscribers.map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.close(1000);
        }),
    ),
  );
  subscribers = [];
}

function reset(): void {
  latencies = [];
  deliveries = 0;
  lastAt = 0;
  failures = 0;
  for (const subscriber of subscribers) subscriber.heard = false;
}

process.on('message', (command: HarnessCommand) => {
  const reply = (message: unknown) => process.send!(message);
  switch (command.cmd) {
    case 'open':
      return void open(command).then(reply);
    case 'reset':
      reset();
      return reply({ ok: true });
    case 'progress':
      return reply(progress());
    case 'report':
      return reply(report());
    case 'close':
      return void close().then(() => reply({ ok: true }));
  }
});
process.on('disconnect', () => process.exit(0));
