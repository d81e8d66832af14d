import { expect } from 'vitest';
import { WITH_SEALED_COLUMNS } from '../../src/platform/crypto/credential-store.js';
import { graphql } from '../generated/index.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { seedWorkspace } from '../support/fixtures.js';
import { test as world } from '../support/world.js';

const CreateConnection = graphql(`
  mutation CnCreateConnection($input: CreateConnectionInput!) {
    createConnection(input: $input) {
      __typename
      ... on Connection { id displayName type scope status integrationName expiresAt workspace { id } }
      ...ErrorFields
    }
  }
`);
const RenameConnection = graphql(`
  mutation CnRenameConnection($input: RenameConnectionInput!) {
    renameConnection(input: $input) { __typename ... on Connection { displayName } ...ErrorFields }
  }
`);
const SetStatus = graphql(`
  mutation CnSetStatus($input: SetConnectionStatusInput!) {
    setConnectionStatus(input: $input) { __typename ... on Connection { status statusReason } ...ErrorFields }
  }
`);
const DeleteConnection = graphql(`
  mutation CnDeleteConnection($input: DeleteConnectionInput!) {
    deleteConnection(input: $input) { __typename ... on Deleted { id } ...ErrorFields }
  }
`);
const Lists = graphql(`
  query CnLists($org: ID!, $ws: ID!, $integrationName: String, $status: ConnectionStatus) {
    organization(id: $org) {
      connections(first: 50, integrationName: $integrationName, status: $status) { totalCount edges { node { displayName } } }
    }
    workspace(id: $ws) { connections(first: 50) { totalCount edges { node { displayName scope } } } }
  }
`);
const ConnectionNode = graphql(`
  query CnNode($id: ID!) { node(id: $id) { __typename id } }
`);

const CANARY = 'canary-secret-7f3a9c1e';

const connectionsTest = world
  .extend('otherWorkspaceId', { scope: 'file' }, ({ t, tenant }) => seedWorkspace(t, tenant.token, tenant.organizationId, 'other'))
  /** createConnection as the owner; fails the test on a GraphQL error. */
  .extend('create', { scope: 'file' }, ({ t, tenant }) => (input: Record<string, unknown>) =>
    t.request(CreateConnection, { input: input as never }, tenant.token).then((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.createConnection;
    }),
  );

describeEachBackend('connections', (_backend, test) => {
  test('a connection is created with its secret encrypted: no response and no stored column carries it', async ({ t, tenant: { organizationId: orgId }, create }) => {
    const created = await create({
      scope: 'ORGANIZATION',
      organizationId: orgId,
      type: 'OAUTH2',
      integrationName: 'gmail',
      displayName: 'Shared inbox',
      credentials: { accessToken: CANARY, refreshToken: `${CANARY}-r`, expiresAt: '2030-01-01T00:00:00Z', clientSecret: `${CANARY}-c` },
    });
    expect(created).toMatchObject({
      __typename: 'Connection',
      type: 'OAUTH2',
      scope: 'ORGANIZATION',
      status: 'ACTIVE',
      integrationName: 'gmail',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    expect(JSON.stringify(created)).not.toContain(CANARY);
    const rows = await t.app.database.prisma.connection.findMany({ where: { displayName: 'Shared inbox' }, omit: WITH_SEALED_COLUMNS });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secretCiphertext).not.toBeNull();
    expect(JSON.stringify(rows[0], (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))).not.toContain(CANARY);
    expect(t.app.services.credentials.open({ organizationId: rows[0]!.organizationId, connectionId: rows[0]!.id }, {
      secretCiphertext: rows[0]!.secretCiphertext!,
      wrappedDataKey: rows[0]!.wrappedDataKey!,
      keyVersion: rows[0]!.keyVersion!,
    })).toMatchObject({ accessToken: CANARY });
  });

  test('the type must be one the integration accepts, with the secrets that type needs', async ({ tenant: { organizationId: orgId }, create }) => {
    const wrongType = await create({
      scope: 'ORGANIZATION', organizationId: orgId, type: 'BASIC_AUTH', integrationName: 'slack', displayName: 'x',
      credentials: { username: 'u', password: 'p' },
    });
    expect(wrongType).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'type'] }] });
    const missingSecret = await create({
      scope: 'ORGANIZATION', organizationId: orgId, type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'x', credentials: {},
    });
    expect(missingSecret).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'credentials', 'apiKey'] }] });
    const unknownIntegration = await create({
      scope: 'ORGANIZATION', organizationId: orgId, type: 'SECRET_TEXT', integrationName: 'friendster', displayName: 'x',
      credentials: { apiKey: 'k' },
    });
    expect(unknownIntegration).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'integrationName'] }] });
    const badExpiry = await create({
      scope: 'ORGANIZATION', organizationId: orgId, type: 'OAUTH2', integrationName: 'gmail', displayName: 'x',
      credentials: { accessToken: 'a', expiresAt: 'tomorrow' },
    });
    expect(badExpiry).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'credentials', 'expiresAt'] }] });
    const badTokenUrl = await create({
      scope: 'ORGANIZATION', organizationId: orgId, type: 'OAUTH2', integrationName: 'gmail', displayName: 'x',
      tokenUrl: 'http://tokens.example.com/token', credentials: { accessToken: 'a' },
    });
    expect(badTokenUrl).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'tokenUrl'] }] });
  });

  test('the scope decides which placement ids are required and allowed', async ({ tenant: { organizationId: orgId }, workspaceId, create }) => {
    const noWorkspace = await create({
      scope: 'WORKSPACE', organizationId: orgId, type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'x', credentials: { apiKey: 'k' },
    });
    expect(noWorkspace).toMatchObject({ code: 'VALIDATION_ERROR' });
    const paths = (noWorkspace as { fieldErrors: { path: string[] }[] }).fieldErrors.map((e) => e.path.join('.'));
    expect(paths.sort()).toEqual(['input.organizationId', 'input.workspaceId']);

    const userWithoutIdentity = await create({
      scope: 'USER', workspaceId, type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'x', credentials: { apiKey: 'k' },
    });
    expect(userWithoutIdentity).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'endUserId'] }] });

    const badExternalId = await create({
      scope: 'USER', workspaceId, externalId: '256', type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'x', credentials: { apiKey: 'k' },
    });
    expect(badExternalId).toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: [{ path: ['input', 'externalId'] }] });

    const user = await create({
      scope: 'USER', workspaceId, externalId: 'u256', type: 'SECRET_TEXT', integrationName: 'slack', displayName: 'u256 slack',
      credentials: { apiKey: 'k' },
    });
    expect(user).toMatchObject({ __typename: 'Connection', scope: 'USER', workspace: { id: workspaceId } });
  });

  test('the workspace sees organization connections and its own, not another workspace’s; filters narrow lists', async ({ t, tenant: { token, organizationId: orgId }, workspaceId, otherWorkspaceId, create }) => {
    const base = { type: 'SECRET_TEXT', integrationName: 'notion', credentials: { apiKey: 'k' } };
    await create({ ...base, scope: 'ORGANIZATION', organizationId: orgId, displayName: 'notion org' });
    await create({ ...base, scope: 'WORKSPACE', workspaceId, displayName: 'notion main' });
    await create({ ...base, scope: 'WORKSPACE', workspaceId: otherWorkspaceId, displayName: 'notion other' });
    const errored = await create({ ...base, scope: 'WORKSPACE', workspaceId, displayName: 'notion broken' });
    const erroredId = (errored as { id: string }).id;
    const setError = await t.request(SetStatus, { input: { id: erroredId, status: 'ERROR', reason: 'token revoked' } }, token);
    expect(setError.data?.setConnectionStatus).toEqual({ __typename: 'Connection', status: 'ERROR', statusReason: 'token revoked' });

    const lists = await t.request(Lists, { org: orgId, ws: workspaceId, integrationName: 'notion', status: 'ACTIVE' }, token);
    expect(lists.data?.organization?.connections.edges.map((e) => e.node.displayName).sort()).toEqual(['notion main', 'notion org', 'notion other']);
    const visible = lists.data?.workspace?.connections.edges.map((e) => e.node.displayName) ?? [];
    expect(visible).toContain('notion org');
    expect(visible).toContain('notion main');
    expect(visible).toContain('notion broken');
    expect(visible).not.toContain('notion other');

    const reactivated = await t.request(SetStatus, { input: { id: erroredId, status: 'ACTIVE' } }, token);
    expect(reactivated.data?.setConnectionStatus).toEqual({ __typename: 'Connection', status: 'ACTIVE', statusReason: null });
  });

  test('rename and delete; another tenant gets NOT_FOUND for the same id', async ({ t, tenant: { token, organizationId: orgId }, create }) => {
    const created = await create({
      scope: 'ORGANIZATION', organizationId: orgId, type: 'SECRET_TEXT', integrationName: 'linear', displayName: 'Linear', credentials: { apiKey: 'k' },
    });
    const id = (created as { id: string }).id;
    const stranger = await t.memberToken('stranger-cn@example.com');
    for (const who of [stranger]) {
      expect((await t.request(RenameConnection, { input: { id, displayName: 'mine' } }, who)).data?.renameConnection).toMatchObject({ code: 'NOT_FOUND' });
      expect((await t.request(DeleteConnection, { input: { id } }, who)).data?.deleteConnection).toMatchObject({ code: 'NOT_FOUND' });
      expect((await t.request(ConnectionNode, { id }, who)).data?.node).toBeNull();
    }
    expect((await t.request(RenameConnection, { input: { id, displayName: 'Linear bot' } }, token)).data?.renameConnection).toEqual({
      __typename: 'Connection',
      displayName: 'Linear bot',
    });
    expect((await t.request(DeleteConnection, { input: { id } }, token)).data?.deleteConnection).toEqual({ __typename: 'Deleted', id });
    expect((await t.request(ConnectionNode, { id }, token)).data?.node).toBeNull();
  });
}, ALL_BACKENDS, connectionsTest);
