import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { test as world } from '../support/world.js';

const Events = graphql(`
  query TrEvents($name: String!) { integration(name: $name) { triggers { name } } }
`);
const CreateTrigger = graphql(`
  mutation TrCreateTrigger($input: CreateTriggerInput!) {
    createTrigger(input: $input) {
      __typename
      ... on Trigger { id eventName callbackUrl pollingIntervalMinutes enabled workspace { id } }
      ...ErrorFields
    }
  }
`);
const UpdateTrigger = graphql(`
  mutation TrUpdateTrigger($input: UpdateTriggerInput!) {
    updateTrigger(input: $input) {
      __typename ... on Trigger { pollingIntervalMinutes enabled } ...ErrorFields
    }
  }
`);
const DeleteTrigger = graphql(`
  mutation TrDeleteTrigger($input: DeleteTriggerInput!) {
    deleteTrigger(input: $input) { __typename ... on Deleted { id } ...ErrorFields }
  }
`);
const Triggers = graphql(`
  query TrTriggers($org: ID!, $ws: ID!) {
    organization(id: $org) { triggers(first: 20) { totalCount } }
    workspace(id: $ws) { triggers(first: 20) { totalCount edges { node { eventName } } } }
  }
`);

const triggersTest = world
  .extend('githubEvents', { scope: 'file' }, async ({ t }) =>
    (await t.request(Events, { name: 'github' })).data!.integration!.triggers.map((e) => e.name),
  )
  /** createTrigger as the owner, for a GitHub event to an https callback unless `input` says otherwise. */
  .extend('create', { scope: 'file' }, ({ t, tenant }) => (input: Record<string, unknown>) =>
    t.request(CreateTrigger, { input: { integrationName: 'github', callbackUrl: 'https://hooks.example.com/gh', ...input } as never }, tenant.token)
      .then((r) => r.data!.createTrigger),
  );

describeEachBackend('triggers', (_backend, test) => {
  test('a workspace trigger on a catalog event; an organization trigger; both listed', async ({ t, tenant: { token, organizationId: orgId }, workspaceId, githubEvents, create }) => {
    const created = await create({ workspaceId, eventName: githubEvents[0] });
    expect(created).toMatchObject({ __typename: 'Trigger', eventName: githubEvents[0], pollingIntervalMinutes: 15, enabled: true, workspace: { id: workspaceId } });
    const orgWide = await create({ organizationId: orgId, eventName: githubEvents[1], callbackUrl: 'http://localhost:9000/hook' });
    expect(orgWide).toMatchObject({ __typename: 'Trigger', workspace: null });
    const lists = (await t.request(Triggers, { org: orgId, ws: workspaceId }, token)).data!;
    expect(lists.organization?.triggers.totalCount).toBeGreaterThanOrEqual(2);
    expect(lists.workspace?.triggers.edges.map((e) => e.node.eventName)).toContain(githubEvents[0]);
  });

  test.for([
    [{ eventName: 'tweet_posted' }, 'eventName'],
    [{ callbackUrl: 'http://hooks.example.com/gh' }, 'callbackUrl'],
    [{ callbackUrl: 'not a url' }, 'callbackUrl'],
    [{ pollingIntervalMinutes: 0 }, 'pollingIntervalMinutes'],
    [{ pollingIntervalMinutes: 1441 }, 'pollingIntervalMinutes'],
    [{ integrationName: 'myspace' }, 'integrationName'],
  ] as const)('%o is a VALIDATION_ERROR on input.%s', async ([override, field], { workspaceId, githubEvents, create }) => {
    const result = await create({ workspaceId, eventName: githubEvents[0], ...override });
    expect(result).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((result as { fieldErrors: { path: string[] }[] }).fieldErrors.map((e) => e.path.join('.'))).toContain(`input.${field}`);
  });

  test('the polling interval bounds 1 and 1,440 are accepted; updates are validated the same way', async ({ t, tenant: { token }, workspaceId, githubEvents, create }) => {
    const low = await create({ workspaceId, eventName: githubEvents[0], pollingIntervalMinutes: 1 });
    const high = await create({ workspaceId, eventName: githubEvents[0], pollingIntervalMinutes: 1440 });
    expect([low, high]).toMatchObject([{ pollingIntervalMinutes: 1 }, { pollingIntervalMinutes: 1440 }]);
    const id = (low as { id: string }).id;
    const bad = await t.request(UpdateTrigger, { input: { id, pollingIntervalMinutes: 2000 } }, token);
    expect(bad.data?.updateTrigger).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'pollingIntervalMinutes'] }] });
    const paused = await t.request(UpdateTrigger, { input: { id, enabled: false, pollingIntervalMinutes: 60 } }, token);
    expect(paused.data?.updateTrigger).toEqual({ __typename: 'Trigger', pollingIntervalMinutes: 60, enabled: false });
    const deleted = await t.request(DeleteTrigger, { input: { id } }, token);
    expect(deleted.data?.deleteTrigger).toEqual({ __typename: 'Deleted', id });
    const stranger = await t.memberToken('tr-stranger@example.com');
    const foreign = await t.request(DeleteTrigger, { input: { id: (high as { id: string }).id } }, stranger);
    expect(foreign.data?.deleteTrigger).toMatchObject({ code: 'NOT_FOUND' });
  });
}, ALL_BACKENDS, triggersTest);
