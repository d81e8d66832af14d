// Builds the Heddle process: one HTTP server on one port serving GraphQL over
// HTTP and SSE (Yoga), graphql-ws on the same path, /healthz, /readyz and
// /metrics, and the hosted connect pages under /connect.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getOperationAST, GraphQLError } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { ApiKeyUsage } from '../auth/api-key-usage.js';
import { createAuthenticator, type Principal } from '../auth/principal.js';
import { PrincipalCache } from '../auth/principal-cache.js';
import { routerTrust } from '../auth/router-secret.js';
import type { Config } from '../platform/config.js';
import { createConnectHandler } from '../modules/connect/handler.js';
import { CONNECT_PATH } from '../modules/connect/urls.js';
import { createRateLimiter } from '../modules/connect/rate-limit.js';
import { createCredentialStore } from '../platform/crypto/credential-store.js';
import { openDatabase, type Database, type QueryListener } from '../platform/db/database.js';
import { migrate } from '../platform/db/migrate.js';
import { createMcpEndpoint, MCP_PATH_PREFIX } from '../modules/mcp/endpoint.js';
import { CONNECT_LINK_BUDGET } from '../modules/mcp/tool-call.service.js';
import { startExecutionPruning } from '../modules/execution/execution.service.js';
import { handleProxy, PROXY_PATH_PREFIX } from '../modules/execution/proxy.js';
import { rederiveMcpTools } from '../modules/mcp/tools-sync.service.js';
import { createLogger, requestIdOf, wantsPrettyLogs, withRequestId, type Logger } from '../platform/logger.js';
import { TokenRefresher } from '../modules/oauth/token-refresher.js';
import { Outbox } from '../platform/outbox.js';
import { openPubSub } from '../platform/pubsub.js';
import { schema } from '../schema/index.js';
import type { Context, Services } from '../modules/common/context.js';
import { createGraphiQL } from './graphiql.js';
import { maskHeddleError, useErrorCodes } from './errors.js';
import { limitPlugins } from './limits.js';
import { subscriptionLimitError } from './websocket-limits.js';
import { responseCachePlugin, type RequestPrincipals } from './response-cache.js';
import { announceWrite, ResponseCache } from '../platform/response-cache.js';
import { metricsRegistry, watchInstance } from '../platform/metrics.js';
import { countRequestErrors, useMetrics } from './metrics.js';
import { nameRequestSpan, tracingStarted } from '../platform/tracing.js';
import { useTracing } from './tracing.js';
import { deliverDirectly, useSharedEventExecution } from './shared-events.js';
import { useReplicaReads } from './replica-reads.js';

export const GRAPHQL_PATH = '/graphql';

export interface App {
  config: Config;
  services: Services;
  database: Database;
  /** http://host:port once started. */
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  onQuery?: QueryListener;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel, undefined, { pretty: wantsPrettyLogs(config.env) });
  const pubsub = await openPubSub(config.pubsub, logger);
  let database: Database;
  try {
    database = await openDatabase(config.database, { onQuery: options.onQuery });
  } catch (error) {
    await pubsub.close();
    throw error;
  }
  const outbox = new Outbox(database.prisma, pubsub, logger);
  try {
    const applied = await migrate(database);
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
    // This release's catalog may derive other MCP tools: stored lists follow it before anything is served.
    const rederived = await rederiveMcpTools(database.prisma, outbox);
    if (rederived.length) {
      logger.info({ workspaces: rederived.length }, 'MCP tools re-derived from this catalog');
      // Instances of the older release may hold answers with the old tools.
      const workspaces = await database.prisma.workspace.findMany({ where: { id: { in: rederived } }, select: { organizationId: true } });
      announceWrite(pubsub, { organizationIds: [...new Set(workspaces.map((w) => w.organizationId))], entities: [] });
    }
  } catch (error) {
    await Promise.all([database.close(), pubsub.close()]);
    throw error;
  }
  const credentials = createCredentialStore(config.encryption.ring);
  const apiKeyUsage = new ApiKeyUsage(database.prisma, logger);
  // Row locks guard refreshes across instances; PGlite has only this one.
  const refresher = new TokenRefresher({ prisma: database.prisma, credentials, pubsub, logger, lockRows: database.kind === 'postgres' });
  let boundPort = config.port;
  const publicUrl = () => config.connect.publicUrl ?? `http://localhost:${boundPort}`;
  const responseCache = config.responseCache && new ResponseCache(pubsub, config.responseCache);
  const principals = new PrincipalCache(pubsub, config.authCacheTtlMs);
  const services: Services = {
    config,
    prisma: database.prisma,
    pubsub,
    outbox,
    credentials,
    refresher,
    apiKeyUsage,
    principals,
    logger,
    responseCache,
    publicUrl,
  };
  // A revoked key or removed member must fail at once: never read from a lagging replica.
  const authenticator = createAuthenticator({ prisma: database.primary, jwt: config.jwt, apiKeyUsage, principals });
  const requestPrincipals: RequestPrincipals = new WeakMap();
  const mcp = createMcpEndpoint({
    prisma: database.prisma,
    pubsub,
    authenticator,
    logger,
    maxBodyBytes: config.limits.maxBodyBytes,
    limits: config.mcp,
    ownOrigin: () => new URL(publicUrl()).origin,
    execution: { ...services, connectLinks: createRateLimiter('mcp-connect-link', CONNECT_LINK_BUDGET, pubsub.redis) },
  });

  const yoga = createYoga<{ principal?: Principal }, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    maskedErrors: { maskError: maskHeddleError, isDev: config.graphql.exposeErrors },
    // Served by ./graphiql.ts (Heddle's example, compressed and cached files); none in production.
    graphiql: false,
    // One operation per request: a batch would multiply every per-operation limit.
    batching: false,
    // limits.ts's useBodySizeLimit instead: Yoga's counts every body through a stream.
    maxRequestBodySize: false,
    logging: {
      // Yoga logs several debug lines per request: build them only for a logger that writes them.
      debug: (...args) => logger.isLevelEnabled('debug') && logger.debug(toLogFields(args)),
      info: (...args) => logger.info(toLogFields(args)),
      warn: (...args) => logger.warn(toLogFields(args)),
      error: (...args) => logger.error(toLogFields(args)),
    },
    plugins: [
      ...limitPlugins(config.limits, config.graphql),
      useErrorCodes(),
      useMetrics(),
      useRequestLog(logger),
      useSharedEventExecution(),
      // After the shared execution, which replaces subscribe rather than wrapping it.
      ...(tracingStarted() ? [useTracing()] : []),
      ...(responseCache ? [responseCachePlugin({ cache: responseCache, authenticator, principals: requestPrincipals })] : []),
      // Last: it wraps the execution the plugins above settled on.
      ...(config.database.kind === 'postgres' && config.database.replicaUrls?.length ? [useReplicaReads()] : []),
    ],
    context: async (initial) => ({
      ...services,
      // graphql-ws hands in the principal of the operation; the response cache, the one it looked up with.
      principal:
        initial.principal ??
        requestPrincipals.get(initial.request) ??
        (await authenticator.authenticate(initial.request.headers.get('authorization'))),
    }),
  });

  const graphiql = config.env === 'production' ? undefined : createGraphiQL(GRAPHQL_PATH);
  const trustedRouter = routerTrust(config.routerSecret);
  const connect = createConnectHandler(services);
  // Long-lived SSE responses are ended at shutdown instead of being waited for.
  const eventStreams = new Set<ServerResponse>();
  const httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Echoed to the caller and carried by every log line of this request.
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    withRequestId(requestId, () => route(req, res));
  });
  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/metrics') return serveMetrics(req, res, config.metricsToken);
    if (path === '/readyz') {
      return void Promise.all([database.ping(), pubsub.ping()]).then(
        () => sendJson(res, 200, { status: 'ok', database: database.kind, pubsub: pubsub.kind }),
        (error: Error) => sendJson(res, 503, { status: 'unavailable', error: error.message }),
      );
    }
    // Browsers reach the connect pages directly, not through the gateway: no router secret there.
    if (path === CONNECT_PATH || path.startsWith(`${CONNECT_PATH}/`)) {
      nameRequestSpan(req.method, path === CONNECT_PATH ? CONNECT_PATH : `${CONNECT_PATH}/*`);
      return connect(req, res);
    }
    // MCP clients connect directly with their own tokens, not through the federation router.
    if (path.startsWith(MCP_PATH_PREFIX)) {
      nameRequestSpan(req.method, `${MCP_PATH_PREFIX}{serverId}`);
      return void mcp.handle(req, res, path.slice(MCP_PATH_PREFIX.length)).catch((error: Error) => {
        logger.error({ err: error }, 'MCP request failed');
        if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null });
        else res.end();
      });
    }
    // Backends call the proxy directly with their own credential, as they call GraphQL; it is no GraphQL for the router.
    if (path.startsWith(PROXY_PATH_PREFIX)) {
      nameRequestSpan(req.method, `${PROXY_PATH_PREFIX}*`);
      return void handleProxy({ execution: services, authenticator, maxBodyBytes: config.limits.maxBodyBytes }, req, res).catch((error: Error) => {
        logger.error({ err: error }, 'proxy request failed');
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' } });
        else res.destroy();
      });
    }
    if (!trustedRouter(req.headers)) {
      return sendJson(res, 401, { errors: [{ message: 'missing or wrong router secret', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    if (graphiql?.handles(req, path)) return graphiql.serve(req, res, path);
    if (path === GRAPHQL_PATH) nameRequestSpan(req.method, GRAPHQL_PATH);
    if (req.headers.accept?.includes('text/event-stream')) {
      eventStreams.add(res);
      res.once('close', () => eventStreams.delete(res));
    }
    return void yoga(req, res);
  }

  const wsServer = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    // A larger message closes the socket (1009), like a larger HTTP body gets 413.
    maxPayload: config.limits.maxBodyBytes,
    // Without the router secret the upgrade is answered 401.
    verifyClient: ({ req }: { req: IncomingMessage }) => trustedRouter(req.headers),
  });
  const wsHandle = useServer<Record<string, unknown>, { authorization?: string | null; requestIdHeader?: string | string[] }>(
    {
      // Each operation on a socket is a request of its own for the logs.
      execute: (args) => {
        const root = args.rootValue as EnvelopedRoot;
        return withRequestId(root.requestId, () => root.execute(args));
      },
      subscribe: (args) => {
        const root = args.rootValue as EnvelopedRoot;
        return withRequestId(root.requestId, () => root.subscribe(args));
      },
      onConnect: async (ctx) => {
        try {
          // connection_init carries it from browsers; gateways such as Apollo Router
          // and Cosmo forward the client's header on the upgrade request instead.
          const fromParams = ctx.connectionParams?.authorization;
          const authorization = typeof fromParams === 'string' ? fromParams : (ctx.extra.request.headers.authorization ?? null);
          await authenticator.authenticate(authorization);
          ctx.extra.authorization = authorization;
          ctx.extra.requestIdHeader = ctx.extra.request.headers['x-request-id'];
          // The upgrade request is read; an idle socket need not keep it (and its headers) alive.
          (ctx.extra as { request?: IncomingMessage }).request = undefined;
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        // graphql-ws has already reserved this operation's id: count the others.
        const open = Object.keys(ctx.subscriptions).filter((other) => other !== id).length;
        const overLimit = subscriptionLimitError(open, config.limits.websocket);
        if (overLimit) return [overLimit];
        // The socket outlives its credential's rights (a revoked or expired key or
        // token, a removed member, a deleted end user, a changed role): every
        // operation authenticates against the current state, as an HTTP request does.
        let principal: Principal;
        try {
          principal = await authenticator.authenticate(ctx.extra.authorization);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        // Only what the context needs: an idle subscription keeps its initial context (not the socket's state) alive.
        const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ principal, params: payload });
        let document;
        try {
          document = parse(payload.query);
          const errors = validate(envelopedSchema, document);
          if (errors.length) {
            countRequestErrors(errors);
            return errors;
          }
        } catch (error) {
          // Syntax errors and the limits' rejections fail this operation, not the whole socket.
          if (error instanceof GraphQLError) {
            countRequestErrors([error]);
            return [error];
          }
          throw error;
        }
        const contextValue = await contextFactory();
        deliverDirectly(contextValue, { socket: ctx.extra.socket, id, maxBufferedBytes: config.limits.websocket.maxBufferedBytes });
        return {
          schema: envelopedSchema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          // The upgrade's X-Request-Id when well-formed (one per socket, from a gateway), else one per operation.
          rootValue: { execute, subscribe, requestId: requestIdOf(ctx.extra.requestIdHeader) },
        };
      },
    },
    wsServer,
    // graphql-ws's keepalive: a ping each interval; no pong by the next one terminates the socket.
    config.limits.websocket.pingIntervalMs,
  );

  let stopping: Promise<void> | undefined;
  let stopPruning = () => {};
  let unwatch = () => {};
  const app: App = {
    config,
    services,
    database,
    url: '',
    async start() {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => resolve());
      });
      const { port } = httpServer.address() as AddressInfo;
      boundPort = port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      app.url = `http://${host}:${port}`;
      outbox.startRelay({ retentionHours: config.eventRetentionHours });
      responseCache?.listen(logger);
      apiKeyUsage.start();
      principals.start();
      stopPruning = startExecutionPruning(services);
      unwatch = watchInstance({
        mcpSessions: () => mcp.sessionCount,
        oldestUnpublishedEvent: async () =>
          (await database.prisma.configEvent.aggregate({ where: { publishedAt: null }, _min: { occurredAt: true } }))._min.occurredAt,
        databasePool: () => database.poolStats(),
        redisClients: () => pubsub.redisClients(),
      });
    },
    stop() {
      stopping ??= (async () => {
        outbox.stopRelay();
        stopPruning();
        unwatch();
        responseCache?.close();
        // Its unsubscribes must reach Redis before the pub/sub closes.
        principals.stop();
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        // Stop accepting; close every websocket with a close frame (1001 Going Away).
        await wsHandle.dispose();
        await mcp.close();
        for (const res of eventStreams) res.end();
        httpServer.closeIdleConnections();
        const timer = setTimeout(() => httpServer.closeAllConnections(), config.shutdownTimeoutMs);
        await closed;
        clearTimeout(timer);
        await apiKeyUsage.stop();
        await pubsub.close();
        await database.close();
      })();
      return stopping;
    },
  };
  return app;
}

type EnvelopedRoot = {
  requestId: string;
  execute: (args: unknown) => ReturnType<typeof import('graphql').execute>;
  subscribe: (args: unknown) => ReturnType<typeof import('graphql').subscribe>;
};

/** Yoga logs strings, errors and objects; pino wants one object with `msg`. */
function toLogFields(args: unknown[]): Record<string, unknown> {
  const err = args.find((a) => a instanceof Error);
  // Yoga logs an unexpected error alone: its message is the line's.
  const msg = args.filter((a) => typeof a === 'string').join(' ') || (err instanceof Error ? err.message : '');
  return { msg, ...(err ? { err } : {}) };
}

/** One debug line per GraphQL request: operation, principal kind, duration (headers redacted by the logger). */
function useRequestLog(logger: Logger): Plugin<Context> {
  return {
    onExecute({ args }) {
      if (!logger.isLevelEnabled('debug')) return;
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          logger.debug(
            {
              operation: getOperationAST(args.document, args.operationName)?.name?.value ?? null,
              principal: args.contextValue.principal.kind,
              ms: Math.round(performance.now() - started),
              errors: 'errors' in result ? (result.errors?.length ?? 0) : 0,
              headers: Object.fromEntries((args.contextValue as { request?: Request }).request?.headers ?? []),
            },
            'graphql request',
          );
        },
      };
    },
  };
}

/**
 * GET /metrics for a scraper holding HEDDLE_METRICS_TOKEN as a bearer token.
 * Without the variable the route does not exist (404): nothing leaks by default.
 */
function serveMetrics(req: IncomingMessage, res: ServerResponse, token: string | null): void {
  if (!token) return sendJson(res, 404, { error: 'not found' });
  if (!bearerMatches(req.headers.authorization, token)) {
    res.setHeader('www-authenticate', 'Bearer');
    return sendJson(res, 401, { error: 'missing or wrong metrics token' });
  }
  void metricsRegistry.metrics().then(
    (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
    (error: Error) => sendJson(res, 500, { error: error.message }),
  );
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
