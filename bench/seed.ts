// The bench's data, created through Heddle's GraphQL API the way a customer
// would: a member session creates the organizations, API keys, workspaces,
// connections and workspace integrations (USER connections create their end users).
import { signMemberToken } from '../src/auth/principal.js';
import { NESTED_PAGE } from './workloads.js';

export class GraphqlClient {
  constructor(
    readonly url: string,
    private readonly authorization: string,
  ) {}

  async request<T = Record<string, { __typename: string; [field: string]: unknown }>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: this.authorization },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: T; errors?: unknown[] };
    if (result.errors || !result.data) throw new Error(`GraphQL request failed: ${JSON.stringify(result)}`);
    return result.data;
  }

  /** A mutation returning `Result | Error`: the result's fields, or throws with the error. */
  async mutate(field: string, input: Record<string, unknown>, selection: string): Promise<Record<string, string>> {
    const data = await this.request(
      `mutation($input: ${inputTypeOf(field)}!) { ${field}(input: $input) { __typename ${selection} ... on Error { code message } } }`,
      { input },
    );
    const result = data[field] as { __typename: string; code?: string };
    if (result.code) throw new Error(`${field} failed: ${JSON.stringify(result)}`);
    return result as unknown as Record<string, string>;
  }
}

const inputTypeOf = (field: string) => `${field[0]!.toUpperCase()}${field.slice(1)}Input`;

export const memberSession = async (url: string, jwtSecret: string) =>
  new GraphqlClient(url, `Bearer ${await signMemberToken(jwtSecret, { sub: 'bench|owner', email: 'owner@bench.example', name: 'Bench' })}`);

async function organizationWithKey(member: GraphqlClient, slug: string): Promise<{ organizationId: string; apiKey: string }> {
  const { id: organizationId } = await member.mutate('createOrganization', { name: slug, slug }, '... on Organization { id }');
  // EXECUTE for W7; it changes nothing for the other workloads.
  const { plainKey } = await member.mutate('createApiKey', { organizationId, name: 'bench', permissions: ['EXECUTE'] }, '... on CreatedApiKey { plainKey }');
  return { organizationId: organizationId!, apiKey: plainKey! };
}

const secretConnection = (input: Record<string, unknown>) => ({
  type: 'SECRET_TEXT',
  displayName: `${input.integrationName} ${input.externalId ?? input.scope}`,
  credentials: { apiKey: 'bench-secret' },
  ...input,
});

async function createConnection(member: GraphqlClient, input: Record<string, unknown>): Promise<string> {
  return (await member.mutate('createConnection', secretConnection(input), '... on Connection { id }')).id!;
}

async function addIntegration(member: GraphqlClient, input: Record<string, unknown>): Promise<void> {
  await member.mutate('addWorkspaceIntegration', input, '... on WorkspaceIntegration { id }');
}

export interface PointSeed {
  organizationId: string;
  workspaceId: string;
  apiKey: string;
}

/**
 * W1, W3, W4, W5: one workspace with a FIXED slack, a PER_USER notion and a
 * PER_USER_WITH_FALLBACK github integration, and the end user "alice" who has
 * her own notion connection but no github one (so github falls back).
 */
export async function seedPoint(member: GraphqlClient): Promise<PointSeed> {
  const { organizationId, apiKey } = await organizationWithKey(member, 'bench-point');
  const { id: workspaceId } = await member.mutate('createWorkspace', { organizationId, name: 'Point', slug: 'point' }, '... on Workspace { id }');
  const slack = await createConnection(member, { scope: 'ORGANIZATION', organizationId, integrationName: 'slack' });
  const github = await createConnection(member, { scope: 'ORGANIZATION', organizationId, integrationName: 'github' });
  await addIntegration(member, { workspaceId, integrationName: 'slack', connectionStrategy: 'FIXED', connectionId: slack });
  await addIntegration(member, { workspaceId, integrationName: 'notion', connectionStrategy: 'PER_USER' });
  await addIntegration(member, { workspaceId, integrationName: 'github', connectionStrategy: 'PER_USER_WITH_FALLBACK', connectionId: github });
  await createConnection(member, { scope: 'USER', workspaceId, externalId: 'alice', integrationName: 'notion' });
  return { organizationId, workspaceId: workspaceId!, apiKey };
}

/** W1 across organizations: `count` organizations, each with its own API key and a workspace like W1's. */
export async function seedTenants(member: GraphqlClient, count: number): Promise<PointSeed[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const { organizationId, apiKey } = await organizationWithKey(member, `bench-tenant-${i}`);
      const { id: workspaceId } = await member.mutate('createWorkspace', { organizationId, name: 'Point', slug: 'point' }, '... on Workspace { id }');
      return { organizationId, workspaceId: workspaceId!, apiKey };
    }),
  );
}

const NESTED_INTEGRATIONS = ['slack', 'github', 'notion', 'linear', 'hubspot'];

/** W2: an organization of 10 workspaces, each with 5 FIXED integrations and 10 end users with one connection each. */
export async function seedNested(member: GraphqlClient): Promise<{ organizationId: string; apiKey: string }> {
  const organization = await organizationWithKey(member, 'bench-nested');
  const { organizationId } = organization;
  const shared: Record<string, string> = {};
  for (const integrationName of NESTED_INTEGRATIONS.slice(0, NESTED_PAGE.integrations)) {
    shared[integrationName] = await createConnection(member, { scope: 'ORGANIZATION', organizationId, integrationName });
  }
  const workspaceIds: string[] = [];
  for (let w = 0; w < NESTED_PAGE.workspaces; w++) {
    const slug = `nested-${w}`;
    workspaceIds.push((await member.mutate('createWorkspace', { organizationId, name: slug, slug }, '... on Workspace { id }')).id!);
  }
  // Workspaces fill in parallel; inside one, rows are created in order (the pages sort by createdAt).
  await Promise.all(
    workspaceIds.map(async (workspaceId) => {
      for (const [integrationName, connectionId] of Object.entries(shared)) {
        await addIntegration(member, { workspaceId, integrationName, connectionStrategy: 'FIXED', connectionId });
      }
      for (let u = 0; u < NESTED_PAGE.endUsers; u++) {
        await createConnection(member, { scope: 'USER', workspaceId, externalId: `user-${u}`, integrationName: 'slack' });
      }
    }),
  );
  return organization;
}
