import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { migrate, MigrationError, readMigrations } from '../../src/platform/db/migrate.js';
import { diffMigrationsToSchema } from '../../src/platform/db/schema-engine.js';
import { createPostgresDatabase } from '../support/app.js';

test('schema.prisma and the committed migrations agree (drift check)', { timeout: 120_000 }, async () => {
  expect(await diffMigrationsToSchema()).toBe('');
});

describe('applying migrations to embedded PGlite', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  });
  afterAll(() => db.close());

  test('applies every migration once and records it as Prisma does', async () => {
    const files = await readMigrations();
    expect(await migrate(db)).toEqual(files.map((f) => f.name));
    expect(await migrate(db)).toEqual([]);
    const session = await db.session();
    const rows = await session.query<{ migration_name: string; checksum: string; applied_steps_count: number; finished_at: Date | null }>(
      'SELECT migration_name, checksum, applied_steps_count, finished_at FROM "_prisma_migrations" ORDER BY migration_name',
    );
    await session.release();
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(createHash('sha256').update(files[i]!.sql).digest('hex'));
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).not.toBeNull();
    }
  });

  test('a failing migration leaves no trace: no table, no record', async () => {
    const files = await readMigrations();
    const broken = { name: '29990101000000_broken', checksum: 'x', sql: 'CREATE TABLE "Half" (id int); SELECT no_such_function();' };
    await expect(migrate(db, [...files, broken])).rejects.toBeInstanceOf(MigrationError);
    const session = await db.session();
    const tables = await session.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'`);
    const records = await session.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1`, [broken.name]);
    await session.release();
    expect(tables).toEqual([]);
    expect(records).toEqual([]);
  });
});

describe.skipIf(inject('services').postgres !== null)('applying migrations to PostgreSQL', () => {
  test('two instances migrating one empty database at once apply each migration exactly once', async () => {
    const target = await createPostgresDatabase();
    const [a, b] = await Promise.all([1, 2].map(() => openDatabase({ kind: 'postgres', url: target.url, poolSize: 2 })));
    try {
      const [appliedByA, appliedByB] = await Promise.all([migrate(a!), migrate(b!)]);
      const names = (await readMigrations()).map((f) => f.name);
      expect([...appliedByA, ...appliedByB].sort()).toEqual(names);
      const session = await a!.session();
      const rows = await session.query<{ migration_name: string; n: number }>(
        'SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name',
      );
      await session.release();
      expect(rows).toEqual(names.map((migration_name) => ({ migration_name, n: 1 })));
    } finally {
      await Promise.all([a!.close(), b!.close()]);
      await target.drop();
    }
  });
});
