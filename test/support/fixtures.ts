// Test data built through the public API, shared by the suites.
import { graphql } from '../generated/index.js';
import type { TestApp } from './app.js';

const CreateOrganization = graphql(`
  mutation FixtureCreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { __typename ... on Organization { id } ...ErrorFields }
  }
`);
const CreateWorkspace = graphql(`
  mutation FixtureCreateWorkspace($input: CreateWorkspaceInput!) {
    createWorkspace(input: $input) { __typename ... on Workspace { id } ...ErrorFields }
  }
`);
const CreateConnection = graphql(`
  mutation FixtureCreateConnection($input: CreateConnectionInput!) {
    createConnection(input: $input) { __typename ... on Connection { id } ...ErrorFields }
  }
`);

function idOf(result: { __typename: string; id?: string } | undefined, what: string): string {
  if (!result?.id) throw new Error(`${what} failed: ${JSON.stringify(result)}`);
  return result.id;
}

/** A new organization owned by the holder of `token`; returns its global id. */
export async function seedOrganization(t: TestApp, token: string, slug: string): Promise<string> {
  const result = await t.request(CreateOrganization, { input: { name: `Org ${slug}`, slug } }, token);
  return idOf(result.data?.createOrganization, 'createOrganization');
}

export async function seedWorkspace(t: TestApp, token: string, organizationId: string, slug: string): Promise<string> {
  const result = await t.request(CreateWorkspace, { input: { organizationId, name: `Workspace ${slug}`, slug } }, token);
  return idOf(result.data?.createWorkspace, 'createWorkspace');
}

/** A connection; defaults to an API-key (SECRET_TEXT) connection with a throwaway secret. */
export async function seedConnection(t: TestApp, token: string, input: Record<string, unknown>): Promise<string> {
  const result = await t.request(
    CreateConnection,
    { input: { type: 'SECRET_TEXT', displayName: 'test connection', credentials: { apiKey: 'k' }, ...input } as never },
    token,
  );
  return idOf(result.data?.createConnection, 'createConnection');
}

/** A well-formed global id of `typename` whose row does not exist. */
export const missingId = (typename: string): string =>
  Buffer.from(`${typename}:01900000-0000-7000-8000-000000000000`).toString('base64');

const AddIntegration = graphql(`
  mutation FixtureAddIntegration($input: AddWorkspaceIntegrationInput!) {
    addWorkspaceIntegration(input: $input) { __typename ... on WorkspaceIntegration { id } ...ErrorFields }
  }
`);
const UpsertEndUser = graphql(`
  mutation FixtureUpsertEndUser($input: UpsertEndUserInput!) {
    upsertEndUser(input: $input) { __typename ... on EndUser { id directory { id } } ...ErrorFields }
  }
`);
const SetConnectionStatus = graphql(`
  mutation FixtureSetConnectionStatus($input: SetConnectionStatusInput!) {
    setConnectionStatus(input: $input) { __typename ... on Connection { id } ...ErrorFields }
  }
`);
const CreateApiKey = graphql(`
  mutation FixtureCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { __typename ... on CreatedApiKey { plainKey } ...ErrorFields }
  }
`);

export async function seedIntegration(t: TestApp, token: string, input: Record<string, unknown>): Promise<string> {
  const result = await t.request(AddIntegration, { input: input as never }, token);
  return idOf(result.data?.addWorkspaceIntegration, 'addWorkspaceIntegration');
}

/** An end user, optionally in a directory (created when missing); returns its id and its directory's. */
export async function seedEndUser(
  t: TestApp,
  token: string,
  input: { workspaceId: string; externalId: string; directory?: string | null },
): Promise<{ id: string; directoryId: string | null }> {
  const result = await t.request(UpsertEndUser, { input }, token);
  const user = result.data?.upsertEndUser;
  const id = idOf(user, 'upsertEndUser');
  return { id, directoryId: (user as { directory?: { id: string } | null }).directory?.id ?? null };
}

export async function seedConnectionStatus(t: TestApp, token: string, id: string, status: 'ACTIVE' | 'ERROR', reason?: string): Promise<void> {
  const result = await t.request(SetConnectionStatus, { input: { id, status, reason } }, token);
  idOf(result.data?.setConnectionStatus, 'setConnectionStatus');
}

/** A new API key's plaintext. */
export async function seedApiKey(
  t: TestApp,
  token: string,
  input: { organizationId: string; workspaceIds?: string[]; permissions?: ('CREDENTIALS_READ' | 'EXECUTE' | 'PROXY')[] },
): Promise<string> {
  const result = await t.request(CreateApiKey, { input: { name: 'backend', ...input } }, token);
  const created = result.data?.createApiKey;
  if (created?.__typename !== 'CreatedApiKey') throw new Error(`createApiKey failed: ${JSON.stringify(result)}`);
  return created.plainKey;
}
