// Schema files declare types and thin fields: a field validates its input
// shape and calls a service. Transactions, writes, the outbox and the audit
// log live in services (issue #19), so a schema file that does one fails here.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const MODULES = new URL('../../src/modules/', import.meta.url).pathname;

const FORBIDDEN: [string, RegExp][] = [
  ['opens a transaction', /\$transaction\b/],
  ['runs raw SQL', /\$(?:execute|query)Raw/],
  ['writes through Prisma', /\.(?:create|createMany|createManyAndReturn|update|updateMany|upsert|delete|deleteMany)\(/],
  ['writes the outbox', /outbox\.commit|recordWorkspaceConfigChange/],
  ['writes the audit log', /\b(?:auditChange|auditedTransaction|recordAudit|mutationAuditSql|auditInsertSql)\b/],
];

async function schemaFiles(): Promise<string[]> {
  const modules = await readdir(MODULES, { withFileTypes: true });
  const files = await Promise.all(
    modules.filter((entry) => entry.isDirectory()).map(async (dir) =>
      (await readdir(join(MODULES, dir.name))).filter((name) => name.endsWith('.schema.ts')).map((name) => join(dir.name, name)),
    ),
  );
  return files.flat().sort();
}

test('no schema file opens a transaction, writes rows, the outbox or the audit log', async () => {
  const files = await schemaFiles();
  expect(files.length).toBeGreaterThan(15);
  const findings: string[] = [];
  for (const file of files) {
    const lines = (await readFile(join(MODULES, file), 'utf8')).split('\n');
    lines.forEach((line, index) => {
      for (const [what, pattern] of FORBIDDEN) if (pattern.test(line)) findings.push(`${file}:${index + 1} ${what}: ${line.trim()}`);
    });
  }
  expect(findings).toEqual([]);
});

test('the scan recognises each forbidden call', () => {
  const samples = ['ctx.prisma.$transaction(async (tx) => {', 'tx.$executeRaw`SELECT 1`', 'ctx.prisma.workspace.update({', 'ctx.outbox.commit(', 'await auditChange(tx, p, {})'];
  expect(samples.map((sample) => FORBIDDEN.some(([, pattern]) => pattern.test(sample)))).toEqual(samples.map(() => true));
});
