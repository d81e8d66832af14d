// Process entry: configuration, start-up, and graceful shutdown on SIGTERM/SIGINT.
// Start-up failures print one line naming the cause, without a stack trace.
import type { App } from './app/app.js';
import type { Config } from './platform/config.js';
import { startTracing } from './platform/tracing.js';

// Tracing (when an OTEL_* variable asks for it) starts before the rest is
// imported: its instrumentations patch http and ioredis as they load.
const tracing = await startTracing();
const { ConfigError, loadConfig } = await import('./platform/config.js');
const { DatabaseUnavailableError } = await import('./platform/db/database.js');
const { MigrationError } = await import('./platform/db/migrate.js');
const { createLogger, wantsPrettyLogs } = await import('./platform/logger.js');
const { PubSubUnavailableError } = await import('./platform/pubsub.js');
const { buildApp, GRAPHQL_PATH } = await import('./app/app.js');

function fail(message: string): never {
  process.stderr.write(`heddle: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(`invalid configuration: ${error.message}`);
  throw error;
}

const logger = createLogger(config.logLevel, undefined, { pretty: wantsPrettyLogs(config.env) });
let app: App;
try {
  app = await buildApp(config, { logger });
  await app.start();
} catch (error) {
  const known = [DatabaseUnavailableError, PubSubUnavailableError, MigrationError].some((type) => error instanceof type);
  if (known) fail((error as Error).message);
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') fail(`PORT ${config.port} is already in use`);
  fail(`start-up failed: ${(error as Error).message}`);
}

logger.info(
  {
    url: `${app.url}${GRAPHQL_PATH}`,
    database: config.database.kind === 'pglite' ? `embedded PGlite at ${config.database.dataDir}` : 'postgresql',
    pubsub: config.pubsub.kind === 'redis' ? 'redis' : 'in-process',
    node: process.version,
  },
  'heddle is listening',
);
if (config.encryption.isDevelopmentKey) {
  logger.warn(`encrypting credentials with the development key kept in ${config.dataDir}; set HEDDLE_ENCRYPTION_KEYS for production`);
}
if (config.jwt.isDevelopmentSecret) {
  logger.warn(`using the development JWT secret kept in ${config.dataDir}; set HEDDLE_JWT_SECRET for production`);
}

let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    // A last resort: never hang on shutdown.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 1000).unref();
    app.stop().then(
      // The spans still buffered go out before the process ends.
      () => (tracing?.shutdown() ?? Promise.resolve()).finally(() => process.exit(0)),
      (error: Error) => {
        logger.error({ err: error.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
