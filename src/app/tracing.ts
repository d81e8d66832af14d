// A span for each executed GraphQL operation, child of the HTTP request's
// span (itself a child of the gateway's when a `traceparent` came along), and
// parent of what the resolvers do: Prisma queries, Redis, outgoing fetches.
// Our own plugin of a few lines on @opentelemetry/api: @envelop/opentelemetry
// 9 imports the 1.x SDK (and registers a console exporter when given no
// provider), @graphql-hive/plugin-opentelemetry depends on the gateway runtime.
// Named by the semantic conventions for GraphQL servers; the document is not
// recorded (inline arguments may hold secrets), nor variables.
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { getOperationAST, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../modules/common/context.js';

const tracer = trace.getTracer('heddle-graphql');

type Outcome = ExecutionResult | AsyncIterable<unknown>;

function finish(span: Span, outcome: Outcome): Outcome {
  const errors = isAsyncIterable(outcome) ? undefined : outcome.errors;
  if (errors?.length) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
    span.setAttribute('heddle.graphql.error_codes', [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))]);
  }
  span.end();
  return outcome;
}

function failed(span: Span, error: unknown): never {
  span.recordException(error as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
  span.end();
  throw error;
}

/** Runs `run` (an execute or subscribe) inside an active span named after the operation. */
function traced<T extends Outcome | Promise<Outcome>>(args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null }, run: () => T): T {
  const operation = getOperationAST(args.document, args.operationName);
  const type = operation?.operation ?? 'query';
  const name = operation?.name?.value;
  const attributes = { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) };
  return tracer.startActiveSpan(name ? `${type} ${name}` : type, { kind: SpanKind.INTERNAL, attributes }, (span) => {
    let outcome: T;
    try {
      outcome = run();
    } catch (error) {
      failed(span, error);
    }
    if (outcome instanceof Promise) return outcome.then((value) => finish(span, value), (error) => failed(span, error)) as T;
    return finish(span, outcome as Outcome) as T;
  });
}

/** Subscriptions get a span for their start (authorization, first reads), not for each event. */
export function useTracing(): Plugin<Context> {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => traced(args, () => executeFn(args)));
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn((args) => traced(args, () => subscribeFn(args)));
    },
  };
}
