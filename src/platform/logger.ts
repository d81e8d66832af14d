// Structured logs (pino). Every line passes through `redactSecrets`: values
// under secret-looking keys (authorization, tokens, passwords, credentials…)
// are replaced at any depth, so no caller can leak one by logging an object.
// A line written while a request is handled carries its `requestId`, and,
// when tracing is on (src/platform/tracing.ts), the `trace_id` and `span_id`
// of the span it is written in.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

const SECRET_KEYS = new Set(
  [
    'authorization',
    'cookie',
    'password',
    'secret',
    'clientSecret',
    'accessToken',
    'refreshToken',
    'apiKey',
    'plainKey',
    'token',
    'credentials',
    'connectionParams',
  ].map((k) => k.toLowerCase()),
);

export const REDACTED = '[redacted]';

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactSecrets(item, depth + 1);
  }
  return out;
}

const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/** An incoming X-Request-Id kept as is when well-formed (a gateway's or a client's), else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w.:@/+=-]{1,128}$/.test(header) ? header : randomUUID();
}

/** Runs `work` (and everything it starts) as the handling of one request: every log line carries its id. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestScope.run({ requestId }, work);
}

/**
 * `destination` (tests) receives JSON. Without one, stdout gets JSON, or
 * pino-pretty's colored lines when `pretty` (a terminal outside production).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, { pretty = false } = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'heddle' },
    // The request's id and trace, from wherever in its handling the line is written.
    mixin: () => {
      const scope = requestScope.getStore();
      const fields: Record<string, string> = scope ? { requestId: scope.requestId } : {};
      // Without a tracer provider there is no active span: the API answers undefined.
      const span = trace.getActiveSpan()?.spanContext();
      if (span && isSpanContextValid(span)) {
        fields.trace_id = span.traceId;
        fields.span_id = span.spanId;
      }
      return fields;
    },
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
  };
  if (destination) return pino(options, destination as pino.DestinationStream);
  return pretty ? pino(options, PinoPretty({ colorize: true, sync: true, ignore: 'pid,hostname,service' })) : pino(options);
}

/** Pretty lines for a person at a terminal; JSON for collectors, and always in production. */
export function wantsPrettyLogs(env: string, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return env !== 'production' && stdout.isTTY === true;
}

export type { Logger };
