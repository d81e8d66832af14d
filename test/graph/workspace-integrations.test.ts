import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { describeEachBackend } from '../support/backends.js';
import type { TestApp } from '../support/app.js';
import { seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';

const DeleteConnection = graphql(`
  mutation WiDeleteConnection($input: DeleteConnectionInput!) {
    deleteConnection(input: $input) { __typename ... on Deleted { id } ...ErrorFields }
  }
`);
const IntegrationActions = graphql(`
  query WiIntegrationActions($name: String!) { integration(name: $name) { actions { name } } }
`);
const AddIntegration = graphql(`
  mutation WiAddIntegration($input: AddWorkspaceIntegrationInput!) {
    addWorkspaceIntegration(input: $input) {
      __typename
      ... on WorkspaceIntegration { id alias integrationName connectionStrategy allowedActions actions { name } connection { id } }
      ...ErrorFields
    }
  }
`);
const UpdateIntegration = graphql(`
  mutation WiUpdateIntegration($input: UpdateWorkspaceIntegrationInput!) {
    updateWorkspaceIntegration(input: $input) {
      __typename
      ... on WorkspaceIntegration { alias connectionStrategy allowedActions connection { id } }
      ...ErrorFields
    }
  }
`);
const RemoveIntegration = graphql(`
  mutation WiRemoveIntegration($input: RemoveWorkspaceIntegrationInput!) {
    removeWorkspaceIntegration(input: $input) { __typename ... on Deleted { id } ...ErrorFields }
  }
`);
const DeleteWorkspace = graphql(`
  mutation WiDeleteWorkspace($input: DeleteWorkspaceInput!) {
    deleteWorkspace(input: $input) { __typename ... on Deleted { id } ...ErrorFields }
  }
`);
const NodeById = graphql(`
  query WiNode($id: ID!) { node(id: $id) { id } }
`);
const WorkspaceIntegrations = graphql(`
  query WiWorkspaceIntegrations($id: ID!) {
    workspace(id: $id) { configVersion integrations(first: 50) { totalCount edges { node { alias } } } }
  }
`);

describeEachBackend('workspace integrations', (_backend, test) => {
  // The helpers below act as the tenant's owner.
  let t: TestApp;
  let token: string;
  let orgId: string;
  let slackActions: string[];
  test.beforeAll(async ({ t: app, tenant }) => {
    t = app;
    ({ token, organizationId: orgId } = tenant);
    const actions = await t.request(IntegrationActions, { name: 'slack' });
    slackActions = actions.data!.integration!.actions.map((a) => a.name);
  });

  let workspaceCount = 0;
  async function newWorkspace(): Promise<string> {
    const slug = `ws-${++workspaceCount}`;
    return seedWorkspace(t, token, orgId, slug);
  }
  const orgConnection = (integrationName = 'slack', organizationId = orgId, as = token) =>
    seedConnection(t, as, { scope: 'ORGANIZATION', organizationId, integrationName, displayName: `${integrationName} key` });

  // Inputs here are deliberately loose: many of them are invalid on purpose.
  const add = (input: Record<string, unknown>) =>
    t.request(AddIntegration, { input: input as never }, token).then((r) => r.data!.addWorkspaceIntegration);

  test('the alias defaults to the integration name and is unique per workspace (ALIAS_CONFLICT)', async () => {
    const workspaceId = await newWorkspace();
    const first = await add({ workspaceId, integrationName: 'gmail', connectionStrategy: 'PER_USER' });
    expect(first).toMatchObject({ __typename: 'WorkspaceIntegration', alias: 'gmail', allowedActions: null });
    const again = await add({ workspaceId, integrationName: 'gmail', connectionStrategy: 'PER_USER' });
    expect(again).toMatchObject({ __typename: 'AliasConflictError', code: 'ALIAS_CONFLICT' });
    const second = await add({ workspaceId, integrationName: 'gmail', connectionStrategy: 'PER_USER', alias: 'gmail-support' });
    expect(second).toMatchObject({ __typename: 'WorkspaceIntegration', alias: 'gmail-support', integrationName: 'gmail' });
    const elsewhere = await add({ workspaceId: await newWorkspace(), integrationName: 'gmail', connectionStrategy: 'PER_USER' });
    expect(elsewhere.__typename).toBe('WorkspaceIntegration');
  });

  test.each(['Slack', 'a__b', 'a@b', '-a', ''])('alias %j is a VALIDATION_ERROR on input.alias', async (alias) => {
    const result = await add({ workspaceId: await newWorkspace(), integrationName: 'gmail', connectionStrategy: 'PER_USER', alias });
    expect(result).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'alias'] }] });
  });

  test('an integration outside the catalog is a VALIDATION_ERROR', async () => {
    const result = await add({ workspaceId: await newWorkspace(), integrationName: 'myspace', connectionStrategy: 'PER_USER' });
    expect(result).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'integrationName'] }] });
  });

  test('FIXED and PER_USER_WITH_FALLBACK need a connection; PER_USER must not have one', async () => {
    const workspaceId = await newWorkspace();
    const connectionId = await orgConnection();
    for (const connectionStrategy of ['FIXED', 'PER_USER_WITH_FALLBACK']) {
      const missing = await add({ workspaceId, integrationName: 'slack', connectionStrategy, alias: `m-${connectionStrategy.length}` });
      expect(missing).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'connectionId'] }] });
    }
    const perUser = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'PER_USER', connectionId });
    expect(perUser).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'connectionId'] }] });
    const fixed = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId });
    expect(fixed).toMatchObject({ __typename: 'WorkspaceIntegration', connectionStrategy: 'FIXED', connection: { id: connectionId } });
    const fallback = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId, alias: 'slack-users' });
    expect(fallback).toMatchObject({ __typename: 'WorkspaceIntegration', connection: { id: connectionId } });
  });

  test('the connection must match the integration, be visible to the workspace, and belong to the tenant', async () => {
    const workspaceId = await newWorkspace();
    const github = await orgConnection('github');
    const mismatch = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId: github });
    expect(mismatch).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'connectionId'] }] });

    const otherWorkspace = await newWorkspace();
    const elsewhereId = await seedConnection(t, token, { scope: 'WORKSPACE', workspaceId: otherWorkspace, integrationName: 'slack' });
    const invisible = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId: elsewhereId });
    expect(invisible).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'connectionId'] }] });

    const stranger = await t.memberToken('stranger-wi@example.com');
    const foreign = await orgConnection('slack', await seedOrganization(t, stranger, 'stranger-wi'), stranger);
    const notFound = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId: foreign });
    expect(notFound).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  test('allowedActions: null allows all, a subset is kept, empty or unknown actions are refused', async () => {
    const workspaceId = await newWorkspace();
    const all = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'PER_USER' });
    expect(all).toMatchObject({ allowedActions: null });
    expect((all as { actions: { name: string }[] }).actions.map((a) => a.name)).toEqual(slackActions);

    const subset = slackActions.slice(0, 2);
    const some = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'PER_USER', alias: 'slack-few', allowedActions: subset });
    expect(some).toMatchObject({ allowedActions: subset, actions: subset.map((name) => ({ name })) });

    const empty = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'PER_USER', alias: 'slack-none', allowedActions: [] });
    expect(empty).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'allowedActions'] }] });
    const unknown = await add({
      workspaceId,
      integrationName: 'slack',
      connectionStrategy: 'PER_USER',
      alias: 'slack-bad',
      allowedActions: [slackActions[0], 'launch_rocket'],
    });
    expect(unknown).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'allowedActions', '1'] }] });
  });

  test('every change is a config change: add, update and remove each raise configVersion by one', async () => {
    const workspaceId = await newWorkspace();
    const connectionId = await orgConnection();
    const added = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId });
    const id = (added as { id: string }).id;
    const version = async () => (await t.request(WorkspaceIntegrations, { id: workspaceId }, token)).data!.workspace!.configVersion;
    expect(await version()).toBe(1);

    const toPerUserKeepingConnection = await t.request(UpdateIntegration, { input: { id, connectionStrategy: 'PER_USER' } }, token);
    expect(toPerUserKeepingConnection.data?.updateWorkspaceIntegration).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await version()).toBe(1);

    const toPerUser = await t.request(UpdateIntegration, { input: { id, connectionStrategy: 'PER_USER', connectionId: null, alias: 'slack-me' } }, token);
    expect(toPerUser.data?.updateWorkspaceIntegration).toMatchObject({ alias: 'slack-me', connectionStrategy: 'PER_USER', connection: null });
    expect(await version()).toBe(2);

    const removed = await t.request(RemoveIntegration, { input: { id } }, token);
    expect(removed.data?.removeWorkspaceIntegration).toEqual({ __typename: 'Deleted', id });
    const after = (await t.request(WorkspaceIntegrations, { id: workspaceId }, token)).data!.workspace!;
    expect(after.configVersion).toBe(3);
    expect(after.integrations.totalCount).toBe(0);
  });

  test('a connection used as a fixed or fallback connection cannot be deleted (CONFLICT names the users)', async () => {
    const workspaceId = await newWorkspace();
    const connectionId = await orgConnection();
    const added = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId, alias: 'slack-bot' });
    const refused = await t.request(DeleteConnection, { input: { id: connectionId } }, token);
    expect(refused.data?.deleteConnection).toMatchObject({ code: 'CONFLICT' });
    expect((refused.data?.deleteConnection as { message: string }).message).toContain('slack-bot');

    await t.request(RemoveIntegration, { input: { id: (added as { id: string }).id } }, token);
    const deleted = await t.request(DeleteConnection, { input: { id: connectionId } }, token);
    expect(deleted.data?.deleteConnection).toEqual({ __typename: 'Deleted', id: connectionId });
  });

  test('deleting a workspace removes everything in it, and leaves organization connections alone', async () => {
    const workspaceId = await newWorkspace();
    const orgConnectionId = await orgConnection();
    const fixed = await add({ workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId: orgConnectionId });
    const workspaceConnectionId = await seedConnection(t, token, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
    const fallback = await add({ workspaceId, integrationName: 'slack', alias: 'slack-ws', connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId: workspaceConnectionId });
    const userConnectionId = await seedConnection(t, token, { scope: 'USER', workspaceId, externalId: 'someone', integrationName: 'slack' });
    const deleted = await t.request(DeleteWorkspace, { input: { id: workspaceId } }, token);
    expect(deleted.data?.deleteWorkspace).toEqual({ __typename: 'Deleted', id: workspaceId });
    const gone = [workspaceId, (fixed as { id: string }).id, (fallback as { id: string }).id, workspaceConnectionId, userConnectionId];
    for (const id of gone) expect((await t.request(NodeById, { id }, token)).data?.node).toBeNull();
    expect((await t.request(NodeById, { id: orgConnectionId }, token)).data?.node).toEqual({ id: orgConnectionId });
  });
});
