// The operations every workload sends, as Heddle and bare Yoga receive them.

/** W2's page sizes: 10 workspaces × (5 integrations with their connection + 10 end users × 1 connection) ≈ 300 objects. */
export const NESTED_PAGE = { workspaces: 10, integrations: 5, endUsers: 10, connections: 5 } as const;
export const NESTED_OBJECTS = 1 + NESTED_PAGE.workspaces * (1 + 2 * NESTED_PAGE.integrations + 2 * NESTED_PAGE.endUsers);

export const POINT_QUERY = 'query Point($id: ID!) { workspace(id: $id) { id name slug } }';

export const NESTED_QUERY = `query Nested($id: ID!) {
  organization(id: $id) {
    name
    workspaces(first: ${NESTED_PAGE.workspaces}) {
      totalCount
      edges { node {
        slug
        integrations(first: ${NESTED_PAGE.integrations}) {
          totalCount
          edges { node { alias connectionStrategy connection { displayName status } } }
        }
        endUsers(first: ${NESTED_PAGE.endUsers}) {
          totalCount
          edges { node { externalId connections(first: ${NESTED_PAGE.connections}) { edges { node { displayName integrationName } } } } }
        }
      } }
    }
  }
}`;

export const RESOLVE_QUERY = `mutation Resolve($input: ResolveConnectionInput!) {
  resolveConnection(input: $input) {
    __typename
    ... on ConnectionResolution { source connection { id integrationName status } }
    ... on Error { code message }
  }
}`;

/** W3's cases: one per strategy, and the fallback path of PER_USER_WITH_FALLBACK. */
export const RESOLUTIONS = [
  { key: 'FIXED', label: 'FIXED', integration: 'slack', externalId: null, source: 'FIXED' },
  { key: 'PER_USER', label: 'PER_USER', integration: 'notion', externalId: 'alice', source: 'USER' },
  { key: 'FALLBACK', label: 'PER_USER_WITH_FALLBACK (fallback)', integration: 'github', externalId: 'alice', source: 'FALLBACK' },
] as const;
export type ResolutionCase = (typeof RESOLUTIONS)[number];

/** W4: the event's own fields and the workspace as a client shows it (#20's realistic selection). */
const CONFIG_EVENT_SELECTION = '{ version kind occurredAt workspace { id name configVersion } }';
export const CONFIG_SUBSCRIPTION = `subscription Config($id: ID!) { workspaceConfigChanged(workspaceId: $id) ${CONFIG_EVENT_SELECTION} }`;
/** The same events after version `$since` (replayed from the outbox, then live): the soak's reopened subscribers. */
export const CONFIG_SUBSCRIPTION_SINCE = `subscription ConfigSince($id: ID!, $since: Int) { workspaceConfigChanged(workspaceId: $id, sinceVersion: $since) ${CONFIG_EVENT_SELECTION} }`;

export const TOUCH_WORKSPACE = `mutation Touch($input: UpdateWorkspaceInput!) {
  updateWorkspace(input: $input) { __typename ... on Workspace { configVersion } ... on Error { code message } }
}`;

/** W7: one Slack action run through Heddle against the loopback fake provider (bench/baselines/fake-provider.ts). */
export const EXECUTE_QUERY = `mutation Execute($input: ExecuteActionInput!) {
  executeAction(input: $input) {
    __typename
    ... on ActionExecution { status output attempts }
    ... on Error { code message }
  }
}`;
export const EXECUTE_MESSAGE = { channel: '#bench', text: 'bench' } as const;
