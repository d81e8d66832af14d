// A fake Linear GraphQL API on loopback (linear.app/developers/graphql). The
// schema below is a subset of Linear's public schema (the types, fields and
// nullability the provider uses, copied as published), so every query Heddle
// sends is parsed, validated and executed by graphql-js against it. Personal
// API keys must arrive bare in Authorization, OAuth tokens as Bearer. Errors
// come back in `errors` with Linear's extensions (type, code,
// userPresentableMessage): execution errors with HTTP 200, parse, validation,
// authentication and rate-limit errors with HTTP 400, as Linear answers them.
import { randomUUID } from 'node:crypto';
import { buildSchema, execute, GraphQLError, Kind, parse, validate, type DocumentNode, type GraphQLSchema, type ValueNode } from 'graphql';
import { jsonOf, startFakeServer, type FakeServer, type Reply } from './server.js';

const SDL = /* GraphQL */ `
  scalar DateTime
  scalar TimelessDate

  enum PaginationOrderBy {
    createdAt
    updatedAt
  }

  type Query {
    issue(id: String!): Issue!
    issues(after: String, before: String, filter: IssueFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueConnection!
  }

  type Mutation {
    issueCreate(input: IssueCreateInput!): IssuePayload!
    issueUpdate(id: String!, input: IssueUpdateInput!): IssuePayload!
    commentCreate(input: CommentCreateInput!): CommentPayload!
  }

  type Issue {
    id: ID!
    identifier: String!
    title: String!
    description: String
    url: String!
    priority: Float!
    priorityLabel: String!
    dueDate: TimelessDate
    createdAt: DateTime!
    updatedAt: DateTime!
    state: WorkflowState!
    assignee: User
    team: Team!
  }

  type WorkflowState {
    id: ID!
    name: String!
    type: String!
  }

  type User {
    id: ID!
    name: String!
    displayName: String!
    email: String!
  }

  type Team {
    id: ID!
    key: String!
    name: String!
  }

  type Comment {
    id: ID!
    body: String!
    url: String!
    createdAt: DateTime!
    issue: Issue
  }

  type IssueConnection {
    nodes: [Issue!]!
    pageInfo: PageInfo!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type IssuePayload {
    issue: Issue
    lastSyncId: Float!
    success: Boolean!
  }

  type CommentPayload {
    comment: Comment!
    lastSyncId: Float!
    success: Boolean!
  }

  input IssueCreateInput {
    teamId: String!
    title: String
    description: String
    priority: Int
    assigneeId: String
    dueDate: TimelessDate
    stateId: String
  }

  input IssueUpdateInput {
    title: String
    description: String
    stateId: String
    priority: Int
    assigneeId: String
    dueDate: TimelessDate
  }

  input CommentCreateInput {
    issueId: String
    body: String
  }

  input IssueFilter {
    team: TeamFilter
    state: WorkflowStateFilter
    and: [IssueFilter!]
    or: [IssueFilter!]
  }

  input TeamFilter {
    id: IDComparator
    key: StringComparator
  }

  input WorkflowStateFilter {
    type: StringComparator
    name: StringComparator
  }

  input StringComparator {
    eq: String
    neq: String
    in: [String!]
  }

  input IDComparator {
    eq: ID
    neq: ID
    in: [ID!]
  }
`;

export interface LinearTeam {
  id: string;
  key: string;
  name: string;
}
export interface LinearState {
  id: string;
  teamId: string;
  name: string;
  type: string;
}
export interface LinearUser {
  id: string;
  name: string;
  email: string;
}
export interface LinearIssue {
  id: string;
  identifier: string;
  teamId: string;
  title: string;
  description: string | null;
  priority: number;
  stateId: string;
  assigneeId: string | null;
  dueDate: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface LinearComment {
  id: string;
  issueId: string;
  body: string;
  createdAt: string;
}

export interface LinearFake {
  /** The base URL Heddle is configured with (HEDDLE_PROVIDER_BASE_URLS.linear). */
  url: string;
  server: FakeServer;
  /** A personal API key (sent bare) and an OAuth access token (sent as Bearer). */
  apiKey: string;
  oauthToken: string;
  team: LinearTeam;
  states: LinearState[];
  users: LinearUser[];
  issues: LinearIssue[];
  comments: LinearComment[];
  /** Adds an issue to the team; returns it. */
  addIssue(fields: Partial<LinearIssue> & { title: string }): LinearIssue;
  /** The next request gets this answer instead (rate limits, outages). */
  answerNext(reply: Reply): void;
  close(): Promise<void>;
}

const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'];

/** Linear's error body: message and its extensions. */
export function linearError(status: number, message: string, extensions: Record<string, unknown>): Reply {
  return { status, body: { errors: [{ message, extensions }] } };
}

export const rateLimited = (): Reply => ({
  ...linearError(400, 'Rate limit exceeded', { type: 'ratelimited', code: 'RATELIMITED', statusCode: 429, userError: true, userPresentableMessage: 'Too many requests, please slow down.' }),
  headers: { 'x-ratelimit-requests-limit': '5000', 'x-ratelimit-requests-remaining': '0', 'x-ratelimit-requests-reset': String(Date.now() + 60_000) },
});

/** An error as Linear reports a reference to something that does not exist. */
const notFound = (entity: string) =>
  new GraphQLError(`Entity not found: ${entity}`, {
    extensions: { type: 'invalid input', code: 'INPUT_ERROR', statusCode: 400, userError: true, userPresentableMessage: `Could not find referenced ${entity}.` },
  });

const isDate = (value: unknown): value is string => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);

/** Linear's TimelessDate: a calendar date, YYYY-MM-DD. */
function acceptDates(schema: GraphQLSchema): void {
  Object.assign(schema.getType('TimelessDate')!, {
    parseValue: (value: unknown) => {
      if (!isDate(value)) throw new GraphQLError(`TimelessDate cannot represent ${JSON.stringify(value)}`);
      return value;
    },
    parseLiteral: (ast: ValueNode) => (ast.kind === Kind.STRING && isDate(ast.value) ? ast.value : undefined),
  });
}

export async function startLinearFake(options: { apiKey?: string; oauthToken?: string } = {}): Promise<LinearFake> {
  const schema = buildSchema(SDL);
  acceptDates(schema);
  const overrides: Reply[] = [];
  // A clock that moves one second per change, so updatedAt orders changes made within the same millisecond.
  let tick = Date.UTC(2026, 10, 23, 10, 0, 0);
  const now = () => new Date((tick += 1000)).toISOString();
  let lastSyncId = 1000;

  const team: LinearTeam = { id: randomUUID(), key: 'ENG', name: 'Engineering' };
  const states: LinearState[] = [
    ['Backlog', 'backlog'],
    ['Todo', 'unstarted'],
    ['In Progress', 'started'],
    ['Done', 'completed'],
    ['Canceled', 'canceled'],
  ].map(([name, type]) => ({ id: randomUUID(), teamId: team.id, name: name!, type: type! }));
  const users: LinearUser[] = [{ id: randomUUID(), name: 'Ada Lovelace', email: 'ada@example.com' }];

  const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const issueUrl = (issue: LinearIssue) => `https://linear.app/heddle/issue/${issue.identifier.toLowerCase()}/${slug(issue.title)}`;
  const findIssue = (id: string) => fake.issues.find((i) => i.id === id || i.identifier === id);

  /** The GraphQL view of an issue; related objects resolve lazily. */
  const view = (issue: LinearIssue) => ({
    ...issue,
    url: issueUrl(issue),
    priorityLabel: PRIORITY_LABELS[issue.priority],
    state: () => fake.states.find((s) => s.id === issue.stateId),
    assignee: () => {
      const user = fake.users.find((u) => u.id === issue.assigneeId);
      return user && { ...user, displayName: user.name.split(' ')[0] };
    },
    team: () => team,
  });

  function checkReferences(input: { assigneeId?: string | null; stateId?: string | null }) {
    if (input.assigneeId != null && !fake.users.some((u) => u.id === input.assigneeId)) throw notFound('User');
    if (input.stateId != null && !fake.states.some((s) => s.id === input.stateId && s.teamId === team.id)) throw notFound('WorkflowState');
  }

  type Comparator = { eq?: string; neq?: string; in?: string[] };
  const compare = (value: string, comparator: Comparator | undefined) =>
    !comparator || ((comparator.eq === undefined || value === comparator.eq) && (comparator.neq === undefined || value !== comparator.neq) && (comparator.in === undefined || comparator.in.includes(value)));
  type Filter = { team?: { id?: Comparator; key?: Comparator }; state?: { type?: Comparator; name?: Comparator }; and?: Filter[]; or?: Filter[] };
  const matches = (issue: LinearIssue, filter: Filter): boolean => {
    const state = fake.states.find((s) => s.id === issue.stateId)!;
    return (
      compare(team.id, filter.team?.id) &&
      compare(team.key, filter.team?.key) &&
      compare(state.type, filter.state?.type) &&
      compare(state.name, filter.state?.name) &&
      (filter.and ?? []).every((f) => matches(issue, f)) &&
      (!filter.or || filter.or.some((f) => matches(issue, f)))
    );
  };

  const root = {
    issue: ({ id }: { id: string }) => {
      const issue = findIssue(id);
      if (!issue) throw notFound('Issue');
      return view(issue);
    },
    issues: ({ filter, first = 50, orderBy = 'createdAt' }: { filter?: Filter; first?: number; orderBy?: 'createdAt' | 'updatedAt' }) => {
      const all = fake.issues.filter((i) => !filter || matches(i, filter)).sort((a, b) => b[orderBy].localeCompare(a[orderBy]));
      const nodes = all.slice(0, first);
      return { nodes: nodes.map(view), pageInfo: { hasNextPage: all.length > first, hasPreviousPage: false, startCursor: nodes[0]?.id ?? null, endCursor: nodes.at(-1)?.id ?? null } };
    },
    issueCreate: ({ input }: { input: Partial<LinearIssue> & { teamId: string } }) => {
      if (input.teamId !== team.id) throw notFound('Team');
      checkReferences(input);
      return { success: true, lastSyncId: ++lastSyncId, issue: view(fake.addIssue({ ...input, title: input.title ?? '' })) };
    },
    issueUpdate: ({ id, input }: { id: string; input: Partial<LinearIssue> }) => {
      const issue = findIssue(id);
      if (!issue) throw notFound('Issue');
      checkReferences(input);
      for (const [key, value] of Object.entries(input)) if (value !== undefined) Object.assign(issue, { [key]: value });
      issue.updatedAt = now();
      return { success: true, lastSyncId: ++lastSyncId, issue: view(issue) };
    },
    commentCreate: ({ input }: { input: { issueId?: string; body?: string } }) => {
      const issue = input.issueId ? findIssue(input.issueId) : undefined;
      if (!issue) throw notFound('Issue');
      const comment: LinearComment = { id: randomUUID(), issueId: issue.id, body: input.body ?? '', createdAt: now() };
      fake.comments.push(comment);
      return { success: true, lastSyncId: ++lastSyncId, comment: { ...comment, url: `${issueUrl(issue)}#comment-${comment.id.slice(0, 8)}`, issue: () => view(issue) } };
    },
  };

  const server = await startFakeServer(async (request) => {
    const override = overrides.shift();
    if (override) return override;
    if (request.method !== 'POST' || request.path !== '/graphql') return { status: 404, body: 'Not Found' };
    const authorization = request.headers.authorization;
    if (authorization !== fake.apiKey && authorization !== `Bearer ${fake.oauthToken}`) {
      return linearError(400, 'Authentication required, not authenticated', {
        type: 'authentication error',
        code: 'AUTHENTICATION_ERROR',
        statusCode: 401,
        userError: true,
        userPresentableMessage: 'You need to authenticate to access this operation.',
      });
    }
    const body = jsonOf(request) as { query?: unknown; variables?: Record<string, unknown>; operationName?: string };
    let document: DocumentNode;
    try {
      document = parse(String(body.query ?? ''));
    } catch (error) {
      return linearError(400, (error as Error).message, { type: 'graphql error', code: 'GRAPHQL_PARSE_FAILED', userError: false });
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) return linearError(400, invalid[0]!.message, { type: 'graphql error', code: 'GRAPHQL_VALIDATION_FAILED', userError: false });
    const result = await execute({ schema, document, rootValue: root, variableValues: body.variables, operationName: body.operationName });
    // Variables that do not coerce never reach execution: Linear answers 400 for them, 200 for resolver errors.
    const status = result.errors && result.data === undefined ? 400 : 200;
    return { status, body: { ...(result.data !== undefined ? { data: result.data } : {}), ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}) } };
  });

  const fake: LinearFake = {
    url: server.url,
    server,
    apiKey: options.apiKey ?? 'lin_api_fakelinearpersonalkey',
    oauthToken: options.oauthToken ?? 'lin_oauth_fakelinearaccesstoken',
    team,
    states,
    users,
    issues: [],
    comments: [],
    addIssue(fields) {
      const number = fake.issues.length + 1;
      const createdAt = now();
      const issue: LinearIssue = {
        id: randomUUID(),
        identifier: `${team.key}-${number}`,
        teamId: team.id,
        description: null,
        priority: 0,
        stateId: states[0]!.id,
        assigneeId: null,
        dueDate: null,
        createdAt,
        updatedAt: createdAt,
        ...fields,
      };
      fake.issues.push(issue);
      return issue;
    },
    answerNext: (reply) => void overrides.push(reply),
    close: () => server.close(),
  };
  return fake;
}
