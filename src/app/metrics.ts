// The GraphQL series of src/platform/metrics.ts, as an envelop plugin of our
// own: @graphql-yoga/plugin-prometheus labels by the operation name the
// client sends, which is caller input without a bound, and knows nothing of
// Heddle's typed errors. This one times only operations that validated, keeps
// at most MAX_OPERATION_NAMES names, and counts errors by stable code.
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../modules/common/context.js';
import {
  activeSubscriptions,
  errorCodeLabel,
  graphqlErrors,
  graphqlOperationDuration,
  operationNameLabel,
} from '../platform/metrics.js';

function operationLabels(document: DocumentNode, operationName?: string | null) {
  const operation = getOperationAST(document, operationName);
  return { operation_type: operation?.operation ?? 'unknown', operation_name: operationNameLabel(operation?.name?.value) };
}

export function useMetrics(): Plugin<Context> {
  return {
    // Execution starts only once the document validated against the schema.
    onExecute({ args }) {
      const done = graphqlOperationDuration.startTimer(operationLabels(args.document, args.operationName));
      return { onExecuteDone: () => void done() };
    },
    onSubscribe({ args }) {
      const done = graphqlOperationDuration.startTimer(operationLabels(args.document, args.operationName));
      return {
        onSubscribeResult({ result }) {
          done();
          if (!isAsyncIterable(result)) return;
          activeSubscriptions.inc();
          return { onEnd: () => activeSubscriptions.dec() };
        },
        onSubscribeError: () => void done(),
      };
    },
    // Every HTTP and SSE answer, after masking: parse, validation and limit errors included.
    onResultProcess({ result }) {
      if (isAsyncIterable(result)) return;
      for (const single of Array.isArray(result) ? result : [result]) {
        for (const error of (single as ExecutionResult).errors ?? []) {
          graphqlErrors.inc({ code: errorCodeLabel(error.extensions?.code), kind: 'request' });
        }
      }
    },
  };
}
