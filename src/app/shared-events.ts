// One execution per event for every subscriber who would see the same answer.
// graphql-js executes a subscription's selection once per event per
// subscriber; with thousands of subscribers of one workspace that is
// thousands of identical executions and database reads. Here each subscriber
// keeps its own source stream (its access checks, its replay position) and
// the execution of an event is shared: subscribers whose operation, variables
// and visibility class are equal form a group, and the group's first
// subscriber to see an event executes it for all of them. The pub/sub hands
// every listener the same event object, which is what makes two deliveries
// "the same event"; an event read back from the database (a replay) is an
// object of its own and is executed for its subscriber alone.
//
// The group's graphql-ws subscribers are then written the answer in one loop
// (the JSON made once, each operation's id around it), in slices of
// FAN_OUT_SLICE sockets per turn of the event loop, so that a writer's
// transaction and other requests get turns during a large fan-out.
import { createHash } from 'node:crypto';
import { scheduler } from 'node:timers/promises';
import { createSourceEventStream, execute, print, type DocumentNode, type GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import { Repeater } from '@repeaterjs/repeater';
import stringify from 'safe-stable-stringify';
import type { WebSocket } from 'ws';
import { visibilityClass } from '../auth/visibility.js';
import { activeSubscriptions } from '../platform/metrics.js';
import type { Context } from '../modules/common/context.js';

/** Deliveries per turn of the event loop during a fan-out. */
export const FAN_OUT_SLICE = 256;

const printed = new WeakMap<DocumentNode, string>();

/** The group of a subscription: equal keys see equal answers for the same event. */
function groupKeyOf(args: ExecutionArgs): string {
  let document = printed.get(args.document);
  if (document === undefined) printed.set(args.document, (document = print(args.document)));
  const principal = (args.contextValue as Context).principal;
  const key = stringify([args.operationName ?? null, document, args.variableValues ?? {}, visibilityClass(principal)]);
  // Each idle subscriber keeps its key: a digest holds 43 characters instead of the whole text.
  return createHash('sha256').update(key).digest('base64url');
}

type Writer = (result: ExecutionResult) => void;

/** One event's execution for one group, and the subscribers waiting to be written its answer. */
class GroupEvent {
  private readonly result: Promise<ExecutionResult>;
  /** Null once the answer has been written to every subscriber that asked in time. */
  private writers: Writer[] | null = [];
  private readonly written: Promise<ExecutionResult>;

  constructor(run: () => Promise<ExecutionResult>) {
    this.result = run();
    this.written = this.result.then(async (result) => {
      const writers = this.writers!;
      // Writers that join while the loop yields are written in it too.
      for (let i = 0; i < writers.length; i++) {
        if (i > 0 && i % FAN_OUT_SLICE === 0) await scheduler.yield();
        writers[i]!(result);
      }
      this.writers = null;
      return result;
    });
  }

  /** Resolves with the answer once `writer` has been given it, with the rest of the group. */
  deliver(writer: Writer): Promise<ExecutionResult> {
    if (this.writers) {
      this.writers.push(writer);
      return this.written;
    }
    // Late (its subscriber was busy with an earlier event): written on its own.
    return this.result.then((result) => (writer(result), result));
  }
}

/** Groups' executions per event object; an event nobody holds any more takes them with it. */
const groupEvents = new WeakMap<object, Map<string, GroupEvent>>();

/** The execution of `event` for `group`, started by the first of its subscribers to ask. */
function groupEventOf(event: unknown, group: string, run: () => Promise<ExecutionResult>): GroupEvent {
  if (typeof event !== 'object' || event === null) return new GroupEvent(run);
  let byGroup = groupEvents.get(event);
  if (!byGroup) groupEvents.set(event, (byGroup = new Map()));
  let shared = byGroup.get(group);
  if (!shared) byGroup.set(group, (shared = new GroupEvent(run)));
  return shared;
}

/** A graphql-ws operation's socket and id: its events are written there directly. */
export interface DirectDelivery {
  socket: WebSocket;
  id: string;
  /** Past this many bytes waiting in the socket's buffer, the socket is closed (SLOW_SUBSCRIBER_CLOSE). */
  maxBufferedBytes: number;
}

/**
 * WebSocket close code for a subscriber that does not read its events fast
 * enough (its socket's send buffer passed HEDDLE_WS_MAX_BUFFERED_BYTES). The
 * client reconnects and resumes with sinceVersion, losing nothing.
 */
export const SLOW_SUBSCRIBER_CLOSE = 4429;

const directDeliveries = new WeakMap<object, DirectDelivery>();

/** Marks an operation's context as one whose events go straight to its socket (graphql-ws, see app.ts). */
export function deliverDirectly(contextValue: object, delivery: DirectDelivery): void {
  directDeliveries.set(contextValue, delivery);
}

/** A result's JSON, made once for every socket of its group. */
const serialized = new WeakMap<ExecutionResult, string>();
function jsonOf(result: ExecutionResult): string {
  let json = serialized.get(result);
  if (json === undefined) serialized.set(result, (json = JSON.stringify(result)));
  return json;
}

async function subscribeShared(args: ExecutionArgs) {
  // The subscribe resolver, with its authorisation and access checks, runs for each subscriber.
  let source: Awaited<ReturnType<typeof createSourceEventStream>>;
  try {
    source = await createSourceEventStream(args);
  } catch (error) {
    // Heddle's typed errors are no GraphQLErrors; the error masking turns them into one with their code.
    return { errors: [error as GraphQLError] };
  }
  if (!isAsyncIterable(source)) return source;
  const group = groupKeyOf(args);
  // Each event runs with a context of its own: per-request caches (scope-auth's decisions, keyed by the
  // rows they judged) would otherwise keep every row of every event for the subscription's life.
  const eventOf = (event: unknown) =>
    groupEventOf(event, group, async () => execute({ ...args, contextValue: { ...(args.contextValue as Context) }, rootValue: event }));
  // Counted here, where the stream is ours: an envelop onEnd hook would wrap every subscriber's stream in one more iterator.
  activeSubscriptions.inc();
  const ended = () => void activeSubscriptions.dec();
  const direct = directDeliveries.get(args.contextValue as object);
  if (!direct) return mapAsyncIterator(source, (event: unknown) => eventOf(event).deliver(() => {}), undefined, ended);
  return writeDirectly(source, eventOf, direct, ended);
}

/**
 * Writes each event's `next` message to the socket itself, in its group's
 * loop: the group's JSON with this operation's id around it, instead of
 * graphql-ws's per-socket serialisation and iterator chain. graphql-ws still
 * owns the operation: the returned iterator ends or fails when the source
 * does (complete, or error with its code), and carries the rare result with
 * errors so that they are masked and formatted as every other error (after
 * what was written, in order).
 */
function writeDirectly(
  source: AsyncIterable<unknown>,
  eventOf: (event: unknown) => GroupEvent,
  { socket, id, maxBufferedBytes }: DirectDelivery,
  ended: () => void,
): AsyncIterableIterator<ExecutionResult> {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  let tooSlow = false;
  const write: Writer = (result) => {
    if (result.errors || tooSlow || socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > maxBufferedBytes) {
      tooSlow = true;
      socket.close(SLOW_SUBSCRIBER_CLOSE, 'subscriber too slow: reconnect and resume with sinceVersion');
    } else socket.send(`${prefix}${jsonOf(result)}}`);
  };
  return new Repeater<ExecutionResult>(async (push, stop) => {
    const events = source[Symbol.asyncIterator]();
    void stop.then(() => {
      ended();
      return events.return?.();
    });
    for (let next = await events.next(); !next.done && !tooSlow; next = await events.next()) {
      const result = await eventOf(next.value).deliver(write);
      // Settles once graphql-ws has sent it and asks for more.
      if (result.errors) await push(result);
    }
    stop();
  });
}

/** Replaces graphql-js's per-subscriber execution of events with the shared one (graphql-ws and SSE alike). */
export function useSharedEventExecution(): Plugin<Context> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeShared as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
