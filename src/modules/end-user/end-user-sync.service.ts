// Mirroring the host product's users: the one implementation behind
// upsertEndUser (one record) and syncEndUsers (up to 1,000). A record sets the
// fields it names and leaves omitted ones as they are; `directory` is a
// directory name (created when missing), null for the default directory.
// The number of statements does not grow with the batch, except one UPDATE
// per record that actually changed.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { EndUser, Prisma } from '../../generated/prisma/client.js';
import type { FieldError } from '../../platform/errors.js';
import { displayNameSchema, externalIdSchema } from '../../platform/identifiers.js';

export const MAX_SYNC_BATCH = 1000;

export const endUserRecordSchema = z.object({
  externalId: externalIdSchema,
  displayName: displayNameSchema.nullish(),
  email: z.email('must be an email address').nullish(),
  avatarUrl: z.url('must be a URL').nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  directory: externalIdSchema.nullish(),
});
export type EndUserRecord = z.infer<typeof endUserRecordSchema>;

export type SyncStatus = 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'FAILED';

export interface SyncItemResult {
  index: number;
  externalId: string | null;
  status: SyncStatus;
  endUser: EndUser | null;
  fieldErrors: FieldError[];
}

/** Validates each raw item; invalid ones and repeated externalIds become FAILED results. */
export function validateRecords(items: readonly unknown[], pathPrefix: string[]) {
  const valid: { index: number; record: EndUserRecord }[] = [];
  const failed: SyncItemResult[] = [];
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const rawExternalId = (item as { externalId?: unknown })?.externalId;
    const externalId = typeof rawExternalId === 'string' ? rawExternalId : null;
    const parsed = endUserRecordSchema.safeParse(item);
    const fail = (fieldErrors: FieldError[]) => failed.push({ index, externalId, status: 'FAILED', endUser: null, fieldErrors });
    if (!parsed.success) {
      const byPath = new Map<string, FieldError>();
      for (const issue of parsed.error.issues) {
        const path = [...pathPrefix, String(index), ...issue.path.map(String)];
        byPath.set(path.join('.'), byPath.get(path.join('.')) ?? { path, message: issue.message });
      }
      return fail([...byPath.values()]);
    }
    if (seen.has(parsed.data.externalId)) {
      return fail([{ path: [...pathPrefix, String(index), 'externalId'], message: 'appears earlier in this call' }]);
    }
    seen.add(parsed.data.externalId);
    valid.push({ index, record: parsed.data });
  });
  return { valid, failed };
}

/** The fields a record sets, as they would be stored. */
function changesOf(record: EndUserRecord, directoryIds: Map<string, string>) {
  const data: Partial<Pick<EndUser, 'displayName' | 'email' | 'avatarUrl' | 'directoryId'>> & { metadata?: unknown } = {};
  if (record.displayName !== undefined) data.displayName = record.displayName;
  if (record.email !== undefined) data.email = record.email;
  if (record.avatarUrl !== undefined) data.avatarUrl = record.avatarUrl;
  if (record.metadata !== undefined) data.metadata = record.metadata;
  if (record.directory !== undefined) data.directoryId = record.directory === null ? null : directoryIds.get(record.directory)!;
  return data;
}

const asJsonInput = (value: unknown) => (value === null ? (null as unknown as Prisma.InputJsonValue) : (value as Prisma.InputJsonValue));

/** Writes the valid records into the workspace inside `tx`; optionally removes everyone else (`removed`: their ids). */
export async function applyEndUserRecords(
  tx: Prisma.TransactionClient,
  workspaceId: string,
  valid: { index: number; record: EndUserRecord }[],
  /** removeMissing: delete the workspace's end users not named in `keep` (every externalId the call listed, valid or not). */
  options: { removeMissing: boolean; keep: string[] },
): Promise<{ results: SyncItemResult[]; removed: string[] }> {
  const directoryNames = [...new Set(valid.flatMap(({ record }) => (record.directory ? [record.directory] : [])))];
  const directoryIds = new Map<string, string>();
  if (directoryNames.length) {
    await tx.directory.createMany({ data: directoryNames.map((name) => ({ workspaceId, name })), skipDuplicates: true });
    const directories = await tx.directory.findMany({ where: { workspaceId, name: { in: directoryNames } }, select: { id: true, name: true } });
    for (const d of directories) directoryIds.set(d.name, d.id);
  }

  const externalIds = valid.map(({ record }) => record.externalId);
  const existing = new Map(
    (await tx.endUser.findMany({ where: { workspaceId, externalId: { in: externalIds } } })).map((u) => [u.externalId, u]),
  );

  const statuses = new Map<string, SyncStatus>();
  /** Sets what the record names on a stored row: UPDATED, or UNCHANGED when it already held it. */
  const applyTo = async (current: EndUser, data: ReturnType<typeof changesOf>): Promise<SyncStatus> => {
    const changed = Object.entries(data).some(([key, value]) => !isDeepStrictEqual(current[key as keyof EndUser] ?? null, value ?? null));
    if (changed) {
      await tx.endUser.update({
        where: { id: current.id },
        data: { ...data, metadata: data.metadata === undefined ? undefined : asJsonInput(data.metadata) },
      });
    }
    return changed ? 'UPDATED' : 'UNCHANGED';
  };
  const toCreate: Prisma.EndUserCreateManyInput[] = [];
  for (const { record } of valid) {
    const data = changesOf(record, directoryIds);
    const current = existing.get(record.externalId);
    if (current) {
      statuses.set(record.externalId, await applyTo(current, data));
      continue;
    }
    toCreate.push({ workspaceId, externalId: record.externalId, ...data, metadata: data.metadata === undefined ? undefined : asJsonInput(data.metadata) });
    statuses.set(record.externalId, 'CREATED');
  }
  if (toCreate.length) {
    const inserted = await tx.endUser.createManyAndReturn({ data: toCreate, skipDuplicates: true, select: { externalId: true } });
    const created = new Set(inserted.map((u) => u.externalId));
    const raced = toCreate.filter((row) => !created.has(row.externalId)).map((row) => row.externalId);
    // A concurrent call created these after our read: our record updates its row, so neither write is lost.
    if (raced.length) {
      const theirs = await tx.endUser.findMany({ where: { workspaceId, externalId: { in: raced } } });
      for (const current of theirs) {
        const { record } = valid.find(({ record }) => record.externalId === current.externalId)!;
        statuses.set(current.externalId, await applyTo(current, changesOf(record, directoryIds)));
      }
    }
  }

  // The ids of exactly the rows deleted: each removed end user loses access as deleteEndUser's does.
  const removed = options.removeMissing
    ? (
        await tx.$queryRaw<{ id: string }[]>`
          DELETE FROM "EndUser" WHERE "workspaceId" = ${workspaceId}::uuid AND NOT ("externalId" = ANY(${options.keep}::text[])) RETURNING "id"`
      ).map((row) => row.id)
    : [];

  const stored = new Map(
    (await tx.endUser.findMany({ where: { workspaceId, externalId: { in: externalIds } } })).map((u) => [u.externalId, u]),
  );
  const results = valid.map(({ index, record }) => ({
    index,
    externalId: record.externalId,
    status: statuses.get(record.externalId)!,
    endUser: stored.get(record.externalId) ?? null,
    fieldErrors: [],
  }));
  return { results, removed };
}
