// Linear's GraphQL API (https://linear.app/developers/graphql): one POST of
// {query, variables} to /graphql. Errors come back in `errors`, often with
// HTTP 200, and are failures whatever the status.
import type { ConnectionSecret } from '../../../platform/crypto/credential-store.js';
import { boolean, integer, listOf, nullable, objectOf, output, string } from '../json-schema.js';
import { objectBody, tokenOf } from '../provider-kit.js';
import { ProviderCallError, type Provider, type ProviderAnswer, type ProviderFailure, type Send } from '../provider.js';

interface GraphQLError {
  message?: string;
  extensions?: { code?: string; type?: string; userPresentableMessage?: string };
}

const ISSUE_FIELDS = 'id identifier title url priority dueDate createdAt updatedAt state { id name type } assignee { id name }';

interface Issue {
  id: string;
  identifier: string;
  title: string;
  url: string;
  priority: number;
  dueDate: string | null;
  createdAt: string;
  updatedAt: string;
  state: { id: string; name: string; type: string };
  assignee: { id: string; name: string } | null;
}

const issueSchema = output({
  id: string('Id of the issue.'),
  identifier: string('Its human-readable identifier, such as ENG-123.'),
  title: string('Title.'),
  url: string('Link to the issue.'),
  priority: integer('0 none, 1 urgent, 2 high, 3 medium, 4 low.', 0, 4),
  dueDate: nullable(string('Due date.', { format: 'date' })),
  createdAt: string('When it was created.', { format: 'date-time' }),
  updatedAt: string('When it last changed.', { format: 'date-time' }),
  state: objectOf('Its workflow state.', output({ id: string('Id of the workflow state.'), name: string('Its name.'), type: string('Its type (backlog, unstarted, started, completed, canceled…).') })),
  assignee: nullable(objectOf('Who it is assigned to.', output({ id: string('Id of the user.'), name: string('Their name.') }))),
});

const toIssue = (issue: Issue) => ({ ...issue, priority: Math.round(issue.priority) });

async function graphql<T>(send: Send, query: string, variables: Record<string, unknown>): Promise<T> {
  const answer = await send({ method: 'POST', path: '/graphql', body: { json: { query, variables } } });
  return (answer.body as { data: T }).data;
}

/** Mutations answer `success: false` without an error in rare cases: still a failure. */
function succeeded<T>(payload: { success: boolean } & T, what: string): T {
  if (!payload.success) throw new ProviderCallError({ message: `Linear did not ${what}` }, 200);
  return payload;
}

/**
 * Linear answers an expired, revoked or invalid token with HTTP 400 (sometimes 200) and
 * `extensions.code` AUTHENTICATION_ERROR (type "authentication error"), never a 401: the same
 * "credential rejected" as a 401 elsewhere, so an OAuth2 connection refreshes once and retries.
 */
const rejectsCredential = (error: GraphQLError) =>
  error.extensions?.code === 'AUTHENTICATION_ERROR' || /^authentication[ _]error$/i.test(error.extensions?.type ?? '');

function failureOf(answer: ProviderAnswer): ProviderFailure | null {
  const errors = objectBody(answer.body)?.errors as GraphQLError[] | undefined;
  if (Array.isArray(errors) && errors.length > 0) {
    const [first] = errors as [GraphQLError];
    const code = first.extensions?.code ?? first.extensions?.type;
    return {
      message: first.message ?? first.extensions?.userPresentableMessage ?? 'Linear answered with an error',
      ...(code ? { providerCode: code } : {}),
      ...(answer.status === 429 || first.extensions?.code === 'RATELIMITED' ? { rateLimited: true } : {}),
      ...(rejectsCredential(first) ? { credentialRejected: true } : {}),
    };
  }
  if (answer.status >= 400) return { message: `Linear answered HTTP ${answer.status}`, ...(answer.status === 429 ? { rateLimited: true } : {}) };
  return null;
}

export const linearProvider: Provider = {
  baseUrl: 'https://api.linear.app',
  // Personal API keys go bare in Authorization; OAuth access tokens as Bearer.
  authorize: (secret: ConnectionSecret) => ({ authorization: secret.accessToken ? `Bearer ${secret.accessToken}` : tokenOf(secret) }),
  failureOf,
  actions: {
    create_issue: {
      outputSchema: issueSchema,
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const { teamId, title, description, priority, assigneeId, dueDate } = input;
        const data = await graphql<{ issueCreate: { success: boolean; issue: Issue } }>(
          send,
          `mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { ${ISSUE_FIELDS} } } }`,
          { input: { teamId, title, description, priority, assigneeId, dueDate } },
        );
        return toIssue(succeeded(data.issueCreate, 'create the issue').issue);
      },
    },

    update_issue: {
      outputSchema: issueSchema,
      readOnly: false,
      destructive: true,
      idempotent: true,
      async run(input, send) {
        const { issueId, title, stateId, priority, assigneeId } = input;
        const data = await graphql<{ issueUpdate: { success: boolean; issue: Issue } }>(
          send,
          `mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success issue { ${ISSUE_FIELDS} } } }`,
          { id: issueId, input: { title, stateId, priority, assigneeId } },
        );
        return toIssue(succeeded(data.issueUpdate, 'update the issue').issue);
      },
    },

    list_issues: {
      outputSchema: output({
        issues: listOf('Issues, most recently updated first.', issueSchema),
        hasNextPage: boolean('Whether more issues follow.'),
        endCursor: nullable(string('Cursor after the last issue.')),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const filter = {
          ...(input.teamId !== undefined ? { team: { id: { eq: input.teamId } } } : {}),
          ...(input.state !== undefined ? { state: { type: { eq: input.state } } } : {}),
        };
        const data = await graphql<{ issues: { nodes: Issue[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
          send,
          `query Issues($filter: IssueFilter, $first: Int) { issues(filter: $filter, first: $first, orderBy: updatedAt) { nodes { ${ISSUE_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
          { filter, first: input.limit ?? 50 },
        );
        return { issues: data.issues.nodes.map(toIssue), hasNextPage: data.issues.pageInfo.hasNextPage, endCursor: data.issues.pageInfo.endCursor };
      },
    },

    add_comment: {
      outputSchema: output({
        id: string('Id of the comment.'),
        body: string('The comment in Markdown.'),
        url: string('Link to the comment.'),
        createdAt: string('When it was created.', { format: 'date-time' }),
      }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const data = await graphql<{ commentCreate: { success: boolean; comment: { id: string; body: string; url: string; createdAt: string } } }>(
          send,
          'mutation CommentCreate($input: CommentCreateInput!) { commentCreate(input: $input) { success comment { id body url createdAt } } }',
          { input: { issueId: input.issueId, body: input.body } },
        );
        return succeeded(data.commentCreate, 'add the comment').comment;
      },
    },
  },
};
