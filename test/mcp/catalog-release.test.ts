// Catalog releases reach stored MCP tools (issue #23, item 6): a server whose
// stored tools an older release derived (written here straight into the
// database) is re-derived when an instance of this release starts, with one
// mcpToolsChanged event, and an MCP SDK client session open on another running
// instance is told notifications/tools/list_changed through the pub/sub.
// Several instances need one database: PostgreSQL only.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import type { Prisma } from '../../src/generated/prisma/client.js';
import { createPostgresDatabase, startTestApp, subscribeWs, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { catalogActions, connectMcp, seedMcpServer, type SeededMcpServer } from '../support/mcp.js';

const ServerTools = graphql(`
  query CrServerTools($id: ID!) { node(id: $id) { ... on McpServer { toolsVersion tools { name description } } } }
`);
const ToolsChanged = graphql(`
  subscription CrToolsChanged($id: ID!, $since: Int) {
    mcpToolsChanged(mcpServerId: $id, sinceVersion: $since) { version added removed changed tools { name } }
  }
`);

const sorted = (list: string[]) => [...list].sort();

describeEachBackend(
  'MCP tools after a catalog release',
  (backend) => {
    let database: { url: string; drop(): Promise<void> };
    let running: TestApp;
    const started: TestApp[] = [];
    let owner: string;
    let server: SeededMcpServer;
    const start = async () => {
      const t = await startTestApp(backend, { databaseUrl: database.url });
      started.push(t);
      return t;
    };

    beforeAll(async () => {
      database = await createPostgresDatabase();
      running = await start();
      owner = await running.memberToken('owner@catalog-release.test');
      const workspaceId = await seedWorkspace(running, owner, await seedOrganization(running, owner, 'catalog-release'), 'agents');
      const slack = await seedConnection(running, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
      await seedIntegration(running, owner, { workspaceId, integrationName: 'slack', alias: 'bot', connectionStrategy: 'FIXED', connectionId: slack });
      server = await seedMcpServer(running, owner, { workspaceId });
    }, 60_000);
    afterAll(async () => {
      for (const t of started.reverse()) await t.stop();
      await database?.drop();
    });

    const toolsOf = async (t: TestApp) => {
      const result = await t.request(ServerTools, { id: server.id }, owner);
      return result.data?.node as { toolsVersion: number; tools: { name: string; description: string }[] };
    };

    test('start-up re-derives tools an older release stored, records one mcpToolsChanged event, and notifies a session open on another instance', async () => {
      const prisma = running.app.database.prisma;
      const rowId = server.url.split('/').pop()!;
      const current = (await prisma.mcpServer.findUniqueOrThrow({ where: { id: rowId } })).tools as Record<string, unknown>[];
      const slackTools = (await catalogActions(running, 'slack')).map((action) => `bot__${action.name}`);
      expect(sorted(current.map((tool) => tool.name as string))).toEqual(sorted(slackTools));
      const before = await toolsOf(running);

      // What an older release stored: one action it did not have yet, one it had and this release dropped,
      // one whose description or schema it knew differently, and one row from before digests were stored.
      const [changed, unversioned, ...rest] = current;
      const missing = rest.pop()!;
      const retired = { ...changed!, name: 'bot__retired_action', action: 'retired_action' };
      const { definitionDigest: _, ...withoutDigest } = unversioned!;
      const stale = [{ ...changed!, definitionDigest: 'older-release' }, withoutDigest, ...rest, retired];
      await prisma.mcpServer.update({ where: { id: rowId }, data: { tools: stale as unknown as Prisma.InputJsonValue } });

      // A client of the running instance sees the old list.
      const mcp = await connectMcp(server.url, server.token);
      try {
        expect(await mcp.toolNames()).toEqual(sorted([...slackTools.filter((name) => name !== missing.name), 'bot__retired_action']));
        const notified = backend.pubsub === 'redis' ? mcp.nextListChanged(20_000) : null;

        // A new instance of this release starts: the stored tools follow its catalog before it serves anything.
        const upgraded = await start();
        const after = await toolsOf(upgraded);
        expect(after.toolsVersion).toBe(before.toolsVersion + 1);
        expect(after.tools).toEqual(before.tools);
        const events = subscribeWs(upgraded.wsClient(owner), ToolsChanged, { id: server.id, since: before.toolsVersion });
        try {
          const { data, errors } = await events.next();
          expect(errors).toBeUndefined();
          expect(data?.mcpToolsChanged).toMatchObject({ version: after.toolsVersion, added: [missing.name], removed: ['bot__retired_action'] });
          expect(sorted(data!.mcpToolsChanged.changed)).toEqual(sorted([changed!.name as string, unversioned!.name as string]));
        } finally {
          events.stop();
        }

        if (notified) {
          // Through the outbox and Redis, the session on the other instance learns of it and relists.
          await notified;
          expect(await mcp.toolNames()).toEqual(sorted(slackTools));
        }
      } finally {
        await mcp.close();
      }

      // Tools that already follow the catalog are left alone: the next start-up writes nothing.
      // (Read through that instance: without Redis, the first one never hears of the upgrade's write.)
      const next = await start();
      expect((await toolsOf(next)).toolsVersion).toBe(before.toolsVersion + 1);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'postgres'),
);
