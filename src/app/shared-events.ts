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
// Deliveries then run in slices of FAN_OUT_SLICE per turn of the event loop,
// so that a writer's transaction and other requests get turns during a large
// fan-out instead of waiting behind it.
import { createHash } from 'node:crypto';
import { scheduler } from 'node:timers/promises';
import { createSourceEventStream, execute, print, type DocumentNode, type GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';
import { Repeater } from '@repeaterjs/repeater';
import stringify from 'safe-stable-stringify';
import type { WebSocket } from 'ws';
import { visibilityClass } from '../auth/visibility.js';
import type { Context } from '../modules/common/context.js';

/** Deliveries per turn of the event loop during a fan-out. */
export const FAN_OUT_SLICE = 256;

/** Executions shared by group, per event object; an event nobody holds any more takes its results with it. */
const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
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

/** The result of `event` for `group`, executed by the first of its subscribers to ask. */
function sharedExecution(event: unknown, group: string, run: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
  if (typeof event !== 'object' || event === null) return run();
  let byGroup = executions.get(event);
  if (!byGroup) executions.set(event, (byGroup = new Map()));
  let result = byGroup.get(group);
  if (!result) byGroup.set(group, (result = run()));
  return result;
}

/**
 * Lets `size` deliveries through per turn of the event loop; the next ones
 * wait for the following turn (setImmediate), after pending I/O callbacks.
 */
export class Slices {
  private left: number;
  private nextTurn: Promise<void> | null = null;

  constructor(private readonly size: number) {
    this.left = size;
  }

  turn(): Promise<void> | undefined {
    if (this.left > 0) {
      this.left--;
      return undefined;
    }
    this.nextTurn ??= scheduler.yield().then(() => {
      this.nextTurn = null;
      this.left = this.size;
    });
    return this.nextTurn.then(() => this.turn());
  }
}

const fanOut = new Slices(FAN_OUT_SLICE);

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
  const render = async (event: unknown) => {
    const result = await sharedExecution(event, group, async () => execute({ ...args, rootValue: event }));
    await fanOut.turn();
    return result;
  };
  const direct = directDeliveries.get(args.contextValue as object);
  return direct ? writeDirectly(source, render, direct) : mapAsyncIterator(source, render);
}

/**
 * Writes each event's `next` message to the socket itself: the group's JSON
 * with this operation's id around it, instead of graphql-ws's per-socket
 * serialisation and iterator chain. graphql-ws still owns the operation: the
 * returned iterator ends or fails when the source does (complete, or error
 * with its code), and carries the rare result with errors so that they are
 * masked and formatted as every other error (after what was written, in order).
 */
function writeDirectly(
  source: AsyncIterable<unknown>,
  render: (event: unknown) => Promise<ExecutionResult>,
  { socket, id, maxBufferedBytes }: DirectDelivery,
): AsyncIterableIterator<ExecutionResult> {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return new Repeater<ExecutionResult>(async (push, stop) => {
    const events = source[Symbol.asyncIterator]();
    void stop.then(() => events.return?.());
    for (let next = await events.next(); !next.done; next = await events.next()) {
      const result = await render(next.value);
      // Settles once graphql-ws has sent it and asks for more.
      if (result.errors) await push(result);
      else if (socket.readyState !== socket.OPEN) break;
      else if (socket.bufferedAmount > maxBufferedBytes) {
        socket.close(SLOW_SUBSCRIBER_CLOSE, 'subscriber too slow: reconnect and resume with sinceVersion');
        break;
      } else socket.send(`${prefix}${jsonOf(result)}}`);
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
