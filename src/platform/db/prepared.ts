// Hot statements of our own (raw SQL run on every request) are named prepared
// statements: PostgreSQL plans each once per connection instead of on every
// run, and some take longer to plan than to run (resolveConnection's read:
// 1.8 ms planning, 0.6 ms execution). Statements opt in, because Prisma's
// generated ones vary without bound (IN lists of every length) and named
// statements stay on the server for the connection's life.
// PgBouncer in transaction mode needs 1.21 or newer (max_prepared_statements).
import { createHash } from 'node:crypto';
import { Prisma } from '../../generated/prisma/client.js';

const MARKER = '/* prepared */ ';
const names = new Map<string, string>();

/** `sql` as a statement that is prepared once per connection (its text must not vary with the values). */
export function prepared(sql: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`${Prisma.raw(MARKER)}${sql}`;
}

/** The name of a statement that opted in through `prepared`; '' (unnamed, planned at each run) otherwise. */
export function preparedStatementName(text: string): string {
  if (!text.startsWith(MARKER)) return '';
  let name = names.get(text);
  if (!name) {
    name = `heddle_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}
