// With read replicas (DATABASE_REPLICA_URLS), the one place that lets a request
// read from them: the execution of a query operation. Mutations and
// subscriptions (whose events follow a write) run without it, on the primary;
// so does the context factory, where the caller is authenticated.
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { readFromReplicas } from '../platform/db/replicas.js';

export function useReplicaReads(): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      setExecuteFn((executionArgs) => readFromReplicas(() => executeFn(executionArgs)));
    },
  };
}
