// `npm run heddle -- <command>`: operator commands.
//   token --email <email> [--name <name>] [--sub <subject>] [--expires-in 12h]
//     prints a member session token signed with the configured HEDDLE_JWT_SECRET
//     (or the development secret under HEDDLE_DATA_DIR).
import { parseArgs } from 'node:util';
import { signMemberToken } from './auth/principal.js';
import { ConfigError, loadConfig } from './config.js';

const [command, ...rest] = process.argv.slice(2);

function usage(): never {
  process.stderr.write('usage: npm run heddle -- token --email <email> [--name <name>] [--sub <subject>] [--expires-in 12h]\n');
  process.exit(2);
}

try {
  if (command !== 'token') usage();
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
  const token = await signMemberToken(
    config.jwt.secret,
    { sub: values.sub ?? `dev|${values.email}`, email: values.email, name: values.name },
    values['expires-in'],
  );
  process.stdout.write(token + '\n');
} catch (error) {
  const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message;
  process.stderr.write(`heddle: ${message}\n`);
  process.exit(1);
}
