// Read replicas (DATABASE_REPLICA_URLS): Prisma's read-replicas extension sends
// reads to a replica, and this layer in front of it decides which reads may go
// there. Only code run through `readFromReplicas` (the execution of a GraphQL
// query operation, src/app/replica-reads.ts) may read from a replica, and only
// until it writes: everything else (mutations, subscriptions, authentication,
// background work) and everything after a write of its own reads the primary.
import { AsyncLocalStorage } from 'node:async_hooks';
import { readReplicas } from '@prisma/extension-read-replicas';
import type { PrismaClient } from '../../generated/prisma/client.js';

/** The reads the extension sends to a replica (its list, less MongoDB's raw reads); any other operation may write. */
const READ_OPERATIONS = new Set(['findFirst', 'findFirstOrThrow', 'findMany', 'findUnique', 'findUniqueOrThrow', 'groupBy', 'aggregate', 'count']);

/** One request's reads: `primary` once it has written (read-your-own-writes). */
const requestReads = new AsyncLocalStorage<{ primary: boolean }>();

/** Runs `work` with its reads on a replica until its first write; its other reads stay on the primary. */
export function readFromReplicas<T>(work: () => T): T {
  return requestReads.run({ primary: false }, work);
}

/** Whether a read made here may go to a replica: inside `readFromReplicas`, before a write of its own. */
export function readsMayUseReplica(): boolean {
  const reads = requestReads.getStore();
  return !!reads && !reads.primary;
}

type QueryArgs = {
  model?: string;
  operation: string;
  args: { omit?: Record<string, boolean> } | undefined;
  query: (args: unknown) => Promise<unknown>;
  __internalParams: { transaction?: unknown };
};

/** The primary client, reading from `replicas` only where `readFromReplicas` allows it. */
export function withReadReplicas(primary: PrismaClient, replicas: PrismaClient[]): PrismaClient {
  const onPrimary = (model: string | undefined, operation: string, args: unknown) => {
    const target = (model ? (primary as unknown as Record<string, unknown>)[model] : primary) as Record<string, (args: unknown) => Promise<unknown>>;
    return target[operation]!(args);
  };
  return primary
    .$extends({
      query: {
        $allOperations(params) {
          const { model, operation, args, query, __internalParams } = params as unknown as QueryArgs;
          const reads = requestReads.getStore();
          // Inside a transaction the extension keeps everything on the primary.
          if (__internalParams.transaction) return query(args);
          if (!READ_OPERATIONS.has(operation)) {
            if (reads) reads.primary = true;
            return query(args);
          }
          // A credential read (the sealed columns asked for) must not see a lagging copy.
          const credentialRead = Object.values(args?.omit ?? {}).includes(false);
          if (!reads || reads.primary || credentialRead) return onPrimary(model, operation, args);
          return query(args);
        },
      },
    })
    .$extends(readReplicas({ replicas })) as unknown as PrismaClient;
}
