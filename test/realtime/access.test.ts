// Subscriptions and access over time (issue #6): an open subscription ends
// when its principal loses access, on every instance; replay refuses a
// sinceVersion whose events were pruned; connection status changes stream.
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { createPostgresDatabase, startTestApp, subscribeSse, subscribeWs, type TestApp } from '../support/app.js';
import { describeEachBackend } from '../support/backends.js';
import { seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';

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

/** The first thing a subscription reports: an event, or its error code (and when). */
function firstOutcome(client: Client, query: string, variables: Record<string, unknown>) {
  return new Promise<{ data?: unknown; code?: unknown; at: number }>((resolve) => {
    client.subscribe(
      { query, variables },
      {
        next: (message) => resolve({ data: message.data, code: message.errors?.[0]?.extensions?.code, at: Date.now() }),
        error: (error) => resolve({ code: Array.isArray(error) ? error[0]?.extensions?.code : String(error), at: Date.now() }),
        complete: () => resolve({ code: 'COMPLETE', at: Date.now() }),
      },
    );
  });
}


describeEachBackend('subscriptions end when access is lost', (backend) => {
  // Two instances on one database: the revocation goes through the first, the subscriber sits on the second.
  let first: TestApp;
  let second: TestApp;
  let drop: (() => Promise<void>) | undefined;
  let owner: string;
  let orgId: string;
  let workspaceId: string;
  beforeAll(async () => {
    const shared = backend.database === 'postgres' ? await createPostgresDatabase() : null;
    drop = shared?.drop;
    first = await startTestApp(backend, { databaseUrl: shared?.url });
    // Only Redis carries a revocation to another process; the in-process pub/sub cases use one instance.
    second = backend.pubsub === 'redis' ? await startTestApp(backend, { databaseUrl: shared?.url }) : first;
    owner = await first.memberToken('access@example.com');
    orgId = await seedOrganization(first, owner, 'access');
    workspaceId = await seedWorkspace(first, owner, orgId, 'watched');
  });
  /**
   * A new subscribe on a socket whose credential lost its rights is refused
   * with UNAUTHENTICATED: it sees no event when the workspace changes next.
   */
  async function expectNewSubscribeRefused(client: Client, code = 'UNAUTHENTICATED') {
    const outcome = firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    await first.request(UpdateWorkspace, { input: { id: workspaceId, name: `Watched ${Date.now()}` } }, owner);
    expect((await outcome).code).toBe(code);
  }
  afterAll(async () => {
    if (second !== first) await second?.stop();
    await first?.stop();
    await drop?.();
  });

  test('revoking the API key behind an open subscription ends it within 1 s', async () => {
    const created = (await first.request(CreateKey, { input: { organizationId: orgId, name: 'watcher' } }, owner)).data!.createApiKey;
    const { plainKey, apiKey } = created as { plainKey: string; apiKey: { id: string } };
    const client = second.wsClient(plainKey);
    const outcome = firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    await new Promise((r) => setTimeout(r, 300));
    const revokedAt = Date.now();
    expect((await first.request(RevokeKey, { input: { id: apiKey.id } }, owner)).data!.revokeApiKey.__typename).toBe('ApiKey');
    const ended = await outcome;
    expect(ended.code).toBe('UNAUTHENTICATED');
    expect(ended.at - revokedAt).toBeLessThan(1000);
    // The socket stays open; what it asks next is refused.
    await expectNewSubscribeRefused(client);
  });

  test('over SSE, revoking the API key ends the open stream and refuses the next request', async () => {
    const created = (await first.request(CreateKey, { input: { organizationId: orgId, name: 'sse watcher' } }, owner)).data!.createApiKey;
    const { plainKey, apiKey } = created as { plainKey: string; apiKey: { id: string } };
    const stream = await subscribeSse(second.url, ConfigChanged, { ws: workspaceId }, plainKey);
    await first.request(RevokeKey, { input: { id: apiKey.id } }, owner);
    expect((await stream.next()).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await expect(subscribeSse(second.url, ConfigChanged, { ws: workspaceId }, plainKey)).rejects.toThrow('SSE request failed: 401');
  });

  test('an expired API key opens nothing new on its socket', async () => {
    const expiresAt = new Date(Date.now() + 1500);
    const created = (await first.request(CreateKey, { input: { organizationId: orgId, name: 'short', expiresAt: expiresAt.toISOString() } }, owner))
      .data!.createApiKey as { plainKey: string };
    const client = second.wsClient(created.plainKey);
    const ended = await firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    expect(ended.code).toBe('UNAUTHENTICATED');
    expect(ended.at).toBeGreaterThanOrEqual(expiresAt.getTime() - 50);
    await expectNewSubscribeRefused(client);
  });

  test('removing a member ends its subscriptions on that organization', async () => {
    const email = `watcher-${backend.pubsub}-${backend.database}@example.com`;
    const invite = (await first.request(Invite, { input: { organizationId: orgId, email, role: 'MEMBER' } }, owner)).data!.inviteMember as { id: string };
    const token = await first.memberToken(email);
    const member = (await first.request(Accept, { input: { id: invite.id } }, token)).data!.acceptInvite as { id: string };
    const client = second.wsClient(token);
    const outcome = firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    await new Promise((r) => setTimeout(r, 300));
    const removedAt = Date.now();
    await first.request(Remove, { input: { id: member.id } }, owner);
    const ended = await outcome;
    expect(ended.code).toBe('UNAUTHENTICATED');
    expect(ended.at - removedAt).toBeLessThan(1000);
    // Still a valid session, of a user who no longer sees the workspace: as over HTTP, it is not found.
    await expectNewSubscribeRefused(client, 'NOT_FOUND');
  });

  test('a session token that expires ends its subscription when it expires, and opens nothing new', async () => {
    const token = await first.memberToken('access@example.com', '2s');
    const client = second.wsClient(token);
    const outcome = firstOutcome(client, print(ConfigChanged), { ws: workspaceId });
    const ended = await outcome;
    expect(ended.code).toBe('UNAUTHENTICATED');
    await expectNewSubscribeRefused(client);
  });

  test('a deleted end user, or an expired end-user token, is refused on its open socket', async () => {
    // Backends issue end-user tokens with their API key.
    const backendKey = (await first.request(CreateKey, { input: { organizationId: orgId, name: 'backend' } }, owner)).data!.createApiKey as {
      plainKey: string;
    };
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

  test('connectionStatusChanged streams a connection that goes to ERROR, with its reason', async () => {
    const connectionId = await seedConnection(first, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
    const events = subscribeWs(second.wsClient(owner), StatusChanged, { ws: workspaceId });
    await new Promise((r) => setTimeout(r, 300));
    await first.request(SetStatus, { input: { id: connectionId, status: 'ERROR', reason: 'token revoked by the provider' } }, owner);
    const event = await events.next();
    expect(event.data!.connectionStatusChanged).toEqual({ id: connectionId, status: 'ERROR', statusReason: 'token revoked by the provider' });
    events.stop();
  });
});

describeEachBackend(
  'replay and retention',
  (backend) => {
    let t: TestApp;
    let owner: string;
    let workspaceId: string;
    beforeAll(async () => {
      t = await startTestApp(backend);
      owner = await t.memberToken('retention@example.com');
      workspaceId = await seedWorkspace(t, owner, await seedOrganization(t, owner, 'retention'), 'kept');
    });
    afterAll(() => t.stop());

    test('a sinceVersion whose events were pruned gets SINCE_VERSION_EXPIRED; the current version resumes live', async () => {
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
      const resumed = firstOutcome(t.wsClient(owner), print(ConfigChanged), { ws: workspaceId, since: version });
      await new Promise((r) => setTimeout(r, 300));
      await t.request(UpdateWorkspace, { input: { id: workspaceId, name: 'Kept again' } }, owner);
      expect((await resumed).data).toEqual({ workspaceConfigChanged: { version: 4, kind: 'WORKSPACE_UPDATED' } });
    });
  },
  // Retention is database logic: one backend of each database is enough.
  [
    { name: 'pglite + in-process pub/sub', database: 'pglite', pubsub: 'memory' },
    { name: 'postgres + in-process pub/sub', database: 'postgres', pubsub: 'memory' },
  ],
);
