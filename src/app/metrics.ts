// The GraphQL series of src/platform/metrics.ts, as an envelop plugin of our
// own: @graphql-yoga/plugin-prometheus labels by the operation name the
// client sends, which is caller input without a bound, and knows nothing of
// Heddle's typed errors. This one times only operations that validated, keeps
// at most MAX_OPERATION_NAMES names, and counts errors by stable code.
import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../modules/common/context.js';
import {
  errorCodeLabel,
  graphqlErrors,
  graphqlOperationDuration,
  operationNameLabel,
} from '../platform/metrics.js';
import { maskHeddleError } from './errors.js';

function operationLabels(document: DocumentNode, operationName?: string | null) {
  const operation = getOperationAST(document, operationName);
  return { operation_type: operation?.operation ?? 'unknown', operation_name: operationNameLabel(operation?.name?.value) };
}

export function useMetrics(): Plugin<Context> {
  return {
    // Execution starts only once the document validated against the schema.
    onExecute({ args }) {
      const done = graphqlOperationDuration.startTimer(operationLabels(args.document, args.operationName));
      return {
        onExecuteDone({ result }) {
          done();
          // HTTP answers are counted once processed (below); a socket's, here.
          if (!('request' in args.contextValue) && !isAsyncIterable(result)) countRequestErrors(result.errors);
        },
      };
    },
    onSubscribe({ args }) {
      const done = graphqlOperationDuration.startTimer(operationLabels(args.document, args.operationName));
      // Timed until the stream (or the errors) is returned; open subscriptions are counted by
      // shared-events.ts, which owns their streams. No onSubscribeError: it would time again a
      // stream that ends with an error, and envelop would wrap every subscriber's stream for it.
      return { onSubscribeResult: () => void done() };
    },
    // Every HTTP and SSE answer, after masking: parse, validation and limit errors included.
    onResultProcess({ result }) {
      if (isAsyncIterable(result)) return;
      for (const single of Array.isArray(result) ? result : [result]) countRequestErrors((single as ExecutionResult).errors);
    },
  };
}

/** Top-level errors by the code the client sees (graphql-ws results are counted before Yoga masks them). */
export function countRequestErrors(errors: readonly GraphQLError[] | undefined): void {
  for (const error of errors ?? []) {
    const code = error.extensions?.code ?? (maskHeddleError(error, '') as Partial<GraphQLError>).extensions?.code;
    graphqlErrors.inc({ code: errorCodeLabel(code), kind: 'request' });
  }
}
