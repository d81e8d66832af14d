// `npm run print-schema` writes schema.graphql; `-- --check` fails when it is stale.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/platform/db/paths.js';
import { printSchemaSdl } from '../src/schema/index.js';

const file = path.join(PROJECT_ROOT, 'schema.graphql');
const sdl = printSchemaSdl();
if (process.argv.includes('--check')) {
  const committed = await readFile(file, 'utf8').catch(() => '');
  if (committed !== sdl) {
    console.error('schema.graphql is stale: run `npm run print-schema` and commit it');
    process.exit(1);
  }
  console.log('schema.graphql matches the schema');
} else {
  await writeFile(file, sdl);
  console.log('wrote schema.graphql');
}
