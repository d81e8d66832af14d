// Key rotation: re-wraps every sealed secret's data key (connections, OAuth
// apps, connect sessions' PKCE verifiers) under the newest master key of the
// ring, in batches, while the service runs. Only the wrapped data key and its
// version change, in one row update, so a reader holding either master key
// keeps opening the secret until the old key leaves the ring. Each update is a
// compare-and-set on the old wrapped key: a row re-sealed meanwhile (an OAuth2
// refresh) is left as the refresh wrote it.
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import { CredentialDecryptionError, type CredentialStore, type SecretBinding } from './credential-store.js';

export interface RewrapReport {
  /** The master key version every data key should now be wrapped with. */
  keyVersion: number;
  rewrapped: number;
  /** Rows that could not be unwrapped (their master key is not in the ring, or they were tampered with). */
  failed: { table: string; id: string; reason: string }[];
  /** Rows still on an older version after the last pass (sealed concurrently by an instance with an older ring). */
  remaining: number;
}

export interface RewrapOptions {
  batchSize?: number;
  /** Passes over the tables while concurrent writes leave rows behind. */
  maxPasses?: number;
  /** Before the first batch: how many rows are not on the newest version (rows sealed meanwhile come on top). */
  onStart?: (total: number) => void;
  onBatch?: (progress: { rewrapped: number; failed: number }) => void;
}

interface SealedRow {
  id: string;
  organizationId: string;
  secretCiphertext: Uint8Array | null;
  wrappedDataKey: Uint8Array | null;
  keyVersion: number | null;
  /** OAuth apps are bound to their integration, not their id. */
  integrationName?: string;
}

/** A table holding sealed secrets, and what each row's secret is bound to. */
interface SealedTable {
  name: 'Connection' | 'OAuthApp' | 'ConnectSession';
  /** Rows not on `version`, after `cursor` (by id), `take` at most. */
  find(prisma: PrismaClient, version: number, cursor: string | undefined, take: number): Promise<SealedRow[]>;
  count(prisma: PrismaClient, version: number, except: string[]): Promise<number>;
  binding(row: SealedRow): SecretBinding;
}

const sealedColumns = { id: true, organizationId: true, secretCiphertext: true, wrappedDataKey: true, keyVersion: true } as const;
const page = (version: number, cursor: string | undefined) => ({
  where: { keyVersion: { not: version }, ...(cursor ? { id: { gt: cursor } } : {}) },
  orderBy: { id: 'asc' as const },
});
const others = (version: number, except: string[]) => ({ where: { keyVersion: { not: version }, id: { notIn: except } } });

const SEALED_TABLES: SealedTable[] = [
  {
    name: 'Connection',
    find: (prisma, version, cursor, take) => prisma.connection.findMany({ ...page(version, cursor), take, select: sealedColumns }),
    count: (prisma, version, except) => prisma.connection.count(others(version, except)),
    binding: (row) => ({ organizationId: row.organizationId, connectionId: row.id }),
  },
  {
    name: 'OAuthApp',
    find: (prisma, version, cursor, take) =>
      prisma.oAuthApp.findMany({ ...page(version, cursor), take, select: { ...sealedColumns, integrationName: true } }),
    count: (prisma, version, except) => prisma.oAuthApp.count(others(version, except)),
    binding: (row) => ({ organizationId: row.organizationId, oauthApp: row.integrationName! }),
  },
  {
    name: 'ConnectSession',
    find: (prisma, version, cursor, take) => prisma.connectSession.findMany({ ...page(version, cursor), take, select: sealedColumns }),
    count: (prisma, version, except) => prisma.connectSession.count(others(version, except)),
    binding: (row) => ({ organizationId: row.organizationId, connectSessionId: row.id }),
  },
];

export async function rewrapDataKeys(prisma: PrismaClient, store: CredentialStore, options: RewrapOptions = {}): Promise<RewrapReport> {
  const report: RewrapReport = { keyVersion: store.keyVersion, rewrapped: 0, failed: [], remaining: 0 };
  if (options.onStart) {
    const counts = await Promise.all(SEALED_TABLES.map((table) => table.count(prisma, store.keyVersion, [])));
    options.onStart(counts.reduce((sum, count) => sum + count, 0));
  }
  for (const table of SEALED_TABLES) {
    const failedIds = new Set<string>();
    for (let pass = 0; pass < (options.maxPasses ?? 3); pass++) {
      const missed = await rewrapPass(prisma, store, table, failedIds, report, options);
      if (missed === 0) break;
    }
    report.remaining += await table.count(prisma, store.keyVersion, [...failedIds]);
  }
  return report;
}

/** One pass over a table; returns how many rows were re-sealed concurrently (and so missed). */
async function rewrapPass(
  prisma: PrismaClient,
  store: CredentialStore,
  table: SealedTable,
  failedIds: Set<string>,
  report: RewrapReport,
  options: RewrapOptions,
): Promise<number> {
  let missed = 0;
  let cursor: string | undefined;
  for (;;) {
    const rows = await table.find(prisma, store.keyVersion, cursor, options.batchSize ?? 500);
    if (rows.length === 0) return missed;
    cursor = rows[rows.length - 1]!.id;
    const ids: string[] = [];
    const oldKeys: string[] = [];
    const newKeys: string[] = [];
    for (const row of rows) {
      if (!row.secretCiphertext || !row.wrappedDataKey || row.keyVersion === null || failedIds.has(row.id)) continue;
      try {
        const sealed = { secretCiphertext: new Uint8Array(row.secretCiphertext), wrappedDataKey: new Uint8Array(row.wrappedDataKey), keyVersion: row.keyVersion };
        const rewrapped = store.rewrap(table.binding(row), sealed);
        ids.push(row.id);
        oldKeys.push(Buffer.from(row.wrappedDataKey).toString('base64'));
        newKeys.push(Buffer.from(rewrapped.wrappedDataKey).toString('base64'));
      } catch (error) {
        if (!(error instanceof CredentialDecryptionError)) throw error;
        failedIds.add(row.id);
        report.failed.push({ table: table.name, id: row.id, reason: error.message });
      }
    }
    if (ids.length) {
      const updated = await prisma.$executeRaw`
        UPDATE ${Prisma.raw(`"${table.name}"`)} AS c
        SET "wrappedDataKey" = decode(u.new_key, 'base64'), "keyVersion" = ${store.keyVersion}
        FROM unnest(${ids}::uuid[], ${oldKeys}::text[], ${newKeys}::text[]) AS u(id, old_key, new_key)
        WHERE c.id = u.id AND c."wrappedDataKey" = decode(u.old_key, 'base64')`;
      report.rewrapped += updated;
      missed += ids.length - updated;
    }
    options.onBatch?.({ rewrapped: report.rewrapped, failed: report.failed.length });
  }
}
