// MCP transport security (issue #23, item 4) with the official MCP SDK client
// and raw HTTP: Origin checked on every request (403 before any credential is
// looked at), session caps per credential and per instance, idle sessions
// closed, DELETE ends a session, and a revocation on one instance ends the
// sessions on another at once.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { createPostgresDatabase, startTestApp, type TestApp } from '../support/app.js';
import { describeEachBackend } from '../support/backends.js';
import { seedApiKey, seedConnection, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { connectMcp, initializeRaw, issueEndUserToken, openRawSession, rotateMcpToken, seedMcpServer, type SeededMcpServer } from '../support/mcp.js';

const DeleteEndUser = graphql(`mutation McpSecurityDeleteEndUser($input: DeleteEndUserInput!) { deleteEndUser(input: $input) { __typename } }`);
const SyncEndUsers = graphql(`
  mutation McpSecuritySync($input: SyncEndUsersInput!) { syncEndUsers(input: $input) { ... on SyncEndUsersResult { removed } } }
`);
const WhoAmI = graphql(`query McpSecurityWhoAmI { viewer { kind } }`);
const EndUsers = graphql(`
  query McpSecurityEndUsers($id: ID!) { workspace(id: $id) { endUsers(first: 50) { edges { node { externalId } } } } }
`);

const ALLOWED_ORIGIN = 'https://agents.example.com';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const errorOf = (body: string) => JSON.parse(body) as { jsonrpc: string; id: null; error: { code: number; message: string; data: { code: string } } };

interface Tenant {
  t: TestApp;
  owner: string;
  organizationId: string;
  apiKey: string;
  workspaceId: string;
  /** An MCP server with the tools of one FIXED slack integration. */
  server: SeededMcpServer;
}

/** An organization with a workspace, an API key and an MCP server on `t`. */
async function seedTenant(t: TestApp, slug: string): Promise<Tenant> {
  const owner = await t.memberToken(`owner@${slug}.test`);
  const organizationId = await seedOrganization(t, owner, slug);
  const workspaceId = await seedWorkspace(t, owner, organizationId, 'agents');
  const apiKey = await seedApiKey(t, owner, { organizationId });
  const slack = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
  await seedIntegration(t, owner, { workspaceId, integrationName: 'slack', alias: 'bot', connectionStrategy: 'FIXED', connectionId: slack });
  return { t, owner, organizationId, apiKey, workspaceId, server: await seedMcpServer(t, owner, { workspaceId }) };
}

const endUserToken = (tenant: Tenant, externalId: string) => issueEndUserToken(tenant.t, tenant.apiKey, { workspaceId: tenant.workspaceId, externalId });

describeEachBackend('MCP transport security', (backend) => {
  // On Redis the MCP clients talk to `second` while changes go through `first`.
  let first: TestApp;
  let second: TestApp;
  let shared: { url: string; drop(): Promise<void> } | null = null;
  let tenant: Tenant;
  let owner: string;
  let workspaceId: string;
  let server: SeededMcpServer;
  const onSecond = (url: string) => url.replace(first.url, second.url);

  /** An instance with its own MCP settings (on the shared database when there is one) and a tenant seeded through it. */
  async function startInstance(env: NodeJS.ProcessEnv, slug: string): Promise<Tenant> {
    const t = await startTestApp(backend, { databaseUrl: shared?.url, env });
    return seedTenant(t, slug);
  }

  beforeAll(async () => {
    shared = backend.database === 'postgres' ? await createPostgresDatabase() : null;
    const env = { HEDDLE_MCP_ALLOWED_ORIGINS: `${ALLOWED_ORIGIN}, http://localhost:6274` };
    tenant = await startInstance(env, 'mcp-security');
    ({ t: first, owner, workspaceId, server } = tenant);
    second = backend.pubsub === 'redis' ? await startTestApp(backend, { databaseUrl: shared?.url, env }) : first;
  }, 60_000);
  afterAll(async () => {
    if (second !== first) await second?.stop();
    await first?.stop();
    await shared?.drop();
  });

  test('a foreign Origin gets 403 with a JSON-RPC error on every request, before its credential is used; none, ours or an allowed one pass', async () => {
    const url = onSecond(server.url);
    const foreign = await initializeRaw(url, { ...bearer(server.token), origin: 'http://evil.example:4000' });
    expect(foreign.status).toBe(403);
    expect(errorOf(foreign.body)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32001, message: expect.stringMatching(/Origin http:\/\/evil\.example:4000 .*HEDDLE_MCP_ALLOWED_ORIGINS/), data: { code: 'FORBIDDEN' } },
    });
    // Also without any credential, and for `null` (sandboxed pages).
    expect((await initializeRaw(url, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await initializeRaw(url, { ...bearer(server.token), origin: 'null' })).status).toBe(403);
    // The allowed origin is matched exactly: a look-alike host, scheme or port is foreign.
    for (const origin of ['https://agents.example.com.evil.example', 'http://agents.example.com', 'https://agents.example.com:8443']) {
      expect((await initializeRaw(url, { ...bearer(server.token), origin })).status).toBe(403);
    }

    const own = new URL(second.url);
    for (const origin of [ALLOWED_ORIGIN, 'http://localhost:6274', `http://localhost:${own.port}`]) {
      expect((await initializeRaw(url, { ...bearer(server.token), origin })).status).toBe(200);
    }
    expect((await initializeRaw(url, bearer(server.token))).status).toBe(200);

    // Every request of an open session is checked, not only initialize.
    const session = await openRawSession(url, bearer(server.token));
    const listed = await session.send({ id: 2, method: 'tools/list' });
    expect(listed.status).toBe(200);
    const rebound = await fetch(url, {
      method: 'POST',
      headers: { ...bearer(server.token), 'mcp-session-id': session.id, origin: 'http://evil.example:4000', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(rebound.status).toBe(403);
    expect(errorOf(await rebound.text()).error.data.code).toBe('FORBIDDEN');
    expect(await session.end()).toBe(200);

    // The SDK client (no Origin, like every non-browser client) works.
    const mcp = await connectMcp(url, server.token);
    expect((await mcp.toolNames()).length).toBeGreaterThan(0);
    await mcp.close();
  });

  test('a refused Origin has no side effect: an OPEN server does not create the end user it names', async () => {
    const open = await seedMcpServer(first, owner, { workspaceId, endUserAccess: 'OPEN', name: 'open' });
    const headers = { ...bearer(open.token), 'x-heddle-external-id': 'rebound-visitor' };
    expect((await initializeRaw(onSecond(open.url), { ...headers, origin: 'http://evil.example' })).status).toBe(403);
    const users = await first.request(EndUsers, { id: workspaceId }, owner);
    expect(users.data?.workspace?.endUsers.edges.map((edge) => edge.node.externalId)).not.toContain('rebound-visitor');
  });

  test('DELETE with the session id ends the session: the SDK client is told 404 afterwards', async () => {
    const url = onSecond(server.url);
    const mcp = await connectMcp(url, server.token);
    const id = mcp.sessionId!;
    expect((await mcp.toolNames()).length).toBeGreaterThan(0);
    await mcp.end();
    const after = await fetch(url, {
      method: 'POST',
      headers: { ...bearer(server.token), 'mcp-session-id': id, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    expect(errorOf(await after.text()).error.data.code).toBe('NOT_FOUND');

    // A raw DELETE ends the GET stream the server held open for the session.
    const raw = await openRawSession(url, bearer(server.token));
    expect(await raw.end()).toBe(200);
    await raw.streamEnded;
  });

  test('rotating the server token on one instance ends its sessions on the other at once; the session is gone, not only its credential', async () => {
    const doomed = await seedMcpServer(first, owner, { workspaceId, name: 'rotated' });
    const url = onSecond(doomed.url);
    const session = await openRawSession(url, bearer(doomed.token));
    const fresh = await rotateMcpToken(first, owner, doomed.id);
    await session.streamEnded;
    // With the new token the old session id is unknown: the session ended, it was not merely locked.
    const reused = await session.send({ id: 2, method: 'tools/list' }, fresh);
    expect(reused.status).toBe(404);
    expect((await session.send({ id: 3, method: 'tools/list' })).status).toBe(401);
  });

  test('deleting an end user on one instance ends the sessions acting for it on the other: its own token and the server token naming it', async () => {
    const open = await seedMcpServer(first, owner, { workspaceId, endUserAccess: 'OPEN', name: 'acting' });
    const { token, endUserId } = await endUserToken(tenant, 'leaving');
    const own = await openRawSession(onSecond(open.url), bearer(token));
    const actedFor = await openRawSession(onSecond(open.url), { ...bearer(open.token), 'x-heddle-external-id': 'leaving' });
    const bystander = await openRawSession(onSecond(open.url), bearer(open.token));
    const deleted = await first.request(DeleteEndUser, { input: { id: endUserId } }, owner);
    expect(deleted.data?.deleteEndUser.__typename).toBe('Deleted');
    await Promise.all([own.streamEnded, actedFor.streamEnded]);
    // The server token's own session does not act for the end user and stays.
    expect((await bystander.send({ id: 2, method: 'tools/list' })).status).toBe(200);
    expect(await bystander.end()).toBe(200);
  });

  test('syncEndUsers with removeMissing ends what deleteEndUser ends for each end user it removes, on the other instance: sessions and cached principals', async () => {
    const synced = await seedWorkspace(first, owner, tenant.organizationId, 'synced');
    const open = await seedMcpServer(first, owner, { workspaceId: synced, endUserAccess: 'OPEN', name: 'synced' });
    const issue = (externalId: string) => issueEndUserToken(first, tenant.apiKey, { workspaceId: synced, externalId });
    const [leaving, staying] = [await issue('leaving'), await issue('staying')];
    // The other instance has authenticated (and cached) the leaving end user's token.
    expect((await second.request(WhoAmI, {}, leaving.token)).data?.viewer.kind).toBe('END_USER');
    let ended = 0;
    const own = await openRawSession(onSecond(open.url), bearer(leaving.token));
    const actedFor = await openRawSession(onSecond(open.url), { ...bearer(open.token), 'x-heddle-external-id': 'leaving' });
    const kept = await openRawSession(onSecond(open.url), bearer(staying.token));
    for (const session of [own, actedFor]) void session.streamEnded.then(() => ended++);
    const result = await first.request(SyncEndUsers, { input: { workspaceId: synced, users: [{ externalId: 'staying' }], removeMissing: true } }, owner);
    expect(result.data?.syncEndUsers).toEqual({ removed: 1 });
    await expect.poll(() => ended, { timeout: 5000 }).toBe(2);
    expect((await second.request(WhoAmI, {}, leaving.token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The end user the call kept keeps its session.
    expect((await kept.send({ id: 2, method: 'tools/list' })).status).toBe(200);
    expect(await kept.end()).toBe(200);
  });

  test('sessions are capped per credential and per instance with QUOTA_EXCEEDED; concurrent openings cannot pass the cap; DELETE frees a place', async () => {
    const capped = await startInstance({ HEDDLE_MCP_MAX_SESSIONS_PER_KEY: '2', HEDDLE_MCP_MAX_SESSIONS: '5' }, 'mcp-capped');
    const { server } = capped;
    try {
      const racer = await seedMcpServer(capped.t, capped.owner, { workspaceId: capped.workspaceId, name: 'racer' });
      // Eight openings at once with one credential: exactly two win.
      const raced = await Promise.all(Array.from({ length: 8 }, () => initializeRaw(racer.url, bearer(racer.token))));
      expect(raced.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429, 429, 429, 429]);
      const refused = raced.find((r) => r.status === 429)!;
      expect(errorOf(refused.body).error).toMatchObject({ data: { code: 'QUOTA_EXCEEDED' }, message: expect.stringMatching(/maximum of 2 MCP sessions/) });
      for (const won of raced.filter((r) => r.status === 200)) {
        const response = await fetch(racer.url, { method: 'DELETE', headers: { ...bearer(racer.token), 'mcp-session-id': won.headers.get('mcp-session-id')! } });
        expect(response.status).toBe(200);
      }

      // The server token: two SDK sessions, the third refused.
      const a = await connectMcp(server.url, server.token);
      const b = await connectMcp(server.url, server.token);
      await expect(connectMcp(server.url, server.token)).rejects.toThrow(/429|maximum of 2/);
      // An end user's tokens share one cap, whichever token opens the session.
      const alice = [await endUserToken(capped, 'alice'), await endUserToken(capped, 'alice'), await endUserToken(capped, 'alice')];
      const alice1 = await connectMcp(server.url, alice[0]!.token);
      const alice2 = await connectMcp(server.url, alice[1]!.token);
      const third = await initializeRaw(server.url, bearer(alice[2]!.token));
      expect(third.status).toBe(429);
      // The instance's cap (5) holds across credentials: 503, the instance is full.
      const bob = await connectMcp(server.url, (await endUserToken(capped, 'bob')).token);
      const carol = await initializeRaw(server.url, bearer((await endUserToken(capped, 'carol')).token));
      expect(carol.status).toBe(503);
      expect(errorOf(carol.body).error).toMatchObject({ data: { code: 'QUOTA_EXCEEDED' }, message: expect.stringMatching(/maximum of 5 MCP sessions/) });

      // Ending one session (DELETE) makes room for the same credential again.
      await a.end();
      const again = await connectMcp(server.url, server.token);
      expect((await again.toolNames()).length).toBeGreaterThan(0);
      for (const client of [b, alice1, alice2, bob, again]) await client.end();
    } finally {
      await capped.t.stop();
    }
  });

  test('a session without a request for HEDDLE_MCP_SESSION_IDLE_S is closed; every request restarts the clock', async () => {
    // 3 s: long enough that one request on a busy machine does not outlast it.
    const idle = await startInstance({ HEDDLE_MCP_SESSION_IDLE_S: '3' }, 'mcp-idle');
    const { server } = idle;
    try {
      const url = server.url;
      const session = await openRawSession(url, bearer(server.token));
      const opened = Date.now();
      // Requests for longer than the idle time keep the session: each one restarts the clock.
      // The clock restarts when the server has the request, so no earlier than it was sent.
      let lastSent = opened;
      while (lastSent - opened < 4000) {
        lastSent = Date.now();
        expect((await session.send({ id: 2, method: 'ping' })).status).toBe(200);
      }
      await session.streamEnded;
      expect(Date.now() - lastSent).toBeGreaterThanOrEqual(2990);
      expect((await session.send({ id: 3, method: 'tools/list' })).status).toBe(404);

      // The SDK client meets the same end: reconnecting its stream, it is told the session is gone.
      const mcp = await connectMcp(url, server.token);
      const gone = new Promise<Error>((resolve) => (mcp.client.onerror = (error) => /404|Not Found/.test(error.message) && resolve(error)));
      expect((await mcp.toolNames()).length).toBeGreaterThan(0);
      expect((await gone).message).toMatch(/SSE stream/);
      await expect(mcp.toolNames()).rejects.toThrow(/404|session not found/i);
      await mcp.close();
    } finally {
      await idle.t.stop();
    }
  });
});
