// An event is executed once per group of subscribers that would see the same
// answer (src/app/shared-events.ts): the statements per event do not grow with
// the subscribers, and subscribers of different visibility still get their own.
import { expect } from 'vitest';
import type { ExecutionResult } from 'graphql';
import { LIVE_BACKLOG, subjectEvents, workspaceConfigSubject } from '../../src/modules/realtime/config-stream.js';
import { decodeId } from '../../src/platform/ids.js';
import { graphql } from '../generated/index.js';
import { nextWhere, subscribeWs, withoutAuthentication, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { seedApiKey, seedWorkspace } from '../support/fixtures.js';
import { test as world } from '../support/world.js';

const UpdateWorkspace = graphql(`
  mutation SeUpdateWorkspace($input: UpdateWorkspaceInput!) {
    updateWorkspace(input: $input) { __typename ... on Workspace { configVersion } ...ErrorFields }
  }
`);
// The benchmark's selection (W4): the event's own fields and the workspace's.
const ConfigChanged = graphql(`
  subscription SeConfigChanged($workspaceId: ID!) {
    workspaceConfigChanged(workspaceId: $workspaceId) { version kind occurredAt workspace { id name configVersion } }
  }
`);
// Organization.usage needs the OWNER role: an API key (ADMIN rights) is refused it.
const WithUsage = graphql(`
  subscription SeWithUsage($workspaceId: ID!, $month: String!, $sinceVersion: Int) {
    workspaceConfigChanged(workspaceId: $workspaceId, sinceVersion: $sinceVersion) {
      version
      workspace { id name organization { id usage(month: $month) { month resolutions } } }
    }
  }
`);
const WorkspaceWithUsage = graphql(`
  query SeWorkspaceWithUsage($id: ID!, $month: String!) {
    workspace(id: $id) { id name organization { id usage(month: $month) { month resolutions } } }
  }
`);

const MONTH = new Date().toISOString().slice(0, 7);
let statements: string[] = [];
// Besides authentication and the outbox, API keys' last-use flush runs on its own timer.
const countable = () => withoutAuthentication(statements).filter((sql) => !sql.includes('"ApiKey"'));
const test = world.extend('appOptions', { scope: 'file' }, { onQuery: (e: { query: string }) => void statements.push(e.query) });

type Subscription = ReturnType<typeof subscribeWs<ExecutionResult<unknown>['data'], unknown>>;

/** `count` subscribers of the workspace's config events, spread over sockets of `tokens` in turn (100 per socket at most). */
function openSubscribers(
  t: TestApp,
  tokens: string[],
  workspaceId: string,
  count: number,
  document: typeof ConfigChanged | typeof WithUsage = ConfigChanged,
): Subscription[] {
  const perSocket = 50;
  const subscriptions: Subscription[] = [];
  for (let socket = 0; socket * perSocket < count; socket++) {
    const client = t.wsClient(tokens[socket % tokens.length]);
    for (let i = socket * perSocket; i < Math.min(count, (socket + 1) * perSocket); i++) {
      subscriptions.push(subscribeWs(client, document as typeof ConfigChanged, { workspaceId, month: MONTH }) as Subscription);
    }
  }
  return subscriptions;
}

/**
 * Updates the workspace until every subscriber has heard a change (then all of
 * them are live), and once more, skipping the probes' events up to that last one.
 */
async function untilLive(t: TestApp, token: string, workspaceId: string, subscriptions: Subscription[]): Promise<void> {
  let settled = false;
  const all = Promise.all(subscriptions.map((s) => s.next())).finally(() => (settled = true));
  for (let probe = 0; !settled; probe++) {
    await t.request(UpdateWorkspace, { input: { id: workspaceId, name: `probe ${probe}` } }, token);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
  await all;
  const ready = subscriptions.map((s) => nextWhere(s, (result) => JSON.stringify(result.data ?? null).includes('"name":"ready"')));
  await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'ready' } }, token);
  await Promise.all(ready);
}

/** The statements of one change of the workspace and of its delivery to every subscriber. */
async function statementsOfOneEvent(t: TestApp, token: string, workspaceId: string, subscriptions: Subscription[]): Promise<string[]> {
  const delivered = subscriptions.map((s) => s.next());
  statements = [];
  const updated = await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'measured' } }, token);
  expect(updated.data?.updateWorkspace.__typename).toBe('Workspace');
  for (const result of await Promise.all(delivered)) {
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({ workspaceConfigChanged: { workspace: { id: workspaceId, name: 'measured' } } });
  }
  return countable();
}

describeEachBackend(
  'shared execution of subscription events',
  (_backend, test) => {
    test('the statements per event are the same for 1 and for 200 subscribers, and at most 3', async ({ t, tenant, apiKey }) => {
      // A second key with the same rights: its subscribers share the first key's executions.
      const twinKey = await seedApiKey(t, tenant.token, { organizationId: tenant.organizationId });
      const slugs = ['se-none', 'se-one', 'se-many', 'se-usage-one', 'se-usage-many'];
      const [alone, one, many, usageOne, usageMany] = await Promise.all(slugs.map((slug) => seedWorkspace(t, tenant.token, tenant.organizationId, slug)));
      const groups = {
        single: openSubscribers(t, [apiKey], one!, 1),
        crowd: openSubscribers(t, [apiKey, twinKey], many!, 200),
        // Organization.usage is read by statements Prisma cannot batch across executions (findUnique it does).
        usageSingle: openSubscribers(t, [tenant.token], usageOne!, 1, WithUsage),
        usageCrowd: openSubscribers(t, [tenant.token], usageMany!, 200, WithUsage),
      };
      await untilLive(t, apiKey, one!, groups.single);
      await untilLive(t, apiKey, many!, groups.crowd);
      await untilLive(t, apiKey, usageOne!, groups.usageSingle);
      await untilLive(t, apiKey, usageMany!, groups.usageCrowd);

      const withoutEvent = await statementsOfOneEvent(t, apiKey, alone!, []);
      const withOne = await statementsOfOneEvent(t, apiKey, one!, groups.single);
      const withMany = await statementsOfOneEvent(t, apiKey, many!, groups.crowd);
      const perEvent = withOne.length - withoutEvent.length;
      expect(perEvent).toBeGreaterThan(0);
      expect(perEvent).toBeLessThanOrEqual(3);
      expect(withMany).toHaveLength(withOne.length);
      // The same with reads that one execution per subscriber would multiply.
      const usageWithOne = await statementsOfOneEvent(t, apiKey, usageOne!, groups.usageSingle);
      const usageWithMany = await statementsOfOneEvent(t, apiKey, usageMany!, groups.usageCrowd);
      expect(usageWithOne.length).toBeGreaterThan(withOne.length);
      expect(usageWithMany).toHaveLength(usageWithOne.length);
      Object.values(groups).flat().forEach((s) => s.stop());
    });

    test('subscribers of different visibility on one document each receive what they would receive alone', async ({ t, tenant, apiKey }) => {
      const workspaceId = await seedWorkspace(t, tenant.token, tenant.organizationId, 'se-visibility');
      // From version 0 each subscriber gets every event exactly once, however it races the first change;
      // having heard the first, both are live for the second, which the pub/sub hands both as one object.
      const variables = { workspaceId, month: MONTH, sinceVersion: 0 };
      const principals = { owner: tenant.token, key: apiKey };
      const subscriptions = Object.values(principals).map((token) => subscribeWs(t.wsClient(token), WithUsage, variables));
      await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'first' } }, tenant.token);
      await Promise.all(subscriptions.map((s) => s.next()));
      await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'shared' } }, tenant.token);
      const [ownerEvent, keyEvent] = await Promise.all(subscriptions.map((s) => s.next()));
      const [ownerAlone, keyAlone] = await Promise.all(
        Object.values(principals).map((token) => t.request(WorkspaceWithUsage, { id: workspaceId, month: MONTH }, token)),
      );
      const answer = (result: ExecutionResult<Record<string, unknown>>, root: (data: Record<string, unknown>) => unknown) => ({
        data: result.data ? root(result.data) : null,
        codes: (result.errors ?? []).map((e) => e.extensions?.code),
      });
      const fromEvent = (data: Record<string, unknown>) => (data.workspaceConfigChanged as { workspace: unknown } | null)?.workspace ?? null;
      const fromQuery = (data: Record<string, unknown>) => data.workspace;
      expect(answer(ownerEvent! as ExecutionResult<Record<string, unknown>>, fromEvent)).toEqual(answer(ownerAlone!, fromQuery));
      expect(answer(keyEvent! as ExecutionResult<Record<string, unknown>>, fromEvent)).toEqual(answer(keyAlone!, fromQuery));
      // The two answers differ: a shared execution across them would have shown.
      expect(answer(ownerAlone!, fromQuery)).not.toEqual(answer(keyAlone!, fromQuery));
      subscriptions.forEach((s) => s.stop());
    });
  },
  ALL_BACKENDS,
  test,
);

describeEachBackend(
  'a subscriber that falls behind',
  (_backend, test) => {
    test(`keeps at most ${LIVE_BACKLOG} announcements in memory and still gets every event once, in order`, async ({ t, tenant }) => {
      const workspaceId = await seedWorkspace(t, tenant.token, tenant.organizationId, 'se-slow');
      const { prisma, pubsub } = t.app.services;
      const controller = new AbortController();
      // The stream as a subscription holds it, read by nobody while the changes commit.
      const events = subjectEvents({ prisma, pubsub, subject: workspaceConfigSubject(decodeId(workspaceId, 'Workspace')!), sinceVersion: 0, signal: controller.signal });
      const first = events.next();
      const changes = LIVE_BACKLOG + 50;
      for (let i = 1; i <= changes; i++) {
        const updated = await t.request(UpdateWorkspace, { input: { id: workspaceId, name: `change ${i}` } }, tenant.token);
        expect(updated.data?.updateWorkspace.__typename).toBe('Workspace');
      }
      statements = [];
      const versions = [(await first).value!.version];
      while (versions.length < changes) versions.push((await events.next()).value!.version);
      expect(versions).toEqual(Array.from({ length: changes }, (_, i) => i + 1));
      // The announcements that slid out of the backlog were read back from the outbox.
      expect(statements.some((sql) => sql.includes('"ConfigEvent"'))).toBe(true);
      controller.abort();
      await events.return(undefined);
    });
  },
  ALL_BACKENDS,
  test,
);
