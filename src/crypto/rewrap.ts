// Key rotation: re-wraps every connection's data key under the newest master
// key of the ring, in batches, while the service runs. Only the wrapped data
// key and its version change, in one row update, so a reader holding either
// master key keeps opening the secret until the old key leaves the ring. Each
// update is a compare-and-set on the old wrapped key: a row re-sealed meanwhile
// (an OAuth2 refresh) is left as the refresh wrote it.
import type { PrismaClient } from '../generated/prisma/client.js';
import { CredentialDecryptionError, type CredentialStore } from './credential-store.js';

export interface RewrapReport {
  /** The master key version every data key should now be wrapped with. */
  keyVersion: number;
  rewrapped: number;
  /** Rows that could not be unwrapped (their master key is not in the ring, or they were tampered with). */
  failed: { id: string; reason: string }[];
  /** Rows still on an older version after the last pass (sealed concurrently by an instance with an older ring). */
  remaining: number;
}

export interface RewrapOptions {
  batchSize?: number;
  /** Passes over the table while concurrent writes leave rows behind. */
  maxPasses?: number;
  onBatch?: (progress: { rewrapped: number; failed: number }) => void;
}

export async function rewrapConnectionKeys(
  prisma: PrismaClient,
  store: CredentialStore,
  options: RewrapOptions = {},
): Promise<RewrapReport> {
  const batchSize = options.batchSize ?? 500;
  const report: RewrapReport = { keyVersion: store.keyVersion, rewrapped: 0, failed: [], remaining: 0 };
  const failedIds = new Set<string>();
  for (let pass = 0; pass < (options.maxPasses ?? 3); pass++) {
    let missed = 0;
    let cursor: string | undefined;
    for (;;) {
      const rows = await prisma.connection.findMany({
        where: { keyVersion: { not: store.keyVersion }, ...(cursor ? { id: { gt: cursor } } : {}) },
        orderBy: { id: 'asc' },
        take: batchSize,
        select: { id: true, organizationId: true, secretCiphertext: true, wrappedDataKey: true, keyVersion: true },
      });
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.id;
      const ids: string[] = [];
      const oldKeys: string[] = [];
      const newKeys: string[] = [];
      for (const row of rows) {
        if (!row.secretCiphertext || !row.wrappedDataKey || row.keyVersion === null || failedIds.has(row.id)) continue;
        try {
          const sealed = { secretCiphertext: row.secretCiphertext, wrappedDataKey: row.wrappedDataKey, keyVersion: row.keyVersion };
          const rewrapped = store.rewrap({ organizationId: row.organizationId, connectionId: row.id }, sealed);
          ids.push(row.id);
          oldKeys.push(Buffer.from(row.wrappedDataKey).toString('base64'));
          newKeys.push(Buffer.from(rewrapped.wrappedDataKey).toString('base64'));
        } catch (error) {
          if (!(error instanceof CredentialDecryptionError)) throw error;
          failedIds.add(row.id);
          report.failed.push({ id: row.id, reason: error.message });
        }
      }
      if (ids.length) {
        const updated = await prisma.$executeRaw`
          UPDATE "Connection" AS c
          SET "wrappedDataKey" = decode(u.new_key, 'base64'), "keyVersion" = ${store.keyVersion}
          FROM unnest(${ids}::uuid[], ${oldKeys}::text[], ${newKeys}::text[]) AS u(id, old_key, new_key)
          WHERE c.id = u.id AND c."wrappedDataKey" = decode(u.old_key, 'base64')`;
        report.rewrapped += updated;
        missed += ids.length - updated;
      }
      options.onBatch?.({ rewrapped: report.rewrapped, failed: report.failed.length });
    }
    if (missed === 0) break;
  }
  report.remaining = await prisma.connection.count({ where: { keyVersion: { not: store.keyVersion }, id: { notIn: [...failedIds] } } });
  return report;
}
