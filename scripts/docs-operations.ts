// npm run docs:operations: writes the environment table of docs/operations.md
// and README.md from envSchema (scripts/environment-table.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { DOCUMENTS, withEnvironmentTable } from './environment-table.js';

for (const path of DOCUMENTS) {
  const before = readFileSync(path, 'utf8');
  const after = withEnvironmentTable(before, path);
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`${path}: ${after === before ? 'up to date' : 'updated'}\n`);
}
