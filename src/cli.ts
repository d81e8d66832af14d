// `npm run heddle -- <command>`: operator commands, parsed by commander.
// `--help` (anywhere) prints usage to stdout and exits 0; an unknown command, an
// unknown option or a bad value prints one line naming it to stderr and exits 2;
// a command that fails exits 1. A new command is one more `program.command(…)`.
import { existsSync } from 'node:fs';
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
    const [{ createCredentialStore }, { rewrapDataKeys }, { openDatabase }, { startProgress }] = await Promise.all([
      import('./platform/crypto/credential-store.js'),
      import('./platform/crypto/rewrap.js'),
      import('./platform/db/database.js'),
      import('./platform/progress.js'),
    ]);
    const config = loadConfig();
    const database = await openDatabase(config.database);
    let progress: import('./platform/progress.js').Progress | undefined;
    try {
      const store = createCredentialStore(config.encryption.ring);
      const report = await rewrapDataKeys(database.prisma, store, {
        batchSize: options.batchSize,
        onStart: (total) => (progress = startProgress({ total, unit: 'data keys' })),
        onBatch: ({ rewrapped, failed }) => progress?.update({ done: rewrapped + failed, ok: rewrapped, failed }),
      });
      progress?.stop();
      progress = undefined;
      process.stdout.write(
        `rewrapped ${report.rewrapped} data keys (connections, OAuth apps, connect sessions) to master key version ${report.keyVersion}; ` +
          `${report.failed.length} failed; ${report.remaining} remaining on older versions\n`,
      );
      for (const failure of report.failed) process.stderr.write(`heddle: ${failure.table} ${failure.id}: ${failure.reason}\n`);
      if (report.failed.length || report.remaining) process.exitCode = 1;
    } finally {
      progress?.stop();
      await database.close();
    }
  });

program
  .command('sync-users')
  .description(
    'Create or update end users from a JSON Lines file, one end user a line in the shape of a syncEndUsers item ' +
      '({"externalId": "u1", "displayName": …, "email": …, "avatarUrl": …, "metadata": {…}, "directory": …}), ' +
      'through the same rules as the syncEndUsers mutation, one transaction a batch, audited as SYSTEM. Idempotent: ' +
      'running it again changes nothing. A line that is not JSON or fails validation is reported with its number and ' +
      'skipped. Prints created, updated, unchanged and failed; exits 1 when a line failed.',
  )
  .requiredOption('--workspace <id>', "the workspace's id (as the API shows it, or its uuid)")
  .requiredOption('--file <path>', 'the JSON Lines file', existingFile)
  .option('--from-line <n>', 'start at this line (the first is 1), to resume an interrupted run', wholeNumber(1, Number.MAX_SAFE_INTEGER), 1)
  // 1,000 is syncEndUsers' MAX_SYNC_BATCH.
  .option('--batch-size <lines>', 'lines per transaction, 1 to 1000', wholeNumber(1, 1000), 500)
  .action(async (options: { workspace: string; file: string; fromLine: number; batchSize: number }) => {
    const [{ readFile }, { syncEndUsersAsSystem }, { openDatabase }, { startProgress }, { openPubSub }, { PrincipalCache }, { createLogger }] = await Promise.all([
      import('node:fs/promises'),
      import('./modules/end-user/end-user.service.js'),
      import('./platform/db/database.js'),
      import('./platform/progress.js'),
      import('./platform/pubsub.js'),
      import('./auth/principal-cache.js'),
      import('./platform/logger.js'),
    ]);
    const config = loadConfig();
    const lines = (await readFile(options.file, 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    const counts = { CREATED: 0, UPDATED: 0, UNCHANGED: 0 };
    const failures: { line: number; reason: string }[] = [];
    // With REDIS_URL, the running instances hear what each batch changed, as after the mutation. Without it there
    // is no one to tell: the embedded database opens only while the service is stopped, and a single instance
    // on PostgreSQL drops what it cached within HEDDLE_AUTH_CACHE_TTL_MS.
    const pubsub = await openPubSub(config.pubsub, createLogger('warn', process.stderr));
    const database = await openDatabase(config.database).catch(async (error: unknown) => {
      await pubsub.close();
      throw error;
    });
    // This process caches no principal: its cache only announces.
    const services = { prisma: database.prisma, pubsub, principals: new PrincipalCache(pubsub, 0) };
    const progress = startProgress({ total: lines.length, unit: 'lines' });
    let next = options.fromLine - 1; // index of the first line not yet stored
    try {
      for (; next < lines.length; next += options.batchSize) {
        const items: unknown[] = [];
        const lineOf: number[] = [];
        lines.slice(next, next + options.batchSize).forEach((text, offset) => {
          const line = next + offset + 1;
          if (!text.trim()) return;
          try {
            items.push(JSON.parse(text));
            lineOf.push(line);
          } catch (error) {
            failures.push({ line, reason: `not JSON: ${(error as Error).message}` });
          }
        });
        const { results } = items.length ? await syncEndUsersAsSystem(services, options.workspace, items) : { results: [] };
        for (const result of results) {
          if (result.status !== 'FAILED') counts[result.status]++;
          else failures.push({ line: lineOf[result.index]!, reason: result.fieldErrors.map((e) => [e.path.slice(1).join('.'), e.message].filter(Boolean).join(': ')).join('; ') });
        }
        const ok = counts.CREATED + counts.UPDATED + counts.UNCHANGED;
        progress.update({ done: Math.min(next + options.batchSize, lines.length), ok, failed: failures.length });
      }
    } catch (error) {
      progress.stop();
      if (next > options.fromLine - 1) process.stderr.write(`heddle: lines ${options.fromLine}-${next} are stored; resume with --from-line ${next + 1}\n`);
      throw error;
    } finally {
      progress.stop();
      await database.close();
      await pubsub.close();
    }
    failures.sort((a, b) => a.line - b.line);
    process.stdout.write(
      `sync-users: lines ${options.fromLine}-${lines.length}: ${counts.CREATED} created, ${counts.UPDATED} updated, ` +
        `${counts.UNCHANGED} unchanged, ${failures.length} failed\n`,
    );
    for (const failure of failures) process.stderr.write(`heddle: line ${failure.line}: ${failure.reason}\n`);
    if (failures.length) process.exitCode = 1;
  });

function duration(value: string): string {
  if (!/^[1-9]\d*[smhd]$/.test(value)) throw new InvalidArgumentError('Expected a whole number of s, m, h or d, such as 30m, 12h or 7d.');
  return value;
}

function existingFile(value: string): string {
  if (!existsSync(value)) throw new InvalidArgumentError(`No such file: ${value}.`);
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
