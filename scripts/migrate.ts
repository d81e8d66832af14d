// `npm run db:migrate`: applies pending migrations to the configured database.
import { ConfigError, loadConfig } from '../src/platform/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrate } from '../src/platform/db/migrate.js';

try {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    const applied = await migrate(db);
    console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await db.close();
  }
} catch (error) {
  const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message;
  console.error(`heddle: ${message}`);
  process.exit(1);
}
