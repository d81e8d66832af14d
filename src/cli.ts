// `npm run heddle -- <command>`: operator commands.
//   token --email <email> [--name <name>] [--sub <subject>] [--expires-in 12h]
//     prints a member session token signed with the configured HEDDLE_JWT_SECRET
//     (or the development secret under HEDDLE_DATA_DIR).
//   rewrap-keys [--batch-size 500]
//     re-wraps every connection's data key under the newest master key of
//     HEDDLE_ENCRYPTION_KEYS. Safe while the service runs (PostgreSQL; the
//     embedded PGlite database can only be opened while the service is stopped).
//     Keep the old key in the ring until it reports nothing remaining.
import { parseArgs } from 'node:util';
import { signMemberToken } from './auth/principal.js';
import { ConfigError, loadConfig } from './platform/config.js';
import { createCredentialStore } from './platform/crypto/credential-store.js';
import { rewrapDataKeys } from './platform/crypto/rewrap.js';
import { openDatabase } from './platform/db/database.js';

const USAGE = `usage: npm run heddle -- token --email <email> [--name <name>] [--sub <subject>] [--expires-in 12h]
       npm run heddle -- rewrap-keys [--batch-size 500]
`;

const [command, ...rest] = process.argv.slice(2);

function usage(): never {
  process.stderr.write(USAGE);
  process.exit(2);
}

async function token(): Promise<void> {
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      sub: { type: 'string' },
      'expires-in': { type: 'string', default: '12h' },
    },
  });
  if (!values.email) usage();
  const config = loadConfig();
  const signed = await signMemberToken(
    config.jwt.secret,
    { sub: values.sub ?? `dev|${values.email}`, email: values.email, name: values.name },
    values['expires-in'],
  );
  process.stdout.write(signed + '\n');
}

async function rewrapKeys(): Promise<void> {
  const { values } = parseArgs({ args: rest, options: { 'batch-size': { type: 'string', default: '500' } } });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) usage();
  const config = loadConfig();
  const database = await openDatabase(config.database);
  try {
    const store = createCredentialStore(config.encryption.ring);
    const report = await rewrapDataKeys(database.prisma, store, { batchSize });
    process.stdout.write(
      `rewrapped ${report.rewrapped} data keys (connections, OAuth apps, connect sessions) to master key version ${report.keyVersion}; ` +
        `${report.failed.length} failed; ${report.remaining} remaining on older versions\n`,
    );
    for (const failure of report.failed) process.stderr.write(`heddle: ${failure.table} ${failure.id}: ${failure.reason}\n`);
    if (report.failed.length || report.remaining) process.exitCode = 1;
  } finally {
    await database.close();
  }
}

try {
  if (command === 'token') await token();
  else if (command === 'rewrap-keys') await rewrapKeys();
  else usage();
} catch (error) {
  const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message;
  process.stderr.write(`heddle: ${message}\n`);
  process.exit(1);
}
