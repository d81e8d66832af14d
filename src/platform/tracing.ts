// OpenTelemetry tracing, configured only by the standard OTEL_* variables
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/)
// and read by the SDK itself. Off unless one is set: then not one SDK module,
// exporter or loader hook is loaded, and the API's calls stay no-ops.
//
// The process entry starts it before importing anything it instruments: the
// http and ioredis instrumentations patch those modules as they load, through
// import-in-the-middle's loader hook for ES modules. Prisma's and undici's
// (fetch) spans come through globals and diagnostics channels instead.
import { register } from 'node:module';
import { trace } from '@opentelemetry/api';

export interface Tracing {
  /** Exports the spans still buffered; call it before the process exits. */
  shutdown(): Promise<void>;
}

/** Tracing is wanted when any OTEL_* variable is set, unless the SDK or its trace exporter is switched off. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.trim() === 'none') return false;
  return Object.keys(env).some((name) => name.startsWith('OTEL_'));
}

/**
 * Names the HTTP server span of the request being handled after its route
 * (`POST /graphql`, `GET /mcp/{serverId}`): a template, never the raw path.
 * Without tracing there is no span and nothing happens.
 */
export function nameRequestSpan(method: string | undefined, route: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('http.route', route);
  span.updateName(`${method ?? 'GET'} ${route}`);
}

let started = false;

/** True once startTracing has registered a tracer provider in this process. */
export function tracingStarted(): boolean {
  return started;
}

/** Starts the SDK when tracing is requested (else does nothing and loads nothing). */
export async function startTracing(): Promise<Tracing | undefined> {
  const env = process.env;
  if (!tracingRequested(env) || started) return undefined;
  // The loader hook first, told which modules to wrap as instrumentations name
  // them, so that it leaves every other module (and tsx's) alone.
  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const [{ NodeSDK }, { defaultResource, resourceFromAttributes }, { HttpInstrumentation }, { UndiciInstrumentation }, { IORedisInstrumentation }, { PrismaInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@prisma/instrumentation'),
    ]);
  const sdk = new NodeSDK({
    // "heddle" unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names the service (they are merged over it).
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'heddle' })),
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes would bury the requests worth reading.
        ignoreIncomingRequestHook: (request) => /^\/(healthz|readyz|metrics)(\?|$)/.test(request.url ?? ''),
      }),
      new UndiciInstrumentation(),
      new IORedisInstrumentation(),
      new PrismaInstrumentation(),
    ],
    // Heddle exports traces; its metrics are served at /metrics and its logs go
    // to stdout. Metrics and logs go out over OTLP only when asked for by name.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();
  started = true;
  return sdk;
}
