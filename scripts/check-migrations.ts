// Drift check: fails when schema.prisma and the committed migrations disagree.
import { diffMigrationsToSchema } from '../src/platform/db/schema-engine.js';

const sql = await diffMigrationsToSchema();
if (sql) {
  console.error('schema.prisma and prisma/migrations disagree; run `npm run db:migration:new -- <name>`. Missing SQL:\n' + sql);
  process.exit(1);
}
console.log('migrations match schema.prisma');
