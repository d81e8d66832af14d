// Every GitHub action against the fake GitHub REST API: the exact request
// GitHub documents (method, path, Accept, X-GitHub-Api-Version, bearer token,
// User-Agent, JSON body), the mapped output (checked against the action's
// outputSchema by runAction), and GitHub's failures ({message,
// documentation_url, errors}) and rate limits as typed ProviderCallErrors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGitHubFake, type GitHubFake } from '../support/fake-providers/github.js';
import type { RecordedRequest } from '../support/fake-providers/server.js';
import { providerError, runAction } from '../support/fake-providers/run.js';

let github: GitHubFake;
beforeAll(async () => {
  github = await startGitHubFake({ token: 'ghp_canarygithubtoken' });
});
afterAll(() => github.close());

const run = (action: string, input: Record<string, unknown>) => runAction('github', action, input, { baseUrl: github.url, secret: { accessToken: github.token } });

/** Runs the action and returns its output with the one request it made. */
async function runOnce(action: string, input: Record<string, unknown>): Promise<{ output: Record<string, unknown>; request: RecordedRequest }> {
  const start = github.server.requests.length;
  const output = await run(action, input);
  const requests = github.server.requests.slice(start);
  expect(requests).toHaveLength(1);
  return { output, request: requests[0]! };
}


function expectGitHubHeaders(request: RecordedRequest, body: 'json' | 'none') {
  expect(request.headers).toMatchObject({
    authorization: 'Bearer ghp_canarygithubtoken',
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'Heddle',
  });
  if (body === 'json') expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
  else {
    expect(request.text).toBe('');
    expect(request.headers['content-type']).toBeUndefined();
  }
}

describe('create_issue (POST /repos/{owner}/{repo}/issues)', () => {
  test('sends the issue as JSON and returns its number and link', async () => {
    const { output, request } = await runOnce('create_issue', { owner: 'heddle', repo: 'api', title: 'Login fails', body: 'Steps…', labels: ['bug'], assignees: ['ada'] });
    expect(request).toMatchObject({ method: 'POST', path: '/repos/heddle/api/issues' });
    expectGitHubHeaders(request, 'json');
    expect(JSON.parse(request.text)).toEqual({ title: 'Login fails', body: 'Steps…', labels: ['bug'], assignees: ['ada'] });
    expect(output).toEqual({ number: 4, id: expect.any(Number), url: 'https://github.com/heddle/api/issues/4', state: 'open', title: 'Login fails' });
  });

  test('422 Validation Failed carries GitHub’s message and the failing field', async () => {
    const error = await providerError(run('create_issue', { owner: 'heddle', repo: 'api', title: 'x', assignees: ['ghost'] }));
    expect(error).toMatchObject({
      message: 'Validation Failed (Issue assignees invalid)',
      providerStatus: 422,
      failure: { providerCode: 'Validation Failed', rateLimited: false },
    });
  });
});

describe('list_issues (GET /repos/{owner}/{repo}/issues)', () => {
  test('asks newest first with state, labels and per_page in the query, and tells pull requests apart', async () => {
    const { output, request } = await runOnce('list_issues', { owner: 'heddle', repo: 'api', state: 'all', labels: ['bug'], limit: 5 });
    expect(request).toMatchObject({ method: 'GET', path: '/repos/heddle/api/issues' });
    expectGitHubHeaders(request, 'none');
    expect(Object.fromEntries(request.query)).toEqual({ state: 'all', labels: 'bug', sort: 'created', direction: 'desc', per_page: '5' });
    const issues = output.issues as { number: number; isPullRequest: boolean; labels: string[]; author: string | null }[];
    expect(issues.map((i) => i.number)).toEqual([4, 1, 3]);
    expect(issues[1]).toEqual({
      number: 1,
      id: 11,
      url: 'https://github.com/heddle/api/issues/1',
      state: 'open',
      title: 'Crash on empty alias',
      author: 'ada',
      labels: ['bug'],
      comments: 0,
      createdAt: '2026-11-01T09:00:00Z',
      isPullRequest: false,
    });

    const open = await runOnce('list_issues', { owner: 'heddle', repo: 'api' });
    expect(Object.fromEntries(open.request.query)).toEqual({ sort: 'created', direction: 'desc' });
    expect((open.output.issues as { number: number; isPullRequest: boolean }[]).find((i) => i.number === 2)?.isPullRequest).toBe(true);
  });

  test('a repository that does not exist (or that the token cannot see) is 404 Not Found', async () => {
    const error = await providerError(run('list_issues', { owner: 'heddle', repo: 'missing' }));
    expect(error).toMatchObject({ message: 'Not Found', providerStatus: 404, failure: { providerCode: 'Not Found' } });
  });
});

describe('add_comment (POST /repos/{owner}/{repo}/issues/{issue_number}/comments)', () => {
  test('sends the body as JSON and returns the comment id and link', async () => {
    const { output, request } = await runOnce('add_comment', { owner: 'heddle', repo: 'api', issueNumber: 2, body: 'LGTM' });
    expect(request).toMatchObject({ method: 'POST', path: '/repos/heddle/api/issues/2/comments' });
    expectGitHubHeaders(request, 'json');
    expect(JSON.parse(request.text)).toEqual({ body: 'LGTM' });
    expect(output).toEqual({ id: expect.any(Number), url: expect.stringMatching(/^https:\/\/github\.com\/heddle\/api\/issues\/2#issuecomment-\d+$/), createdAt: expect.any(String) });
  });

  test('an issue that does not exist is 404 Not Found', async () => {
    expect(await providerError(run('add_comment', { owner: 'heddle', repo: 'api', issueNumber: 999, body: 'hi' }))).toMatchObject({
      message: 'Not Found',
      providerStatus: 404,
    });
  });
});

describe('create_pull_request (POST /repos/{owner}/{repo}/pulls)', () => {
  test('sends title, head, base, body and draft as JSON and returns the pull request', async () => {
    const input = { owner: 'heddle', repo: 'api', title: 'Login', head: 'feature/login', base: 'main', body: 'Fixes #4', draft: true };
    const { output, request } = await runOnce('create_pull_request', input);
    expect(request).toMatchObject({ method: 'POST', path: '/repos/heddle/api/pulls' });
    expectGitHubHeaders(request, 'json');
    expect(JSON.parse(request.text)).toEqual({ title: 'Login', head: 'feature/login', base: 'main', body: 'Fixes #4', draft: true });
    expect(output).toEqual({ number: 5, id: expect.any(Number), url: 'https://github.com/heddle/api/pull/5', state: 'open', draft: true });
  });

  test('a second pull request for the same branches is refused with GitHub’s own words', async () => {
    const error = await providerError(run('create_pull_request', { owner: 'heddle', repo: 'api', title: 'Again', head: 'feature/login', base: 'main' }));
    expect(error).toMatchObject({ message: 'Validation Failed (A pull request already exists for heddle:feature/login.)', providerStatus: 422 });
  });
});

describe('get_repository (GET /repos/{owner}/{repo})', () => {
  test('maps the repository’s metadata; an empty description is null', async () => {
    const { output, request } = await runOnce('get_repository', { owner: 'heddle', repo: 'secret-plans' });
    expect(request).toMatchObject({ method: 'GET', path: '/repos/heddle/secret-plans' });
    expectGitHubHeaders(request, 'none');
    expect(output).toEqual({
      id: 2,
      fullName: 'heddle/secret-plans',
      description: null,
      defaultBranch: 'trunk',
      private: true,
      visibility: 'private',
      archived: true,
      url: 'https://github.com/heddle/secret-plans',
      stars: 42,
      forks: 7,
      openIssues: 0,
    });
  });

  test('owner and repo are path segments: a slash cannot reach another route', async () => {
    const error = await providerError(run('get_repository', { owner: 'heddle', repo: 'api/issues' }));
    expect(error).toMatchObject({ providerStatus: 404 });
    expect(github.server.requests.at(-1)!.path).toBe('/repos/heddle/api%2Fissues');
  });

  test('a revoked token is 401 Bad credentials', async () => {
    const error = await providerError(
      runAction('github', 'get_repository', { owner: 'heddle', repo: 'api' }, { baseUrl: github.url, secret: { accessToken: 'ghp_revoked' } }),
    );
    expect(error).toMatchObject({ message: 'Bad credentials', providerStatus: 401 });
  });
});

describe('rate limits', () => {
  test('403 with x-ratelimit-remaining: 0 is rate limited until x-ratelimit-reset', async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    github.answerNext({
      status: 403,
      headers: { 'content-type': 'application/json', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' },
    });
    const error = await providerError(run('get_repository', { owner: 'heddle', repo: 'api' }));
    expect(error).toMatchObject({ providerStatus: 403, failure: { rateLimited: true, message: 'API rate limit exceeded for user ID 1.' } });
    expect(error.failure.retryAfterMs).toBeGreaterThan(110_000);
    expect(error.failure.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  test('429 with Retry-After (the secondary limit) is rate limited for that long', async () => {
    github.answerNext({
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '60' },
      body: { message: 'You have exceeded a secondary rate limit.', documentation_url: 'https://docs.github.com/rest' },
    });
    const error = await providerError(run('list_issues', { owner: 'heddle', repo: 'api' }));
    expect(error).toMatchObject({ providerStatus: 429, failure: { rateLimited: true, retryAfterMs: 60_000 } });
  });

  test('a 403 that is not a rate limit (no permission) is a plain provider error', async () => {
    github.answerNext({ status: 403, headers: { 'content-type': 'application/json', 'x-ratelimit-remaining': '4000' }, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' } });
    const error = await providerError(run('create_issue', { owner: 'heddle', repo: 'api', title: 'x' }));
    expect(error).toMatchObject({ providerStatus: 403, message: 'Resource not accessible by integration', failure: { rateLimited: false } });
    expect(error.failure.retryAfterMs).toBeUndefined();
  });
});
