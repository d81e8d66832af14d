// Linear's actions against the loopback fake Linear GraphQL API, which parses,
// validates and executes every query against a subset of Linear's published
// schema: each action POSTs {query, variables} to /graphql with the API key
// bare or the OAuth token as Bearer, and maps the documented answers. Every
// action also meets a provider failure: Linear's `errors` (HTTP 200 or 400)
// arrive as a ProviderCallError carrying Linear's message.
import { parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { ConnectionSecret } from '../../src/platform/crypto/credential-store.js';
import { rateLimited, startLinearFake, type LinearFake } from '../support/fake-providers/linear.js';
import { providerError, runAction } from '../support/fake-providers/run.js';
import type { RecordedRequest } from '../support/fake-providers/server.js';

let linear: LinearFake;

beforeAll(async () => {
  linear = await startLinearFake();
});
afterAll(() => linear.close());
beforeEach(() => {
  linear.issues.length = 0;
  linear.comments.length = 0;
  linear.server.requests.length = 0;
});

const withApiKey = (): ConnectionSecret => ({ apiKey: linear.apiKey });
const withOAuth = (): ConnectionSecret => ({ accessToken: linear.oauthToken });
const run = (action: string, input: Record<string, unknown>, secret = withApiKey()) => runAction('linear', action, input, { baseUrl: linear.url, secret });

const state = (type: string) => linear.states.find((s) => s.type === type)!;

/** The one GraphQL request an action made: its operation's root field and its variables. */
function graphqlRequest(request: RecordedRequest) {
  expect(request).toMatchObject({ method: 'POST', path: '/graphql' });
  expect(request.headers['content-type']).toMatch(/^application\/json\b/);
  const body = JSON.parse(request.text) as { query: string; variables: Record<string, unknown> };
  const operation = parse(body.query).definitions[0] as OperationDefinitionNode;
  const field = operation.selectionSet.selections[0] as { name: { value: string } };
  return { operation: `${operation.operation} ${field.name.value}`, variables: body.variables, authorization: request.headers.authorization };
}

describe('create_issue', () => {
  test('issueCreate with the input as variables; a personal API key goes bare in Authorization', async () => {
    const ada = linear.users[0]!;
    const result = await run('create_issue', { teamId: linear.team.id, title: 'Fix login', description: 'Steps:\n1. open', priority: 2, assigneeId: ada.id, dueDate: '2026-12-01' });

    expect(linear.server.requests.map(graphqlRequest)).toEqual([
      {
        operation: 'mutation issueCreate',
        variables: { input: { teamId: linear.team.id, title: 'Fix login', description: 'Steps:\n1. open', priority: 2, assigneeId: ada.id, dueDate: '2026-12-01' } },
        authorization: linear.apiKey,
      },
    ]);
    const issue = linear.issues[0]!;
    expect(result).toEqual({
      id: issue.id,
      identifier: 'ENG-1',
      title: 'Fix login',
      url: 'https://linear.app/heddle/issue/eng-1/fix-login',
      priority: 2,
      dueDate: '2026-12-01',
      createdAt: issue.createdAt,
      updatedAt: issue.updatedAt,
      state: { id: state('backlog').id, name: 'Backlog', type: 'backlog' },
      assignee: { id: ada.id, name: 'Ada Lovelace' },
    });
  });

  test('an unknown team: Linear’s error arrives with HTTP 200 and is a failure with its message', async () => {
    const error = await providerError(run('create_issue', { teamId: 'team_missing', title: 'Lost' }));
    expect(error.providerStatus).toBe(200);
    expect(error.failure).toEqual({ message: 'Entity not found: Team', providerCode: 'INPUT_ERROR' });
    expect(linear.issues).toEqual([]);
  });
});

describe('update_issue', () => {
  test('issueUpdate by identifier with only the given fields', async () => {
    const issue = linear.addIssue({ title: 'Fix login' });
    const result = await run('update_issue', { issueId: 'ENG-1', stateId: state('started').id, priority: 1 });

    expect(linear.server.requests.map(graphqlRequest)).toEqual([
      { operation: 'mutation issueUpdate', variables: { id: 'ENG-1', input: { stateId: state('started').id, priority: 1 } }, authorization: linear.apiKey },
    ]);
    expect(result).toMatchObject({ id: issue.id, identifier: 'ENG-1', title: 'Fix login', priority: 1, state: { name: 'In Progress', type: 'started' }, assignee: null, dueDate: null });
    expect(result.updatedAt).not.toBe(result.createdAt);
  });

  test('an unknown issue: HTTP 200 with errors is a failure with Linear’s message', async () => {
    const error = await providerError(run('update_issue', { issueId: 'ENG-404', title: 'x' }));
    expect(error.providerStatus).toBe(200);
    expect(error.message).toBe('Entity not found: Issue');
  });
});

describe('list_issues', () => {
  test('issues filtered by team and state type, most recently updated first; an OAuth token goes as Bearer', async () => {
    const started = state('started').id;
    const older = linear.addIssue({ title: 'Older', stateId: started });
    const newer = linear.addIssue({ title: 'Newer', stateId: started });
    linear.addIssue({ title: 'Not started' });
    const third = linear.addIssue({ title: 'Third', stateId: started });
    // Touch the oldest so it becomes the most recently updated.
    await run('update_issue', { issueId: older.identifier, title: 'Older, touched' });
    linear.server.requests.length = 0;

    const result = await run('list_issues', { teamId: linear.team.id, state: 'started', limit: 2 }, withOAuth());
    expect(linear.server.requests.map(graphqlRequest)).toEqual([
      {
        operation: 'query issues',
        variables: { filter: { team: { id: { eq: linear.team.id } }, state: { type: { eq: 'started' } } }, first: 2 },
        authorization: `Bearer ${linear.oauthToken}`,
      },
    ]);
    expect((result.issues as { identifier: string }[]).map((i) => i.identifier)).toEqual([older.identifier, third.identifier]);
    expect(result).toMatchObject({ hasNextPage: true, endCursor: third.id });
    expect(newer.identifier).toBe('ENG-2');
  });

  test('RATELIMITED arrives as HTTP 400 with errors: a rate-limited failure with Linear’s message', async () => {
    linear.answerNext(rateLimited());
    const error = await providerError(run('list_issues', {}));
    expect(error.providerStatus).toBe(400);
    expect(error.failure).toEqual({ message: 'Rate limit exceeded', providerCode: 'RATELIMITED', rateLimited: true });
  });
});

describe('add_comment', () => {
  test('commentCreate on an issue by identifier with a Markdown body', async () => {
    const issue = linear.addIssue({ title: 'Fix login' });
    const result = await run('add_comment', { issueId: issue.identifier, body: 'Fixed in **#42**' });

    expect(linear.server.requests.map(graphqlRequest)).toEqual([
      { operation: 'mutation commentCreate', variables: { input: { issueId: 'ENG-1', body: 'Fixed in **#42**' } }, authorization: linear.apiKey },
    ]);
    const comment = linear.comments[0]!;
    expect(comment).toMatchObject({ issueId: issue.id, body: 'Fixed in **#42**' });
    expect(result).toEqual({ id: comment.id, body: 'Fixed in **#42**', url: `https://linear.app/heddle/issue/eng-1/fix-login#comment-${comment.id.slice(0, 8)}`, createdAt: comment.createdAt });
  });

  test('a revoked key: Linear’s authentication error is a failure with its message, marked as a rejected credential', async () => {
    linear.addIssue({ title: 'Fix login' });
    const error = await providerError(run('add_comment', { issueId: 'ENG-1', body: 'hello' }, { apiKey: 'lin_api_revoked' }));
    expect(error.providerStatus).toBe(400);
    // Not a 401, yet the credential was refused: the layer refreshes an OAuth2 connection once and retries.
    expect(error.failure).toEqual({ message: 'Authentication required, not authenticated', providerCode: 'AUTHENTICATION_ERROR', credentialRejected: true });
    expect(linear.comments).toEqual([]);
  });
});
