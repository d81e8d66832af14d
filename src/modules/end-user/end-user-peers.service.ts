// EndUser.peers for a whole page of end users in one statement (issue #23):
// the peers rule (peersSql) and the caller's tenancy (visibleSql) come from
// the permission registry; each end user's page is cut in SQL (a LATERAL
// join), with the page arguments Pothos derived from first/after/last/before.
import DataLoader from 'dataloader';
import { peersSql, visibleSql } from '../../auth/registry.js';
import { Prisma, type EndUser } from '../../generated/prisma/client.js';
import { safeUuid } from '../../platform/ids.js';
import type { Context } from '../common/context.js';

/** Pothos's page of a cursor connection: `take` is signed (negative: backwards) and asks one row more. */
export interface PeerPage {
  take: number;
  skip: number;
  cursor?: { id?: string };
}

export interface Peers {
  /** In connection order (oldest first), whichever way the page was read. */
  rows: EndUser[];
  /** All the caller may see, whatever the page; null when not asked for. */
  total: number | null;
}

type Request = { page: PeerPage | null; withTotal: boolean };

const loadersByRequest = new WeakMap<Context, Map<string, DataLoader<string, Peers>>>();
const answersByRequest = new WeakMap<Context, Map<string, Promise<Peers>>>();

/**
 * The peers of one end user that the caller may see. Every end user of a
 * request asking for the same page shares one statement. The first call for
 * an end user and `args` decides what is read; a later one that needs the
 * total when it was not read (totalCount alone, or after the nodes) reads it.
 */
export async function peersOf(ctx: Context, endUserId: string, args: object, request: Request): Promise<Peers> {
  let answers = answersByRequest.get(ctx);
  if (!answers) answersByRequest.set(ctx, (answers = new Map()));
  const key = `${endUserId} ${JSON.stringify(args)}`;
  let answer = answers.get(key);
  if (!answer) answers.set(key, (answer = loaderFor(ctx, request).load(endUserId)));
  const peers = await answer;
  if (request.withTotal && peers.total === null) return loaderFor(ctx, { page: null, withTotal: true }).load(endUserId);
  return peers;
}

function loaderFor(ctx: Context, request: Request): DataLoader<string, Peers> {
  let loaders = loadersByRequest.get(ctx);
  if (!loaders) loadersByRequest.set(ctx, (loaders = new Map()));
  const key = JSON.stringify(request);
  let loader = loaders.get(key);
  if (!loader) {
    loader = new DataLoader(async (ids) => {
      const found = await readPeers(ctx, ids, request);
      return ids.map((id) => found.get(id) ?? { rows: [], total: 0 });
    });
    loaders.set(key, loader);
  }
  return loader;
}

async function readPeers(ctx: Context, ids: readonly string[], { page, withTotal }: Request): Promise<Map<string, Peers>> {
  const owner = { id: Prisma.sql`o."id"`, workspaceId: Prisma.sql`o."workspaceId"`, directoryId: Prisma.sql`o."directoryId"` };
  const seen = Prisma.sql`${peersSql(owner, Prisma.sql`e`)} AND ${visibleSql('EndUser', ctx.principal, Prisma.sql`e`)}`;
  const total = withTotal
    ? Prisma.sql`LEFT JOIN LATERAL (SELECT count(*)::int AS "total" FROM "EndUser" e WHERE ${seen}) t ON TRUE`
    : Prisma.empty;
  let rows = Prisma.empty;
  let backward = false;
  if (page) {
    // As Prisma pages: from the cursor row on (skip 1 leaves it out), in
    // (createdAt, id) order, reversed for a backward page.
    backward = page.take < 0;
    const order = backward ? Prisma.sql`DESC` : Prisma.sql`ASC`;
    const from = page.cursor
      ? Prisma.sql`AND (e."createdAt", e."id") ${backward ? Prisma.sql`<=` : Prisma.sql`>=`}
          (SELECT c."createdAt", c."id" FROM "EndUser" c WHERE c."id" = ${safeUuid(page.cursor.id ?? '')}::uuid)`
      : Prisma.empty;
    rows = Prisma.sql`LEFT JOIN LATERAL (
      SELECT e.* FROM "EndUser" e WHERE ${seen} ${from}
      ORDER BY e."createdAt" ${order}, e."id" ${order} OFFSET ${page.skip} LIMIT ${Math.abs(page.take)}
    ) p ON TRUE`;
  }
  const found = await ctx.prisma.$queryRaw<(EndUser & { ownerId: string; total: number | null })[]>`
    SELECT o."id" AS "ownerId", ${withTotal ? Prisma.sql`t."total"` : Prisma.sql`NULL::int AS "total"`}${page ? Prisma.sql`, p.*` : Prisma.empty}
    FROM "EndUser" o ${total} ${rows}
    WHERE o."id" = ANY(${[...ids]}::uuid[])`;
  const peers = new Map<string, Peers>();
  for (const { ownerId, total, ...row } of found) {
    let entry = peers.get(ownerId);
    if (!entry) peers.set(ownerId, (entry = { rows: [], total }));
    if (row.id) entry.rows.push(row);
  }
  if (backward) for (const entry of peers.values()) entry.rows.reverse();
  return peers;
}
