// Subscriptions and access over time (issue #6): an open subscription ends
// when its principal loses access, on every instance; replay refuses a
// sinceVersion whose events were pruned; connection status changes stream.
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { subscribeSse, subscribeWs, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { repeatUntilHeard } from '../support/events.js';
import { seedConnection, seedConnectionStatus } from '../support/fixtures.js';
import type { Tenant } from '../support/world.js';

const ConfigChanged = graphql(`
  subscription AcConfig($ws: ID!, $since: Int) { workspaceConfigChanged(workspaceId: $ws, sinceVersion: $since) { version kind } }
`);
const StatusChanged = graphql(`
  subscription AcStatus($ws: ID!) { connectionStatusChanged(workspaceId: $ws) { id status statusReason } }
`);
const CreateKey = graphql(`
  mutation AcCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreatedApiKey { plainKey apiKey { id } } } }
`);
const RevokeKey = graphql(`mutation AcRevoke($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename } }`);
const UpdateWorkspace = graphql(`
  mutation AcUpdateWs($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { ... on Workspace { configVersion } } }
`);
const Invite = graphql(`mutation AcInvite($input: InviteMemberInput!) { inviteMember(input: $input) { ... on Invite { id } } }`);
const Accept = graphql(`mutation AcAccept($input: AcceptInviteInput!) { acceptInvite(input: $input) { ... on Member { id } } }`);
const Remove = graphql(`mutation AcRemove($input: RemoveMemberInput!) { removeMember(input: $input) { __typename } }`);
const IssueToken = graphql(`
  mutation AcIssueToken($input: IssueEndUserTokenInput!) {
    issueEndUserToken(input: $input) { ... on EndUserToken { token endUser { id } } }
  }
`);
const DeleteEndUser = graphql(`mutation AcDeleteEndUser($input: DeleteEndUserInput!) { deleteEndUser(input: $input) { __typename } }`);
const WhoAmI = graphql(`query AcWhoAmI { viewer { kind endUser { externalId } } }`);
const SetStatus = graphql(`
  mutation AcSetStatus($input: SetConnectionStatusInput!) { setConnectionStatus(input: $input) { __typename } }
`);

type Outcome = { data?: unknown; code?: unknown; at: number };

/** What a subscription reports, one outcome at a time: an event, or its error code (and when). */
function outcomes(client: Client, query: string, variables: Record<string, unknown>): { next(): Promise<Outcome> } {
  const arrived: Outcome[] = [];
  const waiting: ((outcome: Outcome) => void)[] = [];
  const report = (outcome: Omit<Outcome, 'at'>) => {
    const stamped = { ...outcome, at: Date.now() };
    const waiter = waiting.shift();
    if (waiter) waiter(stamped);
    else arrived.push(stamped);
  };
  client.subscribe(
    { query, variables },
    {
      next: (message) => report({ data: message.data, code: message.errors?.[0]?.extensions?.code }),
      error: (error) => report({ code: Array.isArray(error) ? error[0]?.extensions?.code : String(error) }),
      complete: () => report({ code: 'COMPLETE' }),
    },
  );
  return { next: () => (arrived.length ? Promise.resolve(arrived.shift()!) : new Promise((resolve) => waiting.push(resolve))) };
}

/** The first thing a subscription reports. */
const firstOutcome = (client: Client, query: string, variables: Record<string, unknown>) => outcomes(client, query, variables).next();

/** Changes the workspace's name; returns its new configVersion. */
async function changeWorkspace(t: TestApp, owner: string, workspaceId: string): Promise<number> {
  const result = await t.request(UpdateWorkspace, { input: { id: workspaceId, name: `Watched ${Date.now()}` } }, owner);
  return (result.data!.updateWorkspace as { configVersion: number }).configVersion;
}

/**
 * A config subscription that replays the workspace's latest change (`version`):
 * once that arrives the subscription is in place, watching its principal's
 * access. Resolves then, with the rest of what it reports.
 */
async function subscribedFrom(client: Client, workspaceId: string, version: number): Promise<{ next(): Promise<Outcome> }> {
  const reported = outcomes(client, print(ConfigChanged), { ws: workspaceId, since: version - 1 });
  expect(await reported.next()).toMatchObject({ data: { workspaceConfigChanged: { version } } });
  return reported;
}

describeEachBackend('subscriptions end when access is lost', (backend, test) => {
  // Two instances on one database (the world's `t` and `peer`): the revocation goes through the first, the
  // subscriber sits on the second. Only Redis carries a revocation to another process; with the in-process
  // pub/sub `peer` is `t`.

  /**
   * A new subscribe on a socket whose credential lost its rights is refused
   * with UNAUTHENTICATED: it sees no event when the workspace changes next.
   */
  async function expectNewSubscribeRefused(
    { t, tenant, workspaceId }: { t: TestApp; tenant: Tenant; workspaceId: string },
    client: Client,
    code = 'UNAUTHENTICATED',
  ) {
    const outcome = firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    await changeWorkspace(t, tenant.token, workspaceId);
    expect((await outcome).code).toBe(code);
  }

  test('revoking the API key behind an open subscription ends it within 1 s', async ({ t: first, peer: second, tenant, workspaceId }) => {
    const owner = tenant.token;
    const created = (await first.request(CreateKey, { input: { organizationId: tenant.organizationId, name: 'watcher' } }, owner)).data!.createApiKey;
    const { plainKey, apiKey } = created as { plainKey: string; apiKey: { id: string } };
    const client = second.wsClient(plainKey);
    const subscription = await subscribedFrom(client, workspaceId, await changeWorkspace(first, owner, workspaceId));
    const revokedAt = Date.now();
    expect((await first.request(RevokeKey, { input: { id: apiKey.id } }, owner)).data!.revokeApiKey.__typename).toBe('ApiKey');
    const ended = await subscription.next();
    expect(ended.code).toBe('UNAUTHENTICATED');
    expect(ended.at - revokedAt).toBeLessThan(1000);
    // The socket stays open; what it asks next is refused.
    await expectNewSubscribeRefused({ t: first, tenant, workspaceId }, client);
  });

  test('over SSE, revoking the API key ends the open stream and refuses the next request', async ({ t: first, peer: second, tenant, workspaceId }) => {
    const owner = tenant.token;
    const created = (await first.request(CreateKey, { input: { organizationId: tenant.organizationId, name: 'sse watcher' } }, owner)).data!.createApiKey;
    const { plainKey, apiKey } = created as { plainKey: string; apiKey: { id: string } };
    const stream = await subscribeSse(second.url, ConfigChanged, { ws: workspaceId }, plainKey);
    await first.request(RevokeKey, { input: { id: apiKey.id } }, owner);
    expect((await stream.next()).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await expect(subscribeSse(second.url, ConfigChanged, { ws: workspaceId }, plainKey)).rejects.toThrow('SSE request failed: 401');
  });

  test('an expired API key opens nothing new on its socket', async ({ t: first, peer: second, tenant, workspaceId }) => {
    const expiresAt = new Date(Date.now() + 1500);
    const created = (
      await first.request(CreateKey, { input: { organizationId: tenant.organizationId, name: 'short', expiresAt: expiresAt.toISOString() } }, tenant.token)
    ).data!.createApiKey as { plainKey: string };
    const client = second.wsClient(created.plainKey);
    const ended = await firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    expect(ended.code).toBe('UNAUTHENTICATED');
    expect(ended.at).toBeGreaterThanOrEqual(expiresAt.getTime() - 50);
    await expectNewSubscribeRefused({ t: first, tenant, workspaceId }, client);
  });

  test('removing a member ends its subscriptions on that organization', async ({ t: first, peer: second, tenant, workspaceId }) => {
    const owner = tenant.token;
    const email = `watcher-${backend.pubsub}-${backend.database}@example.com`;
    const invite = (await first.request(Invite, { input: { organizationId: tenant.organizationId, email, role: 'MEMBER' } }, owner)).data!
      .inviteMember as { id: string };
    const token = await first.memberToken(email);
    const member = (await first.request(Accept, { input: { id: invite.id } }, token)).data!.acceptInvite as { id: string };
    const client = second.wsClient(token);
    const subscription = await subscribedFrom(client, workspaceId, await changeWorkspace(first, owner, workspaceId));
    const removedAt = Date.now();
    await first.request(Remove, { input: { id: member.id } }, owner);
    const ended = await subscription.next();
    expect(ended.code).toBe('UNAUTHENTICATED');
    expect(ended.at - removedAt).toBeLessThan(1000);
    // Still a valid session, of a user who no longer sees the workspace: as over HTTP, it is not found.
    await expectNewSubscribeRefused({ t: first, tenant, workspaceId }, client, 'NOT_FOUND');
  });

  test('a session token that expires ends its subscription when it expires, and opens nothing new', async ({ t: first, peer: second, tenant, workspaceId }) => {
    const token = await first.memberToken(tenant.email, '2s');
    const client = second.wsClient(token);
    const ended = await firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    expect(ended.code).toBe('UNAUTHENTICATED');
    await expectNewSubscribeRefused({ t: first, tenant, workspaceId }, client);
  });

  test('a deleted end user, or an expired end-user token, is refused on its open socket', async ({ t: first, peer: second, tenant, workspaceId }) => {
    const owner = tenant.token;
    // Backends issue end-user tokens with their API key.
    const backendKey = (await first.request(CreateKey, { input: { organizationId: tenant.organizationId, name: 'backend' } }, owner)).data!
      .createApiKey as { plainKey: string };
    const issue = async (externalId: string, expiresIn: number) =>
      (await first.request(IssueToken, { input: { workspaceId, externalId, expiresIn } }, backendKey.plainKey)).data!.issueEndUserToken as {
        token: string;
        endUser: { id: string };
      };
    /** The viewer over the socket, or the code it was refused with. */
    const whoAmI = (client: Client) =>
      new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: print(WhoAmI) },
          {
            next: (result) => resolve(result.errors ? { code: result.errors[0]?.extensions?.code } : result.data),
            error: (errors) => resolve({ code: (errors as { extensions?: { code?: unknown } }[])[0]?.extensions?.code }),
            complete: () => {},
          },
        );
      });

    const deleted = await issue(`leaver-${backend.database}`, 3600);
    const deletedClient = second.wsClient(deleted.token);
    expect(await whoAmI(deletedClient)).toEqual({ viewer: { kind: 'END_USER', endUser: { externalId: `leaver-${backend.database}` } } });
    await first.request(DeleteEndUser, { input: { id: deleted.endUser.id } }, owner);
    expect(await whoAmI(deletedClient)).toEqual({ code: 'UNAUTHENTICATED' });

    const expiring = await issue(`brief-${backend.database}`, 1);
    const expiringClient = second.wsClient(expiring.token);
    expect(await whoAmI(expiringClient)).toMatchObject({ viewer: { kind: 'END_USER' } });
    await expect.poll(() => whoAmI(expiringClient), { timeout: 5000, interval: 200 }).toEqual({ code: 'UNAUTHENTICATED' });
  });

  test('connectionStatusChanged streams a connection that goes to ERROR, with its reason', async ({ t: first, peer: second, tenant, workspaceId }) => {
    const owner = tenant.token;
    const connectionId = await seedConnection(first, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
    const probeId = await seedConnection(first, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack', displayName: 'probe' });
    const events = subscribeWs(second.wsClient(owner), StatusChanged, { ws: workspaceId });
    // It replays nothing: the probe's status flips until the subscription hears one, so it is in place.
    let probeStatus: 'ACTIVE' | 'ERROR' = 'ACTIVE';
    const flipProbe = () => seedConnectionStatus(first, owner, probeId, (probeStatus = probeStatus === 'ACTIVE' ? 'ERROR' : 'ACTIVE'));
    await repeatUntilHeard(events.next(), flipProbe);
    await first.request(SetStatus, { input: { id: connectionId, status: 'ERROR', reason: 'token revoked by the provider' } }, owner);
    let event = await events.next();
    while (event.data?.connectionStatusChanged.id === probeId) event = await events.next(); // a probe heard late
    expect(event.data!.connectionStatusChanged).toEqual({ id: connectionId, status: 'ERROR', statusReason: 'token revoked by the provider' });
    events.stop();
  });
});

describeEachBackend(
  'replay and retention',
  (_backend, test) => {
    test('a sinceVersion whose events were pruned gets SINCE_VERSION_EXPIRED; the current version resumes', async ({ t, tenant: { token: owner }, workspaceId }) => {
      let version = 0;
      for (let i = 0; i < 3; i++) {
        version = (await t.request(UpdateWorkspace, { input: { id: workspaceId, name: `Kept ${i}` } }, owner)).data!.updateWorkspace.configVersion;
      }
      expect(version).toBe(3);
      // Retention of zero hours: every published event is past it.
      expect(await t.app.services.outbox.prune(0)).toBe(3);
      const expired = await firstOutcome(t.wsClient(owner), print(ConfigChanged), { ws: workspaceId, since: 1 });
      expect(expired.code).toBe('SINCE_VERSION_EXPIRED');
      const ahead = await firstOutcome(t.wsClient(owner), print(ConfigChanged), { ws: workspaceId, since: 9 });
      expect(ahead.code).toBe('VALIDATION_ERROR');
      // A client that refetched at the current version resumes from it: the change made since is replayed.
      await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'Kept again' } }, owner);
      const resumed = await firstOutcome(t.wsClient(owner), print(ConfigChanged), { ws: workspaceId, since: version });
      expect(resumed.data).toEqual({ workspaceConfigChanged: { version: 4, kind: 'WORKSPACE_UPDATED' } });
    });
  },
  // Retention is database logic: one backend of each database is enough.
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
);
