// W4 (fan-out) and W5 (idle memory), driven from the bench process: the
// subscribers live in the harness process (subscribers.ts); events are real
// config changes (updateWorkspace through Heddle's API, 10 per second), so
// Heddle's outbox publishes each to Redis, where both Heddle and the raw ws
// baseline hear it. Latency is publish-to-delivery: receive time in the
// harness minus the event's occurredAt, written by the change's transaction.
import { spawn, type ChildProcess } from 'node:child_process';
import type { HarnessCommand, HarnessProgress, HarnessReport } from './subscribers.js';
import { ROOT, type Service } from './services.js';

export class Harness {
  private constructor(private readonly child: ChildProcess) {}

  static start(): Harness {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/subscribers.ts'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Harness(child);
  }

  /** One command at a time: the harness answers each with one message. */
  request<T>(command: HarnessCommand): Promise<T> {
    return new Promise((resolve) => {
      this.child.once('message', (reply) => resolve(reply as T));
      this.child.send(command);
    });
  }

  stop(): void {
    this.child.disconnect();
  }
}

export type OpenCommand = Extract<HarnessCommand, { cmd: 'open' }>;

export interface FanoutSettings {
  eventsPerSecond: number;
  seconds: number;
  /** How long to wait for deliveries still under way after the last event. */
  drainMs: number;
  /** Counts the server's SQL statements: the round then reports them per event. */
  counter?: { statements: number };
}

export interface FanoutResult {
  subscribers: number;
  /** Config changes that committed (and so were published), and those that failed, with the first error. */
  events: number;
  failedEvents: number;
  failedEventError?: string;
  /** Deliveries expected (events × subscribers) and received. */
  expected: number;
  deliveries: number;
  /** Deliveries over the time from the first event's publication to the last delivery. */
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** error or complete messages, and sockets the server closed (harness report). */
  failures: number;
  /** W5: memory added by the idle subscribers, per subscriber, in bytes. */
  rssPerSubscriber: number;
  heapPerSubscriber: number;
  /** SQL statements per committed change, its delivery to every subscriber included (with settings.counter). */
  statementsPerEvent?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the harness until `done` holds or `timeoutMs` passes; returns the last progress. */
async function waitFor(harness: Harness, done: (p: HarnessProgress) => boolean, timeoutMs: number, between?: () => void): Promise<HarnessProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await harness.request<HarnessProgress>({ cmd: 'progress' });
    if (done(progress) || Date.now() > deadline) return progress;
    between?.();
    await sleep(250);
  }
}

/**
 * One round against one server: open the subscribers, prove each one hears an
 * event (probe events until all did), read the idle memory, then publish
 * `eventsPerSecond` events for `seconds` and collect every delivery.
 */
export async function fanoutRound(
  harness: Harness,
  server: Service,
  open: OpenCommand,
  publish: () => Promise<void>,
  settings: FanoutSettings,
): Promise<FanoutResult> {
  const before = await server.memory();
  const opened = await harness.request<{ opened: number; failed: number; error?: string }>(open);
  if (opened.failed || opened.opened !== open.count) {
    throw new Error(`${server.name}: ${opened.opened} of ${open.count} subscribers opened (${opened.failed} failed: ${opened.error})`);
  }

  // graphql-ws does not acknowledge a subscription: an event each subscriber hears proves it is live.
  await harness.request({ cmd: 'reset' });
  const probes: Promise<unknown>[] = [];
  let lastProbe = 0;
  const probe = () => {
    if (Date.now() - lastProbe < 1000) return;
    lastProbe = Date.now();
    probes.push(publish().catch(() => {})); // a failed probe is simply followed by the next
  };
  probe();
  const heard = await waitFor(harness, (p) => p.heard === open.count, 120_000, probe);
  await Promise.all(probes);
  if (heard.heard !== open.count) throw new Error(`${server.name}: only ${heard.heard} of ${open.count} subscribers heard a probe event`);
  // Let the probes' deliveries still under way arrive: quiet for one poll.
  let previous = -1;
  await waitFor(
    harness,
    (p) => {
      const quiet = p.deliveries === previous;
      previous = p.deliveries;
      return quiet;
    },
    30_000,
  );

  const after = await server.memory();

  await harness.request({ cmd: 'reset' });
  const statementsBefore = settings.counter?.statements ?? 0;
  const attempts = settings.eventsPerSecond * settings.seconds;
  const started = Date.now();
  const published: Promise<void>[] = [];
  const failedChanges: string[] = [];
  for (let i = 0; i < attempts; i++) {
    // On a fixed schedule, not after the previous answer: a slow server does not slow the publisher.
    await sleep(Math.max(0, started + (i * 1000) / settings.eventsPerSecond - Date.now()));
    // A change that fails to commit publishes nothing: it is counted, and expects no deliveries.
    published.push(publish().catch((error: Error) => void failedChanges.push(error.message)));
  }
  await Promise.all(published);
  const events = attempts - failedChanges.length;
  const expected = events * open.count;
  await waitFor(harness, (p) => p.deliveries >= expected, settings.drainMs);
  const statements = settings.counter ? settings.counter.statements - statementsBefore : undefined;
  const report = await harness.request<HarnessReport>({ cmd: 'report' });
  await harness.request({ cmd: 'close' });

  return {
    subscribers: open.count,
    events,
    failedEvents: failedChanges.length,
    failedEventError: failedChanges[0],
    expected,
    deliveries: report.deliveries,
    deliveriesPerSecond: report.deliveries / ((report.lastAt - started) / 1000),
    p50: report.p50,
    p99: report.p99,
    max: report.max,
    failures: report.failures,
    rssPerSubscriber: (after.rss - before.rss) / open.count,
    heapPerSubscriber: (after.heapUsed - before.heapUsed) / open.count,
    ...(statements === undefined ? {} : { statementsPerEvent: statements / Math.max(1, events) }),
  };
}
