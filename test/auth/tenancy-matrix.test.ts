// The tenancy matrix (issue #4): every root query, mutation and subscription
// field × eleven principals, against one policy table. Every target belongs
// to organization A (workspace ws1 unless the row says otherwise). A root
// field that is not in the table fails the test, so new fields must declare
// their policy here. For every cell where another tenant gets NOT_FOUND, the
// same call with ids that do not exist must answer byte for byte the same.
import { isInterfaceType } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { signEndUserToken } from '../../src/auth/principal.js';
import { REGISTRY } from '../../src/auth/registry.js';
import { schema } from '../../src/schema/index.js';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.js';
import { submitConnectForm } from '../support/connect.js';
import { ERROR_SELECTION } from '../support/errors.js';
import { repeatUntilHeard } from '../support/events.js';
import { startSlackFake, type SlackFake } from '../support/fake-providers/slack.js';
import { missingId } from '../support/fixtures.js';

const PRINCIPALS = [
  'OWNER', // of organization A
  'ADMIN',
  'MEMBER',
  'OTHER_ORG', // OWNER of organization B
  'ORG_KEY', // org-wide API key of A
  'WS_KEY_IN', // API key restricted to ws1 (inside its scope)
  'WS_KEY_OUT', // API key restricted to ws2 (ws1 is outside it)
  'END_USER', // end-user token of an end user in ws1
  'ANONYMOUS',
  'REVOKED_KEY',
  'EXPIRED_TOKEN', // an expired end-user token
] as const;
type Principal = (typeof PRINCIPALS)[number];

/** ok, or the error code: NF NOT_FOUND, FB FORBIDDEN, SD SCOPE_DENIED, UA UNAUTHENTICATED. */
const SHORT: Record<string, string> = { NOT_FOUND: 'NF', FORBIDDEN: 'FB', SCOPE_DENIED: 'SD', UNAUTHENTICATED: 'UA' };

interface World {
  tokens: Record<Principal, string | undefined>;
  emails: Record<'OWNER' | 'ADMIN' | 'MEMBER' | 'OTHER_ORG', string>;
  orgA: string;
  ws1: string;
  ws2: string;
  connection: string;
  integration: string;
  trigger: string;
  directory: string;
  endUser: string;
  space: string;
  adminMember: string;
  memberMember: string;
  strangerInvite: string;
  mcpServer: string;
  execution: string;
}

let t: TestApp;
let w: World;
let slack: SlackFake;
let counter = 0;
const fresh = (prefix: string) => `${prefix}-${++counter}`;

async function call<T = Record<string, any>>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const result = await t.requestRaw<T>(query, variables, token);
  if (result.errors?.length) throw new Error(`${query}: ${JSON.stringify(result.errors)}`);
  return result.data!;
}

/** Runs `name(input:)` as the owner and returns the id of what it returned. */
async function make(name: string, inputType: string, input: Record<string, unknown>, token = w.tokens.OWNER): Promise<string> {
  const data = await call(`mutation($input: ${inputType}!) { r: ${name}(input: $input) { __typename ... on Node { id } ${ERROR_SELECTION} } }`, { input }, token);
  if (!data.r.id) throw new Error(`${name}: ${JSON.stringify(data.r)}`);
  return data.r.id;
}

const makeWorkspace = (organizationId: string) => make('createWorkspace', 'CreateWorkspaceInput', { organizationId, name: 'W', slug: fresh('ws') });
const makeOrganization = (token?: string) => make('createOrganization', 'CreateOrganizationInput', { name: 'O', slug: fresh('org') }, token);
const makeConnection = (workspaceId = w.ws1) =>
  make('createConnection', 'CreateConnectionInput', {
    scope: 'WORKSPACE', workspaceId, type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'c', credentials: { apiKey: 'k' },
  });
const makeIntegration = () =>
  make('addWorkspaceIntegration', 'AddWorkspaceIntegrationInput', { workspaceId: w.ws1, integrationName: 'slack', alias: fresh('slack'), connectionStrategy: 'PER_USER' });
const makeTrigger = () =>
  make('createTrigger', 'CreateTriggerInput', { workspaceId: w.ws1, integrationName: 'slack', eventName: 'new_message', callbackUrl: 'https://hooks.example.com/x' });
const makeDirectory = () => make('createDirectory', 'CreateDirectoryInput', { workspaceId: w.ws1, name: fresh('dir') });
const makeEndUser = () => make('upsertEndUser', 'UpsertEndUserInput', { workspaceId: w.ws1, externalId: fresh('user') });
const makeSpace = () => make('createSpace', 'CreateSpaceInput', { workspaceId: w.ws1, uid: fresh('space') });
const makeMcpServer = async () => {
  const data = await call(
    `mutation($input: CreateMcpServerInput!) { r: createMcpServer(input: $input) { ... on McpServerWithToken { server { id } } ${ERROR_SELECTION} } }`,
    { input: { workspaceId: w.ws1, name: fresh('mcp') } },
    w.tokens.OWNER,
  );
  if (!data.r.server) throw new Error(`createMcpServer: ${JSON.stringify(data.r)}`);
  return data.r.server.id as string;
};
const makeOAuthApp = () =>
  make('setOAuthApp', 'SetOAuthAppInput', { organizationId: w.orgA, integrationName: 'github', clientId: 'matrix-client', clientSecret: 'matrix-secret' });
const CONNECT_ALIAS = 'connect-stripe';
const connectSessionInput = () => ({ workspaceId: w.ws1, externalId: fresh('connecting'), integration: CONNECT_ALIAS, redirectUrl: 'https://app.example.com/done' });
const makeInvite = (organizationId: string, email: string, role = 'MEMBER') =>
  make('inviteMember', 'InviteMemberInput', { organizationId, email, role });

async function apiKey(organizationId: string, workspaceIds?: string[]): Promise<{ id: string; plainKey: string }> {
  const data = await call(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreatedApiKey { plainKey apiKey { id } } ${ERROR_SELECTION} } }`,
    // EXECUTE and PROXY so that the rows of executeAction show the tenancy decision, not the missing permission.
    { input: { organizationId, name: 'k', workspaceIds, permissions: ['EXECUTE', 'PROXY'] } },
    w.tokens.OWNER,
  );
  return { id: data.createApiKey.apiKey.id, plainKey: data.createApiKey.plainKey };
}

/** A new member of `organizationId` (invited by its owner, accepted by a fresh user); returns the Member id. */
async function makeMember(organizationId: string): Promise<string> {
  const email = `${fresh('person')}@a.test`;
  const invite = await makeInvite(organizationId, email);
  return make('acceptInvite', 'AcceptInviteInput', { id: invite }, await t.memberToken(email));
}

/** An input that must run under another token than the principal's own. */
class As {
  constructor(readonly input: Record<string, unknown>, readonly token: string) {}
}

type Row =
  | { kind: 'mutation'; expect: string; input: (p: Principal) => Promise<Record<string, unknown> | As> | Record<string, unknown> }
  | { kind: 'query'; expect: string; query: string; variables: () => Record<string, unknown>; pick: (data: any) => unknown }
  | {
      kind: 'subscription';
      expect: string;
      query: string;
      variables: () => Record<string, unknown>;
      /** Makes a change the subscription should hear (made again until it hears one). */
      trigger?: () => Promise<unknown>;
    };

const mutation = (expect: string, input: Extract<Row, { kind: 'mutation' }>['input']): Row => ({ kind: 'mutation', expect, input });
const query = (expect: string, q: string, variables: () => Record<string, unknown>, pick = (data: any) => Object.values(data)[0]): Row => ({
  kind: 'query', expect, query: q, variables, pick,
});

// prettier-ignore
const POLICY: Record<string, Row> = {
  //                                 OWN ADM MEM OTH KEY WIN WOUT EU ANON REV EXP
  node:                       query('ok  ok  ok  NF  ok  ok  SD  NF  UA   UA  UA', 'query($id: ID!) { node(id: $id) { id } }', () => ({ id: w.ws1 })),
  nodes:                      query('ok  ok  ok  NF  ok  ok  SD  NF  UA   UA  UA', 'query($id: ID!) { nodes(ids: [$id]) { id } }', () => ({ id: w.ws1 }), (d) => d.nodes[0]),
  viewer:                     query('ok  ok  ok  ok  ok  ok  ok  ok  ok   UA  UA', '{ viewer { kind } }', () => ({})),
  organization:               query('ok  ok  ok  NF  ok  ok  ok  NF  UA   UA  UA', 'query($id: ID) { organization(id: $id) { id name } }', () => ({ id: w.orgA })),
  workspace:                  query('ok  ok  ok  NF  ok  ok  SD  NF  UA   UA  UA', 'query($id: ID!) { workspace(id: $id) { id name } }', () => ({ id: w.ws1 })),
  integrations:               query('ok  ok  ok  ok  ok  ok  ok  ok  ok   UA  UA', '{ integrations { name } }', () => ({})),
  integration:                query('ok  ok  ok  ok  ok  ok  ok  ok  ok   UA  UA', '{ integration(name: "slack") { name } }', () => ({})),
  explainResolution:          query('ok  ok  ok  NF  ok  ok  SD  FB  UA   UA  UA',
    `query($input: ResolveConnectionInput!) { explainResolution(input: $input) { __typename ${ERROR_SELECTION} } }`,
    () => ({ input: { workspaceId: w.ws1, integration: 'fixed-slack' } })),

  workspaceConfigChanged: {
    kind: 'subscription',       expect: 'ok  ok  ok  NF  ok  ok  SD  FB  UA   UA  UA',
    query: 'subscription($id: ID!) { workspaceConfigChanged(workspaceId: $id, sinceVersion: 0) { version } }',
    variables: () => ({ id: w.ws1 }),
  },
  mcpToolsChanged: {
    kind: 'subscription',       expect: 'ok  ok  ok  NF  ok  ok  SD  FB  UA   UA  UA',
    query: 'subscription($id: ID!) { mcpToolsChanged(mcpServerId: $id, sinceVersion: 0) { version } }',
    variables: () => ({ id: w.mcpServer }),
  },
  connectSessionCompleted: {
    kind: 'subscription',       expect: 'ok  ok  ok  NF  ok  ok  SD  FB  UA   UA  UA',
    query: 'subscription($id: ID!) { connectSessionCompleted(workspaceId: $id) { status integrationName } }',
    variables: () => ({ id: w.ws1 }),
    // An end user connects through the hosted form.
    trigger: async () => {
      const data = await call(
        'mutation($input: CreateConnectSessionInput!) { createConnectSession(input: $input) { ... on CreatedConnectSession { url } } }',
        { input: connectSessionInput() },
        w.tokens.OWNER,
      );
      await submitConnectForm(data.createConnectSession.url, { apiKey: 'sk_test_matrix' });
    },
  },
  connectionStatusChanged: {
    kind: 'subscription',       expect: 'ok  ok  ok  NF  ok  ok  SD  FB  UA   UA  UA',
    query: 'subscription($id: ID!) { connectionStatusChanged(workspaceId: $id) { id status } }',
    variables: () => ({ id: w.ws1 }),
    trigger: async () => {
      for (const status of ['ERROR', 'ACTIVE']) {
        await make('setConnectionStatus', 'SetConnectionStatusInput', { id: w.connection, status });
      }
    },
  },

  resolveConnection:          mutation('ok  ok  ok  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, integration: 'fixed-slack' })),
  // End users run actions for themselves (the FIXED connection here); keys need EXECUTE (a key without it: test/execution).
  executeAction:              mutation('ok  ok  ok  NF  ok  ok  SD  ok  UA   UA  UA', () => ({
    workspaceId: w.ws1, integration: 'fixed-slack', action: 'list_channels', input: {},
  })),
  // The owner's execution: end users see only their own.
  actionExecution:            query('ok  ok  ok  NF  ok  ok  SD  NF  UA   UA  UA', 'query($id: ID!) { actionExecution(id: $id) { id status } }', () => ({ id: w.execution })),
  createOrganization:         mutation('ok  ok  ok  ok  FB  FB  FB  FB  UA   UA  UA', () => ({ name: 'New', slug: fresh('new-org') })),
  updateOrganization:         mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', () => ({ id: w.orgA, name: 'Org A' })),
  deleteOrganization:         mutation('ok  FB  FB  NF  FB  SD  SD  FB  UA   UA  UA', async (p) => ({ id: p === 'OWNER' ? await makeOrganization() : w.orgA })),
  transferOwnership:          mutation('ok  FB  FB  NF  FB  SD  SD  FB  UA   UA  UA', async (p) => {
    if (p !== 'OWNER') return { organizationId: w.orgA, memberId: w.adminMember };
    const organizationId = await makeOrganization();
    return { organizationId, memberId: await makeMember(organizationId) };
  }),
  inviteMember:               mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', () => ({ organizationId: w.orgA, email: `${fresh('invitee')}@a.test`, role: 'MEMBER' })),
  revokeInvite:               mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', async () => ({ id: await makeInvite(w.orgA, `${fresh('invitee')}@a.test`) })),
  // Only the invited email may accept: here only OTHER_ORG is invited (to a fresh organization).
  acceptInvite:               mutation('NF  NF  NF  ok  FB  FB  FB  FB  UA   UA  UA', async (p) => ({
    id: p === 'OTHER_ORG' ? await makeInvite(await makeOrganization(), w.emails.OTHER_ORG) : w.strangerInvite,
  })),
  updateMemberRole:           mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', () => ({ id: w.memberMember, role: 'MEMBER' })),
  removeMember:               mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', async () => ({ id: await makeMember(w.orgA) })),
  createApiKey:               mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', () => ({ organizationId: w.orgA, name: 'key' })),
  revokeApiKey:               mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', async () => ({ id: (await apiKey(w.orgA)).id })),
  issueEndUserToken:          mutation('FB  FB  FB  FB  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, externalId: 'matrix-user' })),

  setOAuthApp:                mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', () => ({
    organizationId: w.orgA, integrationName: 'slack', clientId: 'matrix-client', clientSecret: 'matrix-secret',
  })),
  deleteOAuthApp:             mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', async () => ({ id: await makeOAuthApp() })),
  createConnectSession:       mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', connectSessionInput),

  createWorkspace:            mutation('ok  ok  FB  NF  ok  SD  SD  FB  UA   UA  UA', () => ({ organizationId: w.orgA, name: 'W', slug: fresh('ws') })),
  updateWorkspace:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.ws1, name: 'Workspace one' })),
  deleteWorkspace:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async (p) => {
    const id = await makeWorkspace(w.orgA);
    // The in-scope key must be restricted to the workspace it deletes.
    return p === 'WS_KEY_IN' ? new As({ id }, (await apiKey(w.orgA, [id])).plainKey) : { id };
  }),

  createConnection:           mutation('ok  ok  ok  NF  ok  ok  SD  FB  UA   UA  UA', () => ({
    scope: 'WORKSPACE', workspaceId: w.ws1, type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'c', credentials: { apiKey: 'k' },
  })),
  // The owner created these connections: a MEMBER may manage only its own.
  renameConnection:           mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.connection, displayName: 'renamed' })),
  setConnectionStatus:        mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.connection, status: 'ACTIVE' })),
  deleteConnection:           mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async () => ({ id: await makeConnection() })),

  addWorkspaceIntegration:    mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, integrationName: 'slack', alias: fresh('slack'), connectionStrategy: 'PER_USER' })),
  updateWorkspaceIntegration: mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.integration, allowedActions: null })),
  removeWorkspaceIntegration: mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async () => ({ id: await makeIntegration() })),
  createMcpServer:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, name: 'agents' })),
  updateMcpServer:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.mcpServer, name: 'agents' })),
  rotateMcpServerToken:       mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.mcpServer })),
  deleteMcpServer:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async () => ({ id: await makeMcpServer() })),
  createTrigger:              mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({
    workspaceId: w.ws1, integrationName: 'slack', eventName: 'new_message', callbackUrl: 'https://hooks.example.com/x',
  })),
  updateTrigger:              mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.trigger, enabled: true })),
  deleteTrigger:              mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async () => ({ id: await makeTrigger() })),

  createDirectory:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, name: fresh('dir') })),
  renameDirectory:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.directory, name: fresh('dir') })),
  deleteDirectory:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async () => ({ id: await makeDirectory() })),
  syncEndUsers:               mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, users: [{ externalId: fresh('synced') }] })),
  upsertEndUser:              mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, externalId: fresh('upserted') })),
  deleteEndUser:              mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async () => ({ id: await makeEndUser() })),
  setEndUserDirectory:        mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ endUserId: w.endUser, directoryId: w.directory })),
  createSpace:                mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ workspaceId: w.ws1, uid: fresh('space') })),
  updateSpace:                mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ id: w.space, name: 'Space' })),
  deleteSpace:                mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', async () => ({ id: await makeSpace() })),
  addSpaceMembers:            mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ spaceId: w.space, endUserIds: [w.endUser] })),
  removeSpaceMembers:         mutation('ok  ok  FB  NF  ok  ok  SD  FB  UA   UA  UA', () => ({ spaceId: w.space, endUserIds: [w.endUser] })),
};

// Federation's own _entities and _service are covered by the federation tests.
const rootFields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
  .flatMap((type) => Object.keys(type?.getFields() ?? {}))
  .filter((field) => !field.startsWith('_'));

function classify(errors: readonly { extensions?: Record<string, unknown>; message: string }[] | undefined, value: unknown): string {
  const code = errors?.[0]?.extensions?.code;
  if (errors?.length) return typeof code === 'string' ? (SHORT[code] ?? code) : `error: ${errors[0]!.message}`;
  if (value == null) return 'NF';
  const error = value as { __typename?: string; code?: string };
  if (error.code) return SHORT[error.code] ?? error.code;
  return 'ok';
}

function mutationDocument(field: string): string {
  const inputType = (schema.getMutationType()!.getFields()[field]!.args[0]!.type as { toString(): string }).toString();
  return `mutation($input: ${inputType}) { r: ${field}(input: $input) { __typename ${ERROR_SELECTION} } }`;
}

/** The input with every global id swapped for a well-formed id of the same type that does not exist. */
function withMissingIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withMissingIds);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withMissingIds(v)]));
  if (typeof value !== 'string') return value;
  const decoded = Buffer.from(value, 'base64').toString();
  const match = /^([A-Za-z]+):[0-9a-f-]{36}$/.exec(decoded);
  return match ? missingId(match[1]!) : value;
}

async function runMutation(field: string, row: Extract<Row, { kind: 'mutation' }>, p: Principal) {
  const prepared = await row.input(p);
  const [input, token] = prepared instanceof As ? [prepared.input, prepared.token] : [prepared, w.tokens[p]];
  const result = await t.requestRaw<{ r: unknown }>(mutationDocument(field), { input }, token);
  return { outcome: classify(result.errors, result.data?.r), result, input, token };
}

/** The first message of a subscription over graphql-ws, or why there was none. */
function subscribeOnce(
  query: string,
  variables: Record<string, unknown>,
  token: string | undefined,
  trigger?: () => Promise<unknown>,
): Promise<string> {
  const client = createClient({
    url: `${t.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
  const answer = new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), 5000);
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    client.subscribe(
      { query, variables },
      {
        next: (message) => done(classify(message.errors as never, message.data ? Object.values(message.data)[0] : null)),
        // A refused connection_init closes the socket with 4403.
        error: (error) =>
          done(Array.isArray(error) ? classify(error, null) : (error as { code?: number }).code === 4403 ? 'UA' : `error: ${String(error)}`),
        complete: () => done('completed'),
      },
    );
  });
  // graphql-ws does not acknowledge a subscribe: the trigger's change is made again until the subscription
  // answers (a refused principal answers at once). None runs on into the next rows (a connection briefly in
  // ERROR fails resolveConnection).
  const answered = trigger ? repeatUntilHeard(answer, trigger, { timeout: 6000 }) : answer;
  return answered.finally(() => client.dispose());
}

beforeAll(async () => {
  // executeAction reaches this fake Slack, which accepts the matrix connection's key.
  slack = await startSlackFake({ token: 'k' });
  t = await startTestApp({ database: 'pglite', pubsub: 'memory' }, { env: { HEDDLE_PROVIDER_BASE_URLS: JSON.stringify({ slack: slack.apiUrl }) } });
  const emails = { OWNER: 'owner@a.test', ADMIN: 'admin@a.test', MEMBER: 'member@a.test', OTHER_ORG: 'owner@b.test' };
  const tokens = { OWNER: await t.memberToken(emails.OWNER) } as World['tokens'];
  w = { tokens, emails } as World;
  w.orgA = await makeOrganization(tokens.OWNER);
  w.ws1 = await makeWorkspace(w.orgA);
  w.ws2 = await makeWorkspace(w.orgA);
  tokens.ADMIN = await t.memberToken(emails.ADMIN);
  tokens.MEMBER = await t.memberToken(emails.MEMBER);
  w.adminMember = await make('acceptInvite', 'AcceptInviteInput', { id: await makeInvite(w.orgA, emails.ADMIN, 'ADMIN') }, tokens.ADMIN);
  w.memberMember = await make('acceptInvite', 'AcceptInviteInput', { id: await makeInvite(w.orgA, emails.MEMBER, 'MEMBER') }, tokens.MEMBER);
  tokens.OTHER_ORG = await t.memberToken(emails.OTHER_ORG);
  await makeOrganization(tokens.OTHER_ORG);
  tokens.ORG_KEY = (await apiKey(w.orgA)).plainKey;
  tokens.WS_KEY_IN = (await apiKey(w.orgA, [w.ws1])).plainKey;
  tokens.WS_KEY_OUT = (await apiKey(w.orgA, [w.ws2])).plainKey;
  const revoked = await apiKey(w.orgA);
  await make('revokeApiKey', 'RevokeApiKeyInput', { id: revoked.id });
  tokens.REVOKED_KEY = revoked.plainKey;
  const issued = await call(
    `mutation { issueEndUserToken(input: { workspaceId: "${w.ws1}", externalId: "matrix-user" }) { ... on EndUserToken { token endUser { id } } } }`,
    {},
    tokens.ORG_KEY,
  );
  tokens.END_USER = issued.issueEndUserToken.token;
  const endUserRowId = Buffer.from(issued.issueEndUserToken.endUser.id, 'base64').toString().split(':')[1]!;
  tokens.EXPIRED_TOKEN = await signEndUserToken(TEST_JWT_SECRET, endUserRowId, new Date(Date.now() - 60_000));
  tokens.ANONYMOUS = undefined;
  w.connection = await makeConnection();
  // Before the integrations, so that their tools give the server events to replay.
  w.mcpServer = await makeMcpServer();
  w.integration = await makeIntegration();
  await make('addWorkspaceIntegration', 'AddWorkspaceIntegrationInput', {
    workspaceId: w.ws1, integrationName: 'slack', alias: 'fixed-slack', connectionStrategy: 'FIXED', connectionId: w.connection,
  });
  await make('addWorkspaceIntegration', 'AddWorkspaceIntegrationInput', {
    workspaceId: w.ws1, integrationName: 'stripe', alias: CONNECT_ALIAS, connectionStrategy: 'PER_USER',
  });
  await make('updateWorkspace', 'UpdateWorkspaceInput', { id: w.ws1, allowedRedirectOrigins: ['https://app.example.com'] });
  w.trigger = await makeTrigger();
  w.directory = await makeDirectory();
  w.endUser = await makeEndUser();
  w.space = await makeSpace();
  w.strangerInvite = await makeInvite(w.orgA, 'stranger@elsewhere.test');
  w.execution = await make('executeAction', 'ExecuteActionInput', { workspaceId: w.ws1, integration: 'fixed-slack', action: 'list_channels', input: {} });
}, 120_000);
afterAll(async () => {
  await t?.stop();
  await slack?.close();
});

test('every root query, mutation and subscription field has a row in the policy table', () => {
  expect(rootFields.length).toBeGreaterThan(40);
  expect(rootFields.filter((field) => !(field in POLICY)), 'fields without a policy').toEqual([]);
  expect(Object.keys(POLICY).filter((field) => !rootFields.includes(field)), 'policies without a field').toEqual([]);
});

// Every type `node` can load reads its tenancy, lookup and ownership from the
// permission registry: a new Node type without an entry fails here.
test('every Node type of the schema has an entry in the permission registry', () => {
  const node = schema.getType('Node');
  if (!isInterfaceType(node)) throw new Error('the schema has no Node interface');
  const nodeTypes = schema.getPossibleTypes(node).map((type) => type.name);
  expect(nodeTypes.length).toBeGreaterThan(10);
  expect(nodeTypes.filter((name) => !Object.hasOwn(REGISTRY, name)), 'Node types without a registry entry').toEqual([]);
  expect(Object.keys(REGISTRY).filter((name) => !nodeTypes.includes(name)), 'registry entries of no Node type').toEqual([]);
});

describe('each root field answers each principal as the policy table says', () => {
  test.each(Object.keys(POLICY))('%s', async (field) => {
    const row = POLICY[field]!;
    const expected = Object.fromEntries(PRINCIPALS.map((p, i) => [p, row.expect.split(/\s+/)[i]]));
    const actual: Record<string, string> = {};
    for (const p of PRINCIPALS) {
      if (row.kind === 'query') {
        const result = await t.requestRaw(row.query, row.variables(), w.tokens[p]);
        actual[p] = classify(result.errors, result.data ? row.pick(result.data) : null);
      } else if (row.kind === 'subscription') {
        actual[p] = await subscribeOnce(row.query, row.variables(), w.tokens[p], row.trigger);
      } else {
        const run = await runMutation(field, row, p);
        actual[p] = run.outcome;
        if (p === 'OTHER_ORG' && run.outcome === 'NF') {
          // No existence oracle: ids that do not exist get exactly the same answer.
          const missing = await t.requestRaw(mutationDocument(field), { input: withMissingIds(run.input) }, run.token);
          expect(missing, `${field} with missing ids`).toEqual(run.result);
        }
      }
    }
    expect(actual).toEqual(expected);
  });
});

// Issue #23 item 5: every audited change writes its SUCCESS entry in its own
// transaction. With that insert refused, each mutation's change must vanish
// with it: no committed change without its entry.
describe('a change commits with its audit entry, or not at all', () => {
  /** Every table's rows as JSON text, minus the audit log and the asynchronous lastUsedAt of API keys. */
  async function snapshot(): Promise<Record<string, string>> {
    const prisma = t.app.database.prisma;
    const tables = await prisma.$queryRaw<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('AuditEvent', '_prisma_migrations')
      ORDER BY table_name`;
    const dumps = await Promise.all(
      tables.map(({ table_name }) =>
        prisma.$queryRawUnsafe<{ rows: string | null }[]>(
          `SELECT json_agg(to_jsonb(t) - 'lastUsedAt' ORDER BY to_jsonb(t)::text)::text AS rows FROM "${table_name}" t`,
        ),
      ),
    );
    return Object.fromEntries(tables.map(({ table_name }, i) => [table_name, dumps[i]![0]?.rows ?? '']));
  }

  const refuseSuccessEntries = (refuse: boolean) =>
    t.app.database.prisma.$executeRawUnsafe(
      refuse
        ? `CREATE TRIGGER refuse_audit BEFORE INSERT ON "AuditEvent" FOR EACH ROW WHEN (NEW.outcome = 'SUCCESS') EXECUTE FUNCTION test_refuse_audit()`
        : `DROP TRIGGER IF EXISTS refuse_audit ON "AuditEvent"`,
    );

  beforeAll(async () => {
    await t.app.database.prisma.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit entry refused by the test'; END $$`);
  });
  afterAll(() => refuseSuccessEntries(false));

  const mutations = Object.entries(POLICY).filter((entry): entry is [string, Extract<Row, { kind: 'mutation' }>] => entry[1].kind === 'mutation');

  test.each(mutations.map(([field]) => field))('%s', async (field) => {
    const row = POLICY[field] as Extract<Row, { kind: 'mutation' }>;
    // The first principal the policy lets succeed.
    const principal = PRINCIPALS[row.expect.split(/\s+/).indexOf('ok')]!;
    const prepared = await row.input(principal);
    const [input, token] = prepared instanceof As ? [prepared.input, prepared.token] : [prepared, w.tokens[principal]];
    // Authenticating the caller may create its user row: do it before the snapshot.
    await t.requestRaw('{ viewer { kind } }', {}, token);
    const before = await snapshot();
    await refuseSuccessEntries(true);
    const refused = await t.requestRaw<{ r: unknown }>(mutationDocument(field), { input }, token).finally(() => refuseSuccessEntries(false));
    expect(classify(refused.errors, refused.data?.r), `${field} with its audit entry refused`).not.toBe('ok');
    expect(await snapshot()).toEqual(before);
    // The same call succeeds once its entry can be written, and the entry is there.
    const done = await t.requestRaw<{ r: unknown }>(mutationDocument(field), { input }, token);
    expect(classify(done.errors, done.data?.r), `${field} once its audit entry can be written`).toBe('ok');
    const entries = await t.app.database.prisma.auditEvent.count({ where: { action: field, outcome: 'SUCCESS' } });
    expect(entries).toBeGreaterThan(0);
  });
});
