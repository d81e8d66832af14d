import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { subscribeSse, subscribeWs } from '../support/app.js';
import { redisListeners } from '../support/events.js';
import { seedWorkspace } from '../support/fixtures.js';

const UpdateWorkspace = graphql(`
  mutation RtUpdateWorkspace($input: UpdateWorkspaceInput!) {
    updateWorkspace(input: $input) { __typename ... on Workspace { name configVersion } ...ErrorFields }
  }
`);
const AddIntegration = graphql(`
  mutation RtAddIntegration($input: AddWorkspaceIntegrationInput!) {
    addWorkspaceIntegration(input: $input) { __typename ...ErrorFields }
  }
`);
const WorkspaceConfigChanged = graphql(`
  subscription WorkspaceConfigChanged($workspaceId: ID!, $sinceVersion: Int) {
    workspaceConfigChanged(workspaceId: $workspaceId, sinceVersion: $sinceVersion) {
      version
      kind
      occurredAt
      workspace { id name configVersion }
    }
  }
`);

// Each test watches a workspace of its own in the tenant's organization, so its versions start at 0.
describeEachBackend('workspaceConfigChanged', (_backend, test) => {
  test('a graphql-ws client and an SSE client both receive a committed change', async ({ t, tenant: { token, organizationId } }) => {
    const workspaceId = await seedWorkspace(t, token, organizationId, 'both');
    // sinceVersion 0: however the subscription races the change, the event arrives exactly once.
    const ws = subscribeWs(t.wsClient(token), WorkspaceConfigChanged, { workspaceId, sinceVersion: 0 });
    const sse = await subscribeSse(t.url, WorkspaceConfigChanged, { workspaceId, sinceVersion: 0 }, token);
    const wsEvent = ws.next();
    const sseEvent = sse.next();
    const updated = await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'Production' } }, token);
    expect(updated.data?.updateWorkspace).toEqual({ __typename: 'Workspace', name: 'Production', configVersion: 1 });
    for (const result of await Promise.all([wsEvent, sseEvent])) {
      expect(result.errors).toBeUndefined();
      expect(result.data?.workspaceConfigChanged).toMatchObject({
        version: 1,
        kind: 'WORKSPACE_UPDATED',
        workspace: { id: workspaceId, name: 'Production', configVersion: 1 },
      });
    }
    // Acceptance: both clients hear addWorkspaceIntegration within 1 s.
    const [wsNext, sseNext] = [ws.next(), sse.next()];
    const addedAt = Date.now();
    const added = await t.request(AddIntegration, { input: { workspaceId, integrationName: 'github', connectionStrategy: 'PER_USER' } }, token);
    expect(added.data?.addWorkspaceIntegration.__typename).toBe('WorkspaceIntegration');
    for (const result of await Promise.all([wsNext, sseNext])) {
      expect(result.data?.workspaceConfigChanged).toMatchObject({ version: 2 });
    }
    expect(Date.now() - addedAt).toBeLessThan(1000);
    ws.stop();
    sse.stop();
  });

  test('sinceVersion replays stored events, then streams live ones with no gap and no duplicate', async ({ t, tenant: { token, organizationId } }) => {
    const workspaceId = await seedWorkspace(t, token, organizationId, 'replay');
    for (const name of ['v1', 'v2', 'v3']) {
      await t.request(UpdateWorkspace, { input: { id: workspaceId, name } }, token);
    }
    const sub = subscribeWs(t.wsClient(token), WorkspaceConfigChanged, { workspaceId, sinceVersion: 1 });
    const replayed = [await sub.next(), await sub.next()].map((r) => r.data?.workspaceConfigChanged.version);
    expect(replayed).toEqual([2, 3]);
    await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'v4' } }, token);
    await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'v5' } }, token);
    const live = [await sub.next(), await sub.next()].map((r) => r.data?.workspaceConfigChanged.version);
    expect(live).toEqual([4, 5]);
    sub.stop();
  });

  test("subscribing to another tenant's workspace fails as NOT_FOUND", async ({ t, tenant: { token, organizationId } }) => {
    const workspaceId = await seedWorkspace(t, token, organizationId, 'secret');
    const stranger = await t.memberToken('stranger@example.com');
    const sub = subscribeWs(t.wsClient(stranger), WorkspaceConfigChanged, { workspaceId });
    const result = await sub.next();
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  test('a graphql-ws connection with a bad token is refused with close code 4403', async ({ t }) => {
    const client = t.wsClient('not-a-valid-token');
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    expect(await closed).toBe(4403);
  });
});

describeEachBackend(
  'several instances on one PostgreSQL and Redis',
  (_backend, test) => {
    test('a change made through one instance reaches a subscriber of the other', async ({ t: first, peer: second, tenant: { token }, workspaceId }) => {
      const sub = subscribeWs(second.wsClient(token), WorkspaceConfigChanged, { workspaceId });
      const event = sub.next();
      // No sinceVersion: only the live path (Redis) can deliver it, once the second instance listens on the workspace's channel.
      await expect.poll(() => redisListeners('WORKSPACE_CONFIG', workspaceId), { timeout: 5000 }).toBe(1);
      await first.request(UpdateWorkspace, { input: { id: workspaceId, name: 'Changed on first' } }, token);
      expect((await event).data?.workspaceConfigChanged).toMatchObject({ version: 1, workspace: { name: 'Changed on first' } });
      sub.stop();
    });

    // A client that unsubscribes (graphql-ws complete, a closed socket, an aborted SSE request) from a
    // workspace where nothing changes must not leave its live stream waiting for the next change.
    test('a subscription ended by its client on a quiet workspace stops listening at once', async ({ t, tenant: { token }, workspaceId }) => {
      const listening = () => expect.poll(() => redisListeners('WORKSPACE_CONFIG', workspaceId), { timeout: 5000 });
      const completed = subscribeWs(t.wsClient(token), WorkspaceConfigChanged, { workspaceId });
      await listening().toBe(1);
      completed.stop();
      await listening().toBe(0);

      const client = t.wsClient(token);
      subscribeWs(client, WorkspaceConfigChanged, { workspaceId });
      await listening().toBe(1);
      await client.dispose();
      await listening().toBe(0);

      const sse = await subscribeSse(t.url, WorkspaceConfigChanged, { workspaceId }, token);
      await listening().toBe(1);
      sse.stop();
      await listening().toBe(0);
    });
  },
  ALL_BACKENDS.filter((b) => b.pubsub === 'redis'),
);
