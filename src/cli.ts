// `npm run heddle -- <command>`: operator commands, parsed by commander.
// `--help` (anywhere) prints usage to stdout and exits 0; an unknown command, an
// unknown option or a bad value prints one line naming it to stderr and exits 2;
// a command that fails exits 1. A new command is one more `program.command(…)`.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './platform/config.js';

const USAGE_ERROR = 2;

const program = new Command('heddle')
  .description('Heddle operator commands (run as `npm run heddle -- <command>`).')
  .showHelpAfterError('(add --help for usage)')
  .configureOutput({ outputError: (message, write) => write(`heddle: ${message.replace(/^error: /, '')}`) })
  .exitOverride();

program
  .command('token')
  .description(
    'Print a member session token (JWT) signed with HEDDLE_JWT_SECRET, or with the development secret kept under ' +
      'HEDDLE_DATA_DIR. Send it as `Authorization: Bearer <token>`; the user is created on its first request.',
  )
  .requiredOption('--email <email>', "the member's email")
  .option('--name <name>', "the member's display name")
  .option('--sub <subject>', 'the token subject (default: dev|<email>)')
  .option('--expires-in <duration>', 'lifetime: a whole number of s, m, h or d (30m, 12h, 7d)', duration, '12h')
  .action(async (options: { email: string; name?: string; sub?: string; expiresIn: string }) => {
    // Commands load what they need, so --help answers at once.
    const { signMemberToken } = await import('./auth/principal.js');
    const config = loadConfig();
    const signed = await signMemberToken(
      config.jwt.secret,
      { sub: options.sub ?? `dev|${options.email}`, email: options.email, name: options.name },
      options.expiresIn,
    );
    process.stdout.write(signed + '\n');
  });

program
  .command('rewrap-keys')
  .description(
    'Key rotation: re-wrap every sealed data key (connections, OAuth app secrets, pending connect sessions) under the ' +
      'newest master key of HEDDLE_ENCRYPTION_KEYS. Safe while the service runs on PostgreSQL (the embedded PGlite ' +
      'database opens only while the service is stopped). Keep the old key in the ring until it reports 0 remaining.',
  )
  .option('--batch-size <rows>', 'rows per transaction, 1 to 10000', wholeNumber(1, 10_000), 500)
  .action(async (options: { batchSize: number }) => {
    const [{ createCredentialStore }, { rewrapDataKeys }, { openDatabase }] = await Promise.all([
      import('./platform/crypto/credential-store.js'),
      import('./platform/crypto/rewrap.js'),
      import('./platform/db/database.js'),
    ]);
    const config = loadConfig();
    const database = await openDatabase(config.database);
    try {
      const store = createCredentialStore(config.encryption.ring);
      const report = await rewrapDataKeys(database.prisma, store, { batchSize: options.batchSize });
      process.stdout.write(
        `rewrapped ${report.rewrapped} data keys (connections, OAuth apps, connect sessions) to master key version ${report.keyVersion}; ` +
          `${report.failed.length} failed; ${report.remaining} remaining on older versions\n`,
      );
      for (const failure of report.failed) process.stderr.write(`heddle: ${failure.table} ${failure.id}: ${failure.reason}\n`);
      if (report.failed.length || report.remaining) process.exitCode = 1;
    } finally {
      await database.close();
    }
  });

function duration(value: string): string {
  if (!/^[1-9]\d*[smhd]$/.test(value)) throw new InvalidArgumentError('Expected a whole number of s, m, h or d, such as 30m, 12h or 7d.');
  return value;
}

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return parsed;
  };
}

try {
  await program.parseAsync();
} catch (error) {
  // Help and version output exit 0; every other parse error is a usage error.
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : USAGE_ERROR);
  const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message;
  process.stderr.write(`heddle: ${message}\n`);
  process.exit(1);
}
