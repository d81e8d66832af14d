// EndUser.peers is read for a whole page of end users in one statement (issue
// #23): in SQL, with the peers rule's SQL rendering and pages cut per end user.
// Here: the rule's two renderings (peersWhere for Prisma, peersSql) agree on
// every pair of end users, and the peers page forwards and backwards exactly
// as the list they come from. The statement count is in statement-count.test.ts.
import { expect } from 'vitest';
import { peersSql, peersWhere } from '../../src/auth/registry.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { decodeId } from '../../src/platform/ids.js';
import { graphql } from '../generated/index.js';
import type { TestApp } from '../support/app.js';
import { describeEachBackend, ALL_BACKENDS } from '../support/backends.js';
import { seedEndUser, seedWorkspace } from '../support/fixtures.js';

const CreateSpace = graphql(`
  mutation PeCreateSpace($input: CreateSpaceInput!) {
    createSpace(input: $input) { __typename ... on Space { id } ...ErrorFields }
  }
`);
const AddMembers = graphql(`
  mutation PeAddMembers($input: SpaceMembersInput!) {
    addSpaceMembers(input: $input) { __typename ...ErrorFields }
  }
`);
const PeersPage = graphql(`
  query PePeersPage($ws: ID!, $externalId: String!, $first: Int, $after: String, $last: Int, $before: String) {
    workspace(id: $ws) {
      endUser(externalId: $externalId) {
        peers(first: $first, after: $after, last: $last, before: $before) {
          totalCount
          edges { cursor node { externalId } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
      }
    }
  }
`);

describeEachBackend(
  'EndUser.peers',
  (_backend, test) => {
    async function space(t: TestApp, owner: string, workspaceId: string, uid: string, members: string[]) {
      const created = (await t.request(CreateSpace, { input: { workspaceId, uid } }, owner)).data!.createSpace;
      if (created.__typename !== 'Space') throw new Error(JSON.stringify(created));
      const added = (await t.request(AddMembers, { input: { spaceId: created.id, endUserIds: members } }, owner)).data!.addSpaceMembers;
      expect(added.__typename).not.toMatch(/Error$/);
    }

    test('peersWhere and peersSql agree on every pair: directories, the default directory, spaces, other workspaces, oneself', async ({ t, tenant: { token: owner, organizationId: orgId } }) => {
      const ws = await seedWorkspace(t, owner, orgId, 'agree');
      const other = await seedWorkspace(t, owner, orgId, 'agree-other');
      const user = async (externalId: string, directory?: string, workspaceId = ws) => (await seedEndUser(t, owner, { workspaceId, externalId, directory })).id;
      const ids: Record<string, string> = {};
      const users: [string, string | undefined][] = [['d1a', 'd1'], ['d1b', 'd1'], ['d2', 'd2'], ['n1', undefined], ['n2', undefined], ['s1', 'd3'], ['s2', 'd4']];
      for (const [externalId, directory] of users) ids[externalId] = await user(externalId, directory);
      await user('elsewhere', undefined, other);
      await user('elsewhere-d1', 'd1', other);
      await space(t, owner, ws, 'shared', [ids.d1a!, ids.s1!]);
      await space(t, owner, ws, 'pair', [ids.s2!, ids.n1!]);
      await space(t, owner, ws, 'alone', [ids.d2!]);

      const prisma = t.app.database.prisma;
      const rows = await prisma.endUser.findMany({
        where: { workspace: { organizationId: decodeId(orgId, 'Organization')! } },
        select: { id: true, externalId: true, workspaceId: true, directoryId: true },
        orderBy: { externalId: 'asc' },
      });
      expect(rows).toHaveLength(9);
      const byPrisma: string[] = [];
      const bySql: string[] = [];
      for (const self of rows) {
        const viaPrisma = await prisma.endUser.findMany({ where: peersWhere(self), select: { externalId: true }, orderBy: { externalId: 'asc' } });
        const values = { id: Prisma.sql`${self.id}::uuid`, workspaceId: Prisma.sql`${self.workspaceId}::uuid`, directoryId: Prisma.sql`${self.directoryId}::uuid` };
        const viaSql = await prisma.$queryRaw<{ externalId: string }[]>`
          SELECT e."externalId" FROM "EndUser" e WHERE ${peersSql(values, Prisma.sql`e`)} ORDER BY e."externalId"`;
        byPrisma.push(`${self.externalId}: ${viaPrisma.map((p) => p.externalId).join(' ')}`);
        bySql.push(`${self.externalId}: ${viaSql.map((p) => p.externalId).join(' ')}`);
      }
      expect(bySql).toEqual(byPrisma);
      // Not vacuous: each case of the rule shows.
      expect(byPrisma).toEqual([
        'd1a: d1b s1', // same directory; a common space across directories
        'd1b: d1a',
        'd2: ', // alone in its directory and its space
        'elsewhere: ', // another workspace's default directory is not this one's
        'elsewhere-d1: ', // nor its d1
        'n1: n2 s2', // the default directory; a space
        'n2: n1',
        's1: d1a',
        's2: n1',
      ]);
    });

    test('peers page forwards and backwards like the list they come from, totalCount counting them all', async ({ t, tenant: { token: owner, organizationId: orgId } }) => {
      const ws = await seedWorkspace(t, owner, orgId, 'paging');
      for (const name of ['me', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']) await seedEndUser(t, owner, { workspaceId: ws, externalId: name });
      await seedEndUser(t, owner, { workspaceId: ws, externalId: 'stranger', directory: 'apart' });
      const page = async (args: { first?: number; after?: string | null; last?: number; before?: string | null }) => {
        const result = await t.request(PeersPage, { ws, externalId: 'me', ...args }, owner);
        expect(result.errors).toBeUndefined();
        const peers = result.data!.workspace!.endUser!.peers;
        return { ...peers, names: peers.edges.map((edge) => edge.node.externalId) };
      };

      const first = await page({ first: 3 });
      expect(first).toMatchObject({ totalCount: 7, names: ['p1', 'p2', 'p3'], pageInfo: { hasNextPage: true, hasPreviousPage: false } });
      const second = await page({ first: 3, after: first.pageInfo.endCursor });
      expect(second).toMatchObject({ names: ['p4', 'p5', 'p6'], pageInfo: { hasNextPage: true, hasPreviousPage: true } });
      const third = await page({ first: 3, after: second.pageInfo.endCursor });
      expect(third).toMatchObject({ totalCount: 7, names: ['p7'], pageInfo: { hasNextPage: false, hasPreviousPage: true } });

      const last = await page({ last: 2 });
      expect(last).toMatchObject({ names: ['p6', 'p7'], pageInfo: { hasNextPage: false, hasPreviousPage: true } });
      const before = await page({ last: 2, before: last.pageInfo.startCursor });
      expect(before).toMatchObject({ names: ['p4', 'p5'], pageInfo: { hasNextPage: true, hasPreviousPage: true } });
      const start = await page({ last: 5, before: before.pageInfo.startCursor });
      expect(start).toMatchObject({ names: ['p1', 'p2', 'p3'], pageInfo: { hasNextPage: true, hasPreviousPage: false } });
      // The cursors are the same as the list's own.
      expect(second.edges[0]!.cursor).toBe((await page({ first: 4 })).edges[3]!.cursor);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
);
