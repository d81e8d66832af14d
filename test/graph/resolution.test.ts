// resolveConnection, DESIGN.md §2: every strategy against every situation an
// end user can be in, who may call it, decrypted credentials, usage metering,
// and the two-statement bound of the hot path.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import {
  seedApiKey,
  seedConnection,
  seedConnectionStatus,
  seedEndUser,
  seedIntegration,
  seedOrganization,
  seedWorkspace,
} from '../support/fixtures.js';
import { describeWorld, test as world } from '../support/world.js';

const Resolve = graphql(`
  mutation RsResolve($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution {
        source
        strategy
        explanation
        connection { id displayName status }
        endUser { externalId }
        workspaceIntegration { alias connectionStrategy }
      }
      ...ErrorFields
      ... on ConnectionRequiredError { explanation }
      ... on NotFoundError { path }
      ... on AmbiguousIntegrationError { aliases }
      ... on ActionNotAllowedError { action allowedActions }
    }
  }
`);
const ResolveWithCredentials = graphql(`
  mutation RsResolveWithCredentials($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { source connection { id } credentials { apiKey accessToken expiresAt fields } }
      ...ErrorFields
    }
  }
`);
const EndUserByExternalId = graphql(`
  query RsEndUser($ws: ID!, $externalId: String!) { workspace(id: $ws) { endUser(externalId: $externalId) { id } } }
`);
const Usage = graphql(`
  query RsUsage($org: ID!, $month: String!) {
    organization(id: $org) {
      usage(month: $month) { month activeEndUsers resolutions workspaces { workspace { slug } activeEndUsers resolutions } }
    }
  }
`);
const IssueEndUserToken = graphql(`
  mutation RsIssueToken($input: IssueEndUserTokenInput!) {
    issueEndUserToken(input: $input) { __typename ... on EndUserToken { token } }
  }
`);
const SyncEndUsers = graphql(`
  mutation RsSync($input: SyncEndUsersInput!) { syncEndUsers(input: $input) { __typename ... on SyncEndUsersResult { created } } }
`);

type Outcome =
  | { source: 'FIXED' | 'USER' | 'DIRECTORY' | 'FALLBACK'; connection: string; endUser?: string | null }
  | { error: 'CONNECTION_REQUIRED' | 'AMBIGUOUS_INTEGRATION' | 'ACTION_NOT_ALLOWED' | 'VALIDATION_ERROR' | 'NOT_FOUND' };

interface Row {
  strategy: 'FIXED' | 'PER_USER' | 'PER_USER_WITH_FALLBACK' | 'any';
  situation: string;
  workspace: 'main' | 'broken' | 'twin';
  integration: string;
  externalId?: string;
  action?: string;
  expect: Outcome;
  /** Lines the explanation must contain. */
  explains?: RegExp[];
}

// The data (built in beforeAll through the API):
// main:   tracker = linear FIXED "Linear bot" (actions create_issue, list_issues)
//         code    = github PER_USER (actions list_issues, create_issue); a WORKSPACE github connection exists but is never used
//         chat    = slack PER_USER_WITH_FALLBACK, fallback "Slack fallback" (every action)
//         stripe  = notion FIXED "Notion bot" under the alias "stripe"; payments = stripe FIXED "Stripe key"
//   alice: ACTIVE linear/github/slack connections (github: an older ACTIVE one and a newer ERROR one too)
//   bob:   ERROR linear/github/slack connections; default directory
//   carol: no connections; default directory
//   dave:  no connections; directory "sales" (ACTIVE DIRECTORY linear/github/slack connections)
//   erin:  ERROR github/slack connections; directory "sales"
//   frank: no connections; directory "ops" (ERROR DIRECTORY slack connection)
// broken: tracker = linear FIXED "Broken linear" (ERROR), chat = slack fallback "Broken slack" (ERROR)
//   gail: no connections; hank: directory "support" (ACTIVE DIRECTORY slack "support slack")
// twin:   each integration twice: linear-one/linear-two (FIXED "Linear bot"), github-one/github-two (PER_USER),
//         slack-one/slack-two (fallback "Twin slack")
//   tina: ACTIVE github connection
const ROWS: Row[] = [
  // FIXED: the end user never matters; only the fixed connection's status does.
  { strategy: 'FIXED', situation: 'user has an ACTIVE connection', workspace: 'main', integration: 'tracker', externalId: 'alice', expect: { source: 'FIXED', connection: 'Linear bot', endUser: 'alice' } },
  { strategy: 'FIXED', situation: 'user has only an ERROR connection', workspace: 'main', integration: 'tracker', externalId: 'bob', expect: { source: 'FIXED', connection: 'Linear bot', endUser: 'bob' } },
  { strategy: 'FIXED', situation: 'user has no connection', workspace: 'main', integration: 'tracker', externalId: 'carol', expect: { source: 'FIXED', connection: 'Linear bot' } },
  { strategy: 'FIXED', situation: 'directory default present', workspace: 'main', integration: 'tracker', externalId: 'dave', expect: { source: 'FIXED', connection: 'Linear bot' } },
  { strategy: 'FIXED', situation: 'the fixed connection is in ERROR', workspace: 'broken', integration: 'tracker', externalId: 'gail', expect: { error: 'CONNECTION_REQUIRED' }, explains: [/fixed connection: WORKSPACE connection "Broken linear" skipped: it is ERROR \(revoked by admin\)/] },
  { strategy: 'FIXED', situation: 'unknown end user', workspace: 'main', integration: 'tracker', externalId: 'nobody', expect: { source: 'FIXED', connection: 'Linear bot', endUser: null } },
  { strategy: 'FIXED', situation: 'no externalId', workspace: 'main', integration: 'tracker', expect: { source: 'FIXED', connection: 'Linear bot', endUser: null } },
  { strategy: 'FIXED', situation: 'by integration name', workspace: 'main', integration: 'linear', expect: { source: 'FIXED', connection: 'Linear bot' }, explains: [/"linear" is no alias; it names the linear integration with alias "tracker"/] },
  { strategy: 'FIXED', situation: 'ambiguous name', workspace: 'twin', integration: 'linear', expect: { error: 'AMBIGUOUS_INTEGRATION' } },
  { strategy: 'FIXED', situation: 'by alias where the name is ambiguous', workspace: 'twin', integration: 'linear-two', expect: { source: 'FIXED', connection: 'Linear bot' } },
  { strategy: 'FIXED', situation: 'action not allowed', workspace: 'main', integration: 'tracker', action: 'update_issue', expect: { error: 'ACTION_NOT_ALLOWED' } },
  { strategy: 'FIXED', situation: 'action allowed', workspace: 'main', integration: 'tracker', action: 'create_issue', expect: { source: 'FIXED', connection: 'Linear bot' } },

  // PER_USER: the end user's own ACTIVE connection, newest first, or nothing.
  { strategy: 'PER_USER', situation: 'user has an ACTIVE connection', workspace: 'main', integration: 'code', externalId: 'alice', expect: { source: 'USER', connection: 'alice github', endUser: 'alice' }, explains: [/USER connection "alice github revoked" skipped: it is ERROR/, /USER connection "alice github" is ACTIVE: chosen/] },
  { strategy: 'PER_USER', situation: 'user has only an ERROR connection', workspace: 'main', integration: 'code', externalId: 'bob', expect: { error: 'CONNECTION_REQUIRED' }, explains: [/"bob github" skipped: it is ERROR/] },
  { strategy: 'PER_USER', situation: 'user has no connection (a workspace connection exists)', workspace: 'main', integration: 'code', externalId: 'carol', expect: { error: 'CONNECTION_REQUIRED' }, explains: [/end user "carol": no USER connection for github/] },
  { strategy: 'PER_USER', situation: 'directory default present', workspace: 'main', integration: 'code', externalId: 'dave', expect: { error: 'CONNECTION_REQUIRED' } },
  { strategy: 'PER_USER', situation: 'only an ERROR connection, directory default present', workspace: 'main', integration: 'code', externalId: 'erin', expect: { error: 'CONNECTION_REQUIRED' } },
  { strategy: 'PER_USER', situation: 'unknown end user', workspace: 'main', integration: 'code', externalId: 'nobody', expect: { error: 'CONNECTION_REQUIRED' }, explains: [/"nobody" is not known in this workspace/] },
  { strategy: 'PER_USER', situation: 'no externalId', workspace: 'main', integration: 'code', expect: { error: 'VALIDATION_ERROR' } },
  { strategy: 'PER_USER', situation: 'by integration name', workspace: 'main', integration: 'github', externalId: 'alice', expect: { source: 'USER', connection: 'alice github' } },
  { strategy: 'PER_USER', situation: 'ambiguous name', workspace: 'twin', integration: 'github', externalId: 'tina', expect: { error: 'AMBIGUOUS_INTEGRATION' } },
  { strategy: 'PER_USER', situation: 'by alias where the name is ambiguous', workspace: 'twin', integration: 'github-one', externalId: 'tina', expect: { source: 'USER', connection: 'tina github' } },
  { strategy: 'PER_USER', situation: 'action not allowed', workspace: 'main', integration: 'code', externalId: 'alice', action: 'add_comment', expect: { error: 'ACTION_NOT_ALLOWED' } },
  { strategy: 'PER_USER', situation: 'action allowed', workspace: 'main', integration: 'code', externalId: 'alice', action: 'list_issues', expect: { source: 'USER', connection: 'alice github' } },

  // PER_USER_WITH_FALLBACK: own, else the directory's, else the fallback.
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'user has an ACTIVE connection', workspace: 'main', integration: 'chat', externalId: 'alice', expect: { source: 'USER', connection: 'alice slack', endUser: 'alice' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'user has only an ERROR connection', workspace: 'main', integration: 'chat', externalId: 'bob', expect: { source: 'FALLBACK', connection: 'Slack fallback', endUser: 'bob' }, explains: [/"bob slack" skipped: it is ERROR/, /default directory/, /fallback connection: WORKSPACE connection "Slack fallback" is ACTIVE: chosen/] },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'user has no connection', workspace: 'main', integration: 'chat', externalId: 'carol', expect: { source: 'FALLBACK', connection: 'Slack fallback' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'directory default present', workspace: 'main', integration: 'chat', externalId: 'dave', expect: { source: 'DIRECTORY', connection: 'sales slack', endUser: 'dave' }, explains: [/directory "sales": DIRECTORY connection "sales slack" is ACTIVE: chosen/] },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'only an ERROR connection, directory default present', workspace: 'main', integration: 'chat', externalId: 'erin', expect: { source: 'DIRECTORY', connection: 'sales slack' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'directory default in ERROR', workspace: 'main', integration: 'chat', externalId: 'frank', expect: { source: 'FALLBACK', connection: 'Slack fallback' }, explains: [/directory "ops": DIRECTORY connection "ops slack" skipped: it is ERROR/] },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'fallback present but in ERROR', workspace: 'broken', integration: 'chat', externalId: 'gail', expect: { error: 'CONNECTION_REQUIRED' }, explains: [/"Broken slack" skipped: it is ERROR/] },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'fallback in ERROR, directory default present', workspace: 'broken', integration: 'chat', externalId: 'hank', expect: { source: 'DIRECTORY', connection: 'support slack' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'unknown end user', workspace: 'main', integration: 'chat', externalId: 'nobody', expect: { source: 'FALLBACK', connection: 'Slack fallback', endUser: null } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'no externalId', workspace: 'main', integration: 'chat', expect: { source: 'FALLBACK', connection: 'Slack fallback', endUser: null }, explains: [/no externalId given/] },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'by integration name', workspace: 'main', integration: 'slack', externalId: 'dave', expect: { source: 'DIRECTORY', connection: 'sales slack' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'ambiguous name', workspace: 'twin', integration: 'slack', externalId: 'tina', expect: { error: 'AMBIGUOUS_INTEGRATION' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'by alias where the name is ambiguous', workspace: 'twin', integration: 'slack-two', externalId: 'tina', expect: { source: 'FALLBACK', connection: 'Twin slack' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'action not in the catalog (every action allowed)', workspace: 'main', integration: 'chat', externalId: 'alice', action: 'delete_everything', expect: { error: 'ACTION_NOT_ALLOWED' } },
  { strategy: 'PER_USER_WITH_FALLBACK', situation: 'action allowed', workspace: 'main', integration: 'chat', externalId: 'alice', action: 'send_message', expect: { source: 'USER', connection: 'alice slack' } },

  // Step 1 for every strategy: an alias wins over an integration name.
  { strategy: 'any', situation: 'an alias equal to another integration’s name wins', workspace: 'main', integration: 'stripe', expect: { source: 'FIXED', connection: 'Notion bot' }, explains: [/"stripe" is the alias of a notion integration/] },
  { strategy: 'any', situation: 'the other integration by its own alias', workspace: 'main', integration: 'payments', expect: { source: 'FIXED', connection: 'Stripe key' } },
  { strategy: 'any', situation: 'no alias and no integration name', workspace: 'main', integration: 'gmail', expect: { error: 'NOT_FOUND' } },
];

const resolutionTest = world
  /** The SQL the app runs while `statements` is a list. */
  .extend('recorder', { scope: 'file' }, () => ({ statements: null as string[] | null }))
  .extend('appOptions', { scope: 'file' }, ({ recorder }) => ({ onQuery: (e: { query: string }) => void recorder.statements?.push(e.query) }))
  /** resolveConnection, as the owner unless `token` says otherwise. */
  .extend('resolve', { scope: 'file' }, ({ t, tenant }) =>
    (input: { workspaceId: string; integration: string; externalId?: string; action?: string }, token = tenant.token) =>
      t.request(Resolve, { input }, token),
  );

// Redis adds nothing here (no subscriptions): the two databases are the matrix.
describeEachBackend(
  'resolveConnection',
  (_backend, test) => {
    const workspaces = {} as Record<Row['workspace'], string>;

    test.beforeAll(async ({ t, tenant: { token: owner, organizationId: orgId }, workspaceId }) => {
      workspaces.main = workspaceId;
      for (const slug of ['broken', 'twin'] as const) workspaces[slug] = await seedWorkspace(t, owner, orgId, slug);
      const { main, broken, twin } = workspaces;
      const connection = (input: Record<string, unknown>) => seedConnection(t, owner, input);
      const failed = async (input: Record<string, unknown>, reason = 'revoked by admin') => {
        const id = await connection(input);
        await seedConnectionStatus(t, owner, id, 'ERROR', reason);
        return id;
      };
      const userConnection = (workspaceId: string, externalId: string, integrationName: string, displayName: string) =>
        ({ scope: 'USER', workspaceId, externalId, integrationName, displayName });
      const directoryConnection = (directoryId: string, integrationName: string, displayName: string) =>
        ({ scope: 'DIRECTORY', directoryId, integrationName, displayName });

      const linearBot = await connection({ scope: 'ORGANIZATION', organizationId: orgId, integrationName: 'linear', displayName: 'Linear bot' });
      const notionBot = await connection({ scope: 'ORGANIZATION', organizationId: orgId, integrationName: 'notion', displayName: 'Notion bot' });
      const stripeKey = await connection({ scope: 'ORGANIZATION', organizationId: orgId, integrationName: 'stripe', displayName: 'Stripe key' });
      const slackFallback = await connection({ scope: 'WORKSPACE', workspaceId: main, integrationName: 'slack', displayName: 'Slack fallback' });
      await connection({ scope: 'WORKSPACE', workspaceId: main, integrationName: 'github', displayName: 'GitHub team' });
      await seedIntegration(t, owner, { workspaceId: main, integrationName: 'linear', alias: 'tracker', connectionStrategy: 'FIXED', connectionId: linearBot, allowedActions: ['create_issue', 'list_issues'] });
      await seedIntegration(t, owner, { workspaceId: main, integrationName: 'github', alias: 'code', connectionStrategy: 'PER_USER', allowedActions: ['list_issues', 'create_issue'] });
      await seedIntegration(t, owner, { workspaceId: main, integrationName: 'slack', alias: 'chat', connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId: slackFallback });
      await seedIntegration(t, owner, { workspaceId: main, integrationName: 'notion', alias: 'stripe', connectionStrategy: 'FIXED', connectionId: notionBot });
      await seedIntegration(t, owner, { workspaceId: main, integrationName: 'stripe', alias: 'payments', connectionStrategy: 'FIXED', connectionId: stripeKey });

      for (const integration of ['linear', 'slack']) await connection(userConnection(main, 'alice', integration, `alice ${integration}`));
      await connection(userConnection(main, 'alice', 'github', 'alice github old'));
      await connection(userConnection(main, 'alice', 'github', 'alice github'));
      await failed(userConnection(main, 'alice', 'github', 'alice github revoked'));
      for (const integration of ['linear', 'github', 'slack']) await failed(userConnection(main, 'bob', integration, `bob ${integration}`));
      await seedEndUser(t, owner, { workspaceId: main, externalId: 'carol' });
      const sales = (await seedEndUser(t, owner, { workspaceId: main, externalId: 'dave', directory: 'sales' })).directoryId!;
      for (const integration of ['linear', 'github', 'slack']) await connection(directoryConnection(sales, integration, `sales ${integration}`));
      await seedEndUser(t, owner, { workspaceId: main, externalId: 'erin', directory: 'sales' });
      for (const integration of ['github', 'slack']) await failed(userConnection(main, 'erin', integration, `erin ${integration}`));
      const ops = (await seedEndUser(t, owner, { workspaceId: main, externalId: 'frank', directory: 'ops' })).directoryId!;
      await failed(directoryConnection(ops, 'slack', 'ops slack'));

      const brokenLinear = await failed({ scope: 'WORKSPACE', workspaceId: broken, integrationName: 'linear', displayName: 'Broken linear' });
      const brokenSlack = await connection({ scope: 'WORKSPACE', workspaceId: broken, integrationName: 'slack', displayName: 'Broken slack' });
      await seedIntegration(t, owner, { workspaceId: broken, integrationName: 'linear', alias: 'tracker', connectionStrategy: 'FIXED', connectionId: brokenLinear });
      await seedIntegration(t, owner, { workspaceId: broken, integrationName: 'slack', alias: 'chat', connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId: brokenSlack });
      await seedConnectionStatus(t, owner, brokenSlack, 'ERROR', 'token revoked');
      await seedEndUser(t, owner, { workspaceId: broken, externalId: 'gail' });
      const support = (await seedEndUser(t, owner, { workspaceId: broken, externalId: 'hank', directory: 'support' })).directoryId!;
      await connection(directoryConnection(support, 'slack', 'support slack'));

      const twinSlack = await connection({ scope: 'WORKSPACE', workspaceId: twin, integrationName: 'slack', displayName: 'Twin slack' });
      for (const n of ['one', 'two']) {
        await seedIntegration(t, owner, { workspaceId: twin, integrationName: 'linear', alias: `linear-${n}`, connectionStrategy: 'FIXED', connectionId: linearBot });
        await seedIntegration(t, owner, { workspaceId: twin, integrationName: 'github', alias: `github-${n}`, connectionStrategy: 'PER_USER' });
        await seedIntegration(t, owner, { workspaceId: twin, integrationName: 'slack', alias: `slack-${n}`, connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId: twinSlack });
      }
      await connection(userConnection(twin, 'tina', 'github', 'tina github'));
    }, 180_000);

    test.for(ROWS.map((row) => [`${row.strategy} × ${row.situation}`, row] as const))('%s', async ([_name, row], { resolve }) => {
      const result = await resolve({
        workspaceId: workspaces[row.workspace],
        integration: row.integration,
        ...(row.externalId ? { externalId: row.externalId } : {}),
        ...(row.action ? { action: row.action } : {}),
      });
      expect(result.errors).toBeUndefined();
      const answer = result.data!.resolveConnection;
      if ('error' in row.expect) {
        expect(answer, JSON.stringify(answer)).toMatchObject({ code: row.expect.error });
      } else {
        expect(answer.__typename, JSON.stringify(answer)).toBe('ConnectionResolution');
        if (answer.__typename !== 'ConnectionResolution') return;
        expect(answer.source).toBe(row.expect.source);
        expect(answer.connection).toMatchObject({ displayName: row.expect.connection, status: 'ACTIVE' });
        if (row.strategy !== 'any') expect(answer.strategy).toBe(row.strategy);
        if (row.expect.endUser !== undefined) expect(answer.endUser?.externalId ?? null).toBe(row.expect.endUser);
      }
      const explanation = (answer as { explanation?: string[] }).explanation ?? [];
      for (const line of row.explains ?? []) expect(explanation.some((l) => line.test(l)), explanation.join('\n')).toBe(true);
    });

    test('errors say what to do: the aliases of an ambiguous name, the allowed actions, the missing externalId', async ({ resolve }) => {
      const ambiguous = await resolve({ workspaceId: workspaces.twin, integration: 'github' });
      expect(ambiguous.data?.resolveConnection).toMatchObject({ code: 'AMBIGUOUS_INTEGRATION', aliases: ['github-one', 'github-two'] });
      const action = await resolve({ workspaceId: workspaces.main, integration: 'code', externalId: 'alice', action: 'add_comment' });
      expect(action.data?.resolveConnection).toMatchObject({ action: 'add_comment', allowedActions: ['list_issues', 'create_issue'] });
      const missing = await resolve({ workspaceId: workspaces.main, integration: 'code' });
      expect(missing.data?.resolveConnection).toMatchObject({ fieldErrors: [{ path: ['input', 'externalId'] }] });
      const badExternalId = await resolve({ workspaceId: workspaces.main, integration: 'chat', externalId: '256' });
      expect(badExternalId.data?.resolveConnection).toMatchObject({ fieldErrors: [{ path: ['input', 'externalId'] }] });
    });

    test('resolving for an unknown end user does not create it', async ({ t, tenant: { token: owner }, resolve }) => {
      await resolve({ workspaceId: workspaces.main, integration: 'chat', externalId: 'ghost' });
      const lookup = await t.request(EndUserByExternalId, { ws: workspaces.main, externalId: 'ghost' }, owner);
      expect(lookup.data?.workspace?.endUser).toBeNull();
    });

    test('members and API keys may resolve; restricted keys only in their workspaces; end users and anonymous callers may not', async ({
      t, tenant: { token: owner, organizationId: orgId }, apiKey: orgKey, resolve,
    }) => {
      const input = { workspaceId: workspaces.main, integration: 'tracker' };
      expect((await resolve(input, orgKey)).data?.resolveConnection).toMatchObject({ source: 'FIXED' });

      const brokenOnly = await seedApiKey(t, owner, { organizationId: orgId, workspaceIds: [workspaces.broken] });
      const denied = await resolve(input, brokenOnly);
      expect(denied.errors?.[0]?.extensions?.code).toBe('SCOPE_DENIED');
      expect((await resolve({ workspaceId: workspaces.broken, integration: 'chat', externalId: 'hank' }, brokenOnly)).data?.resolveConnection)
        .toMatchObject({ source: 'DIRECTORY' });

      const issued = await t.request(IssueEndUserToken, { input: { workspaceId: workspaces.main, externalId: 'alice' } }, orgKey);
      const endUserToken = (issued.data?.issueEndUserToken as { token: string }).token;
      expect((await resolve(input, endUserToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await t.request(Resolve, { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    test('another tenant’s workspace, and a malformed id, are NOT_FOUND', async ({ t, resolve }) => {
      const stranger = await t.memberToken('stranger-rs@example.com');
      await seedOrganization(t, stranger, 'rs-stranger');
      const foreign = await resolve({ workspaceId: workspaces.main, integration: 'tracker' }, stranger);
      expect(foreign.data?.resolveConnection).toMatchObject({ code: 'NOT_FOUND', path: ['input', 'workspaceId'] });
      const malformed = await resolve({ workspaceId: 'not-an-id', integration: 'tracker' });
      expect(malformed.data?.resolveConnection).toMatchObject({ code: 'NOT_FOUND' });
    });

    test('credentials: only for an API key holding credentials:read, and every read is audited', async ({
      t, tenant: { token: owner, organizationId: orgId }, readerKey: reader,
    }) => {
      const input = { workspaceId: workspaces.main, integration: 'payments' };
      const asMember = await t.request(ResolveWithCredentials, { input }, owner);
      expect(asMember.data?.resolveConnection).toMatchObject({ source: 'FIXED', credentials: null });
      expect(asMember.errors?.map((e) => [e.extensions?.code, e.path?.join('.')])).toEqual([['FORBIDDEN', 'resolveConnection.credentials']]);

      const plainKey = await seedApiKey(t, owner, { organizationId: orgId });
      const withoutPermission = await t.request(ResolveWithCredentials, { input }, plainKey);
      expect(withoutPermission.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

      const before = await t.app.database.prisma.auditEvent.count({ where: { action: 'connection.credentials.read' } });
      const read = await t.request(ResolveWithCredentials, { input }, reader);
      expect(read.errors).toBeUndefined();
      const resolution = read.data!.resolveConnection as { connection: { id: string }; credentials: { apiKey: string } };
      // seedConnection's throwaway secret.
      expect(resolution.credentials).toEqual({ apiKey: 'k', accessToken: null, expiresAt: null, fields: null });
      const events = await t.app.database.prisma.auditEvent.findMany({ where: { action: 'connection.credentials.read' }, orderBy: { occurredAt: 'asc' } });
      expect(events).toHaveLength(before + 1);
      const connectionRow = Buffer.from(resolution.connection.id, 'base64').toString().split(':')[1];
      expect(events.at(-1)).toMatchObject({ actorType: 'API_KEY', outcome: 'SUCCESS', targetType: 'Connection', targetId: connectionRow });
      expect(JSON.stringify(events.at(-1)!.details)).not.toContain('"k"');
    });

    test('a resolution that needs no refresh costs at most 2 SQL statements: one read, one usage write', async ({ apiKey: key, resolve, recorder }) => {
      const cases = [
        { workspaceId: workspaces.main, integration: 'tracker', externalId: 'alice' },
        { workspaceId: workspaces.main, integration: 'code', externalId: 'alice' },
        { workspaceId: workspaces.main, integration: 'chat', externalId: 'dave' },
        { workspaceId: workspaces.main, integration: 'chat' },
      ];
      for (const input of cases) {
        recorder.statements = [];
        const result = await resolve(input, key);
        const seen = recorder.statements;
        recorder.statements = null;
        expect(result.data?.resolveConnection.__typename).toBe('ConnectionResolution');
        // What we count: every statement of the request except the API key's
        // authentication (its lookup, and the batched lastUsedAt write).
        const resolver = seen.filter((sql) => !/"ApiKey"|"ApiKeyWorkspace"/.test(sql));
        expect(resolver.length, resolver.join('\n---\n')).toBeLessThanOrEqual(2);
        expect(resolver.filter((sql) => /"UsageCounter"/.test(sql))).toHaveLength(1);
      }
    });
  },
  ALL_BACKENDS.filter((backend) => backend.pubsub === 'memory'),
  resolutionTest,
);

const month = () => new Date().toISOString().slice(0, 7);

/** The organization's usage in month `m` (this month by default). */
const meteringTest = world.extend('usage', { scope: 'file' }, ({ t, tenant: { token: owner, organizationId: orgId } }) => async (m = month()) => {
  const result = await t.request(Usage, { org: orgId, month: m }, owner);
  expect(result.errors).toBeUndefined();
  return result.data!.organization!.usage;
});

describeWorld('usage metering', (test) => {
  let w1: string;
  let w2: string;
  test.beforeAll(async ({ t, tenant: { token: owner, organizationId: orgId } }) => {
    w1 = await seedWorkspace(t, owner, orgId, 'alpha');
    w2 = await seedWorkspace(t, owner, orgId, 'beta');
    for (const workspaceId of [w1, w2]) {
      const bot = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack', displayName: 'bot' });
      await seedIntegration(t, owner, { workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId: bot });
      await seedIntegration(t, owner, { workspaceId, integrationName: 'github', connectionStrategy: 'PER_USER' });
    }
  });

  test('creating and syncing end users is free; successful resolutions count, and their end users become active', async ({ t, tenant: { token: owner }, usage }) => {
    for (const externalId of ['u1', 'u2', 'u3']) await seedEndUser(t, owner, { workspaceId: w1, externalId });
    const synced = await t.request(SyncEndUsers, { input: { workspaceId: w2, users: [{ externalId: 'v1' }, { externalId: 'v2' }] } }, owner);
    expect(synced.data?.syncEndUsers).toMatchObject({ created: 2 });
    expect(await usage()).toEqual({ month: month(), activeEndUsers: 0, resolutions: 0, workspaces: [] });

    const resolve = (workspaceId: string, integration: string, externalId?: string) =>
      t.request(Resolve, { input: { workspaceId, integration, ...(externalId ? { externalId } : {}) } }, owner);
    for (const externalId of ['u1', 'u1', 'u2', undefined]) {
      expect((await resolve(w1, 'slack', externalId)).data?.resolveConnection.__typename).toBe('ConnectionResolution');
    }
    // Failed resolutions are free too.
    expect((await resolve(w1, 'github', 'u3')).data?.resolveConnection).toMatchObject({ code: 'CONNECTION_REQUIRED' });
    expect((await resolve(w2, 'slack', 'v1')).data?.resolveConnection.__typename).toBe('ConnectionResolution');

    expect(await usage()).toEqual({
      month: month(),
      activeEndUsers: 3,
      resolutions: 5,
      workspaces: [
        { workspace: { slug: 'alpha' }, activeEndUsers: 2, resolutions: 4 },
        { workspace: { slug: 'beta' }, activeEndUsers: 1, resolutions: 1 },
      ],
    });
    expect(await usage('1999-01')).toEqual({ month: '1999-01', activeEndUsers: 0, resolutions: 0, workspaces: [] });
  });

  test('concurrent resolutions of one workspace all count, as one entry for the workspace', async ({ t, tenant: { token: owner }, usage }) => {
    const resolutionsOf = async (slug: string) => (await usage()).workspaces.find((w) => w.workspace.slug === slug)?.resolutions ?? 0;
    const before = await resolutionsOf('beta');
    const results = await Promise.all(
      Array.from({ length: 40 }, () => t.request(Resolve, { input: { workspaceId: w2, integration: 'slack' } }, owner)),
    );
    expect(results.every((r) => r.data?.resolveConnection.__typename === 'ConnectionResolution')).toBe(true);
    const after = await usage();
    expect(after.workspaces.filter((w) => w.workspace.slug === 'beta')).toHaveLength(1);
    expect(await resolutionsOf('beta')).toBe(before + 40);
  });

  test('the month must be YYYY-MM; API keys cannot read usage', async ({ t, tenant: { token: owner, organizationId: orgId }, apiKey: key }) => {
    const bad = await t.request(Usage, { org: orgId, month: '2026-13' }, owner);
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION_ERROR');
    const asKey = await t.request(Usage, { org: orgId, month: month() }, key);
    expect(asKey.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
}, meteringTest);
