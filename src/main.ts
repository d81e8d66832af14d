// Process entry: configuration, start-up, and graceful shutdown on SIGTERM/SIGINT.
// Start-up failures print one line naming the cause, without a stack trace.
import { ConfigError, loadConfig, type Config } from './platform/config.js';
import { DatabaseUnavailableError } from './platform/db/database.js';
import { MigrationError } from './platform/db/migrate.js';
import { createLogger, wantsPrettyLogs } from './platform/logger.js';
import { PubSubUnavailableError } from './platform/pubsub.js';
import { buildApp, GRAPHQL_PATH, type App } from './app/app.js';

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
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
