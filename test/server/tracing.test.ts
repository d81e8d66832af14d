// OpenTelemetry tracing, process-level: Heddle runs its real entry point (so
// the instrumentations must register before http, ioredis and pg load) with
// only OTEL_* variables set, behind Hive Gateway's runtime with the gateway's
// own OpenTelemetry plugin (@graphql-hive/plugin-opentelemetry). Both export
// OTLP over HTTP (JSON) to a loopback receiver; one request must come out as
// one connected trace: gateway → Heddle's HTTP server → the GraphQL operation
// → Prisma, with the identity provider's JWKS fetched (undici) on the way.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, Logger, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { useOpenTelemetry } from '@graphql-hive/plugin-opentelemetry';
import { openTelemetrySetup } from '@graphql-hive/plugin-opentelemetry/setup';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { composeSupergraph } from '../../examples/hive-gateway/compose.js';
import { gatewayConfig, HEDDLE_SUBGRAPH } from '../../examples/hive-gateway/gateway.config.js';
import { createPostgresDatabase } from '../support/app.js';
import { ALL_BACKENDS, unavailable, type Backend } from '../support/backends.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { SERVER, spawnHeddle, type HeddleProcess } from '../support/process.js';
import { TEST_REDIS_URL } from '../support/services.js';
import { tracingRequested } from '../../src/platform/tracing.js';

const ROUTER_SECRET = 'tracing-test-router-secret-0123456789';
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'heddle-api';

// Preloaded into the child: prints each module of the SDK side it resolves
// (the API, which the logger uses and which is a no-op alone, is left out).
const REPORT_SDK_MODULES = `data:text/javascript,${encodeURIComponent(`
  import { registerHooks } from 'node:module';
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      if (/\\/node_modules\\/(@opentelemetry\\/(?!api\\/)|@prisma\\/instrumentation\\/|import-in-the-middle\\/)/.test(resolved.url)) {
        process.stderr.write('sdk-module ' + resolved.url + '\\n');
      }
      return resolved;
    },
  });
`)}`;

const started: HeddleProcess[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const p of started) p.child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

function start(env: NodeJS.ProcessEnv): HeddleProcess {
  const p = spawnHeddle(env, ['--import', REPORT_SDK_MODULES, SERVER]);
  started.push(p);
  return p;
}

const sdkModules = (p: HeddleProcess) => p.stderr().split('\n').filter((line) => line.startsWith('sdk-module '));

/** The spans from `span` up to its trace's root, nearest first; stops at a parent not (yet) received. */
function ancestry(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(spans.filter((s) => s.traceId === span.traceId).map((s) => [s.spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId ?? ''); parent; parent = byId.get(parent.parentSpanId ?? '')) chain.push(parent);
  return chain;
}

test('any OTEL_* variable turns tracing on, unless it turns the SDK or its trace exporter off', () => {
  expect(tracingRequested({ PATH: '/usr/bin', HEDDLE_TRACING: '1' })).toBe(false);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
  expect(tracingRequested({ OTEL_SERVICE_NAME: 'heddle-eu' })).toBe(true);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
});

test('with no OTEL_* variable, no module of the SDK, its exporters, instrumentations or loader hook is loaded', async () => {
  const p = start({});
  const url = await p.listening;
  // A request too, in case one loaded anything lazily.
  const answer = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
  expect(await answer.json()).toEqual({ data: { __typename: 'Query' } });
  p.child.kill('SIGTERM');
  await p.exited;
  expect(sdkModules(p)).toEqual([]);
});

/** An identity provider's key set on loopback: member sessions are verified against it (a fetch per new key). */
async function startIdentityProvider() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'tracing-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    token: (email: string) =>
      new SignJWT({ email })
        .setProtectedHeader({ alg: 'RS256', kid: 'tracing-key' })
        .setSubject(`idp|${email}`)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('10m')
        .sign(privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// The gateway exports with the plugin's own OTLP exporter (its SDK line, 2.x, differs from Heddle's).
const pluginRequire = createRequire(createRequire(import.meta.url).resolve('@graphql-hive/plugin-opentelemetry'));
const { OTLPTraceExporter } = pluginRequire('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
const { AsyncLocalStorageContextManager } = pluginRequire('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');

let receiver: OtlpReceiver;
let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cleanups.push(() => receiver.close());
  idp = await startIdentityProvider();
  cleanups.push(() => idp.close());
  // What a gateway operator configures (Hive Gateway's CLI does the same from its config file).
  openTelemetrySetup({
    log: new Logger({ level: false }),
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: 'hive-gateway' },
    traces: { exporter: new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }), batching: false },
  });
});

async function startTracedGateway(heddleUrl: string): Promise<{ url: string }> {
  process.env.HEDDLE_ROUTER_SECRET = ROUTER_SECRET;
  const supergraph = await composeSupergraph([{ name: HEDDLE_SUBGRAPH, url: `${heddleUrl}/graphql` }]);
  const gateway: GatewayRuntime = createGatewayRuntime({
    ...gatewayConfig,
    supergraph,
    logging: false,
    plugins: (context) => [useOpenTelemetry({ ...context, traces: true })],
  });
  const server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.dispose();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const TRACED_BACKENDS: Backend[] = [ALL_BACKENDS[0]!, ALL_BACKENDS[2]!];

for (const backend of TRACED_BACKENDS) {
  const why = unavailable(backend);
  describe.skipIf(why !== null)(`one request, one trace [${backend.name}]${why ? ` (skipped: ${why})` : ''}`, () => {
    let heddle: HeddleProcess;
    let heddleUrl: string;
    let gatewayUrl: string;

    beforeAll(async () => {
      const database = backend.database === 'postgres' ? await createPostgresDatabase() : null;
      if (database) cleanups.push(() => database.drop());
      heddle = start({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Spans leave the batch within 100 ms instead of 5 s.
        OTEL_BSP_SCHEDULE_DELAY: '100',
        LOG_LEVEL: 'debug',
        HEDDLE_ROUTER_SECRET: ROUTER_SECRET,
        HEDDLE_JWKS_URL: idp.jwksUrl,
        HEDDLE_JWT_ISSUER: ISSUER,
        HEDDLE_JWT_AUDIENCE: AUDIENCE,
        ...(database ? { DATABASE_URL: database.url } : {}),
        ...(backend.pubsub === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {}),
      });
      heddleUrl = await heddle.listening;
      ({ url: gatewayUrl } = await startTracedGateway(heddleUrl));
    });

    test('gateway → Heddle → Prisma share one trace id, each span the child of the one above; the log lines carry it', async () => {
      const token = await idp.token(`traced-${backend.pubsub}@example.com`);
      // The receiver serves every suite of this file: this request's spans come after these.
      const earlier = receiver.spans.length;
      const response = await fetch(`${gatewayUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation TracedCreateOrganization($input: CreateOrganizationInput!) { createOrganization(input: $input) { ... on Organization { id slug } } }',
          variables: { input: { name: 'Traced', slug: `traced-${backend.pubsub}` } },
        }),
      });
      expect(await response.json()).toMatchObject({ data: { createOrganization: { slug: `traced-${backend.pubsub}` } } });

      // Parents end (and are exported) after their children: wait until the chains
      // of a Prisma query, the key set's fetch and (on Redis) the announcement reach the gateway's root.
      const fromGateway = (chain: ReceivedSpan[]) => chain.at(-1)!.service === 'hive-gateway' && !chain.at(-1)!.parentSpanId;
      const traced = (spans: ReceivedSpan[]) => {
        const operation = spans.slice(earlier).find((s) => s.service === 'heddle' && s.name === 'mutation TracedCreateOrganization');
        if (!operation) return undefined;
        const chainsOf = (match: (s: ReceivedSpan) => boolean) =>
          spans.filter((s) => s.service === 'heddle' && s.traceId === operation.traceId && match(s)).map((s) => ancestry(s, spans)).filter(fromGateway);
        // A query of the mutation's resolver (others run while the principal is looked up, before execution).
        const query = chainsOf((s) => s.name === 'prisma:client:db_query').find((chain) => chain.includes(operation));
        // The member session's key set is fetched (undici: the global fetch) while the request is authenticated.
        const jwksFetch = chainsOf((s) => s.scope.includes('undici'))[0];
        // On Redis the mutation's announcement (ioredis PUBLISH) belongs to the trace too.
        const publish = chainsOf((s) => s.scope.includes('ioredis'))[0];
        if (!query || !jwksFetch || (backend.pubsub === 'redis' && !publish)) return undefined;
        return { operation, query, jwksFetch, publish };
      };
      const { operation, query, jwksFetch, publish } = traced(await receiver.waitFor((all) => traced(all) !== undefined))!;
      const traceId = operation.traceId;

      // Prisma's spans, then Heddle's GraphQL operation and HTTP server span, then the gateway's.
      const services = query.map((s) => s.service);
      expect(services.indexOf('hive-gateway')).toBeGreaterThan(0);
      expect(services.slice(services.indexOf('hive-gateway')).every((service) => service === 'hive-gateway')).toBe(true);
      const heddleNames = query.filter((s) => s.service === 'heddle').map((s) => s.name);
      expect(heddleNames.slice(-2)).toEqual(['mutation TracedCreateOrganization', 'POST /graphql']);
      expect(heddleNames.slice(0, -2)).toEqual(expect.arrayContaining(['prisma:client:db_query', 'prisma:client:operation']));
      expect(heddleNames.slice(0, -2).every((name) => name.startsWith('prisma:client:'))).toBe(true);
      expect(query.map((s) => s.name)).toContain('subgraph.execute (heddle)');
      expect(new Set(query.map((s) => s.traceId))).toEqual(new Set([traceId]));
      expect(operation.attributes).toMatchObject({ 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'TracedCreateOrganization' });

      expect(jwksFetch[0]!.attributes['url.full']).toBe(idp.jwksUrl);
      expect(jwksFetch.map((s) => s.name)).toContain('POST /graphql');
      if (publish) {
        expect(publish[0]!.name).toBe('publish');
        expect(publish).toContain(operation);
      }

      // Every log line of the request carries the trace id with its request id.
      const lines = heddle.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      const requestLine = lines.find((line) => line.operation === 'TracedCreateOrganization');
      expect(requestLine).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/), requestId: expect.any(String) });
      const requestLines = lines.filter((line) => line.requestId === requestLine!.requestId);
      expect(requestLines.every((line) => line.trace_id === traceId)).toBe(true);

      // Neither the exported spans nor the logs hold the caller's credential; Heddle's
      // spans hold no value of the operation (variables, statement parameters) either.
      expect(receiver.bodies.join('\n')).not.toContain(token);
      expect(heddle.stdout()).not.toContain(token);
      const heddleSpans = receiver.spans.filter((s) => s.service === 'heddle');
      expect(heddleSpans.some((s) => String(s.attributes['db.query.text']).includes('INSERT INTO'))).toBe(true);
      expect(JSON.stringify(heddleSpans)).not.toContain(`traced-${backend.pubsub}`);
    });

    test("a subscription over SSE that arrives with a traceparent: its start is a span of that trace", async () => {
      const authorization = `Bearer ${await idp.token(`watcher-${backend.pubsub}@example.com`)}`;
      const mutate = async (query: string, input: Record<string, unknown>) => {
        const response = await fetch(`${gatewayUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query, variables: { input } }),
        });
        return ((await response.json()) as { data: Record<string, { id: string }> }).data;
      };
      const { createOrganization: org } = await mutate('mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { ... on Organization { id } } }', {
        name: 'Watched',
        slug: `watched-${backend.pubsub}`,
      });
      const { createWorkspace: workspace } = await mutate('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ... on Workspace { id } } }', {
        organizationId: org!.id,
        name: 'Watched',
        slug: 'watched',
      });

      // As a gateway subscribing over HTTP would send it.
      const traceId = randomBytes(16).toString('hex');
      const gatewaySpanId = randomBytes(8).toString('hex');
      const stream = new AbortController();
      const response = await fetch(`${heddleUrl}/graphql`, {
        method: 'POST',
        signal: stream.signal,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization,
          'x-heddle-router-secret': ROUTER_SECRET,
          traceparent: `00-${traceId}-${gatewaySpanId}-01`,
        },
        body: JSON.stringify({ query: 'subscription TracedWatch($id: ID!) { workspaceConfigChanged(workspaceId: $id) { version } }', variables: { id: workspace!.id } }),
      });
      expect(response.status).toBe(200);
      const started = await receiver.waitFor((all) => all.some((s) => s.traceId === traceId && s.name === 'subscription TracedWatch'));
      // The request's own span ends with the stream.
      stream.abort();
      const spans = await receiver.waitFor((all) => all.some((s) => s.traceId === traceId && s.name === 'POST /graphql'));
      const subscription = started.find((s) => s.traceId === traceId && s.name === 'subscription TracedWatch')!;
      const chain = ancestry(subscription, spans);
      expect(chain.map((s) => s.name)).toEqual(['subscription TracedWatch', 'POST /graphql']);
      expect(chain.at(-1)!.parentSpanId).toBe(gatewaySpanId);
    });

    test('the SDK was loaded with its OTLP exporter (the first test would see such lines)', () => {
      expect(sdkModules(heddle).some((line) => line.includes('/@opentelemetry/exporter-trace-otlp-http/'))).toBe(true);
    });
  });
}
