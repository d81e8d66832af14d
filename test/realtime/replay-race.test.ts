// A subscriber resuming with sinceVersion is told SINCE_VERSION_EXPIRED only
// when the events it needs were really pruned. The check reads the current
// version and the oldest kept event in one snapshot, so a change committing
// at the same moment cannot make a fresh subscriber look expired.
import pg from 'pg';
import { expect } from 'vitest';
import { assertReplayable, workspaceConfigSubject } from '../../src/modules/realtime/config-stream.js';
import { decodeId } from '../../src/platform/ids.js';
import { recordWorkspaceConfigChange } from '../../src/platform/outbox.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import type { TestApp } from '../support/app.js';
import { seedWorkspace } from '../support/fixtures.js';

const SUBSCRIBERS = 200;
const PER_SOCKET = 50;

describeEachBackend(
  'replay check under concurrent commits',
  (backend, test) => {
    let t: TestApp;
    let token: string;
    let workspaceIds: string[];

    test.beforeAll(async ({ t: app, tenant }) => {
      [t, token] = [app, tenant.token];
      const orgId = tenant.organizationId;
      workspaceIds = [];
      for (let i = 0; i < SUBSCRIBERS; i += 20) {
        const batch = Array.from({ length: Math.min(20, SUBSCRIBERS - i) }, (_, j) => seedWorkspace(t, token, orgId, `race-${i + j}`));
        workspaceIds.push(...(await Promise.all(batch)));
      }
    });

    test.skipIf(backend.database !== 'postgres')(
      '200 checks waiting while the first change commits: every one sees the change whole (version and event together)',
      async () => {
        const prisma = t.app.database.prisma;
        const id = decodeId(workspaceIds[0]!, 'Workspace')!;
        let checks: Promise<PromiseSettledResult<void>[]> | undefined;
        await prisma.$transaction(
          async (tx) => {
            // Readers of the Workspace table wait for this transaction; readers of ConfigEvent do not.
            await tx.$executeRaw`LOCK TABLE "Workspace" IN ACCESS EXCLUSIVE MODE`;
            await recordWorkspaceConfigChange(tx, id, 'WORKSPACE_UPDATED');
            checks = Promise.allSettled(Array.from({ length: SUBSCRIBERS }, () => assertReplayable(prisma, workspaceConfigSubject(id), 0)));
            // Watched from outside the app's pool, which the checks fill.
            const observer = new pg.Client({ connectionString: (t.app.config.database as { url: string }).url });
            await observer.connect();
            const waiting = async () =>
              (await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = '"Workspace"'::regclass`))
                .rows[0]!.n;
            await expect.poll(waiting, { timeout: 10_000 }).toBeGreaterThan(0).finally(() => observer.end());
          },
          { timeout: 30_000 },
        );
        const settled = await checks!;
        expect(settled.filter((check) => check.status === 'rejected')).toEqual([]);
      },
    );

    test(`over graphql-ws: ${SUBSCRIBERS} subscribes with sinceVersion 0, each meeting its workspace's first commit: no SINCE_VERSION_EXPIRED`, async () => {
      const sockets = Array.from({ length: SUBSCRIBERS / PER_SOCKET }, () => t.wsClient(token));
      const firsts = await Promise.all(
        workspaceIds.map(async (workspaceId, i) => {
          const iterator = sockets[Math.floor(i / PER_SOCKET)]!.iterate({
            query: 'subscription($id: ID!) { workspaceConfigChanged(workspaceId: $id, sinceVersion: 0) { version } }',
            variables: { id: workspaceId },
          });
          const [first] = await Promise.all([
            iterator.next().then(
              ({ value }) => value,
              (error: unknown) => ({ errors: error }),
            ),
            t.requestRaw(
              'mutation($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { __typename } }',
              { input: { id: workspaceId, name: `changed ${i}` } },
              token,
            ),
          ]);
          void iterator.return?.();
          return first;
        }),
      );
      const failed = firsts.filter((first) => JSON.stringify(first) !== JSON.stringify({ data: { workspaceConfigChanged: { version: 1 } } }));
      expect(failed).toEqual([]);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
);
