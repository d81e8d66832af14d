// GitHub REST API (https://docs.github.com/en/rest), version 2022-11-28:
// JSON bodies, `Accept: application/vnd.github+json`, the token as
// `Authorization: Bearer`, and a User-Agent (GitHub refuses requests without
// one). Failures are {message, documentation_url, errors?}; the rate limit is
// a 403 or 429 with x-ratelimit-remaining: 0 (reset time in x-ratelimit-reset)
// or with Retry-After (the secondary limit).
import { boolean, integer, listOf, nullable, output, string, dateTime, uri } from '../json-schema.js';
import type { Provider, ProviderAnswer } from '../provider.js';
import { bearer, objectBody } from '../provider-kit.js';

interface GitHubIssue {
  id: number;
  number: number;
  title: string;
  state: string;
  html_url: string;
  created_at: string;
  comments?: number;
  user?: { login?: string } | null;
  labels?: (string | { name?: string })[];
  pull_request?: unknown;
}

/** /repos/{owner}/{repo} with both segments encoded (a slash in either cannot change the path). */
const repoPath = (input: Record<string, unknown>) => `/repos/${encodeURIComponent(String(input.owner))}/${encodeURIComponent(String(input.repo))}`;

/** A 422's `errors` list in words: GitHub's own message when it gives one, else resource, field and code. */
function detailsOf(errors: unknown): string {
  if (!Array.isArray(errors) || errors.length === 0) return '';
  const parts = errors.map((e) => {
    const error = objectBody(e);
    if (!error) return String(e);
    if (typeof error.message === 'string') return error.message;
    return [error.resource, error.field, error.code].filter((p) => typeof p === 'string').join(' ');
  });
  return ` (${parts.join('; ')})`;
}

const issueOutput = {
  number: integer('Issue number within the repository.', 1),
  id: integer('Global issue id.'),
  url: uri('Link to the issue on GitHub.'),
  state: string('open or closed.'),
  title: string('Issue title.'),
};

export const githubProvider: Provider = {
  baseUrl: 'https://api.github.com',
  headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'Heddle' },
  authorize: bearer,
  failureOf(answer: ProviderAnswer) {
    if (answer.status < 400) return null;
    const body = objectBody(answer.body);
    const message = typeof body?.message === 'string' ? body.message : `GitHub answered HTTP ${answer.status}`;
    const remaining = answer.headers.get('x-ratelimit-remaining');
    const rateLimited = (answer.status === 403 || answer.status === 429) && (remaining === '0' || answer.headers.has('retry-after'));
    const reset = Number(answer.headers.get('x-ratelimit-reset'));
    const retryAfterMs = rateLimited && remaining === '0' && !answer.headers.has('retry-after') && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : undefined;
    return {
      message: message + detailsOf(body?.errors),
      providerCode: typeof body?.message === 'string' ? body.message : undefined,
      rateLimited,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  },
  actions: {
    create_issue: {
      outputSchema: output(issueOutput),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const { title, body, labels, assignees } = input as { title: string; body?: string; labels?: string[]; assignees?: string[] };
        const answer = await send({ method: 'POST', path: `${repoPath(input)}/issues`, body: { json: { title, body, labels, assignees } } });
        const issue = answer.body as GitHubIssue;
        return { number: issue.number, id: issue.id, url: issue.html_url, state: issue.state, title: issue.title };
      },
    },
    list_issues: {
      outputSchema: output({
        issues: listOf(
          'Issues, newest first. GitHub counts pull requests as issues: isPullRequest tells them apart.',
          output({
            ...issueOutput,
            author: nullable(string('Login of the user who opened it.')),
            labels: { type: 'array', description: 'Label names.', items: { type: 'string' } },
            comments: integer('Number of comments.', 0),
            createdAt: dateTime('When it was opened.'),
            isPullRequest: boolean('Whether this is a pull request.'),
          }),
        ),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const { state, labels, limit } = input as { state?: string; labels?: string[]; limit?: number };
        const answer = await send({
          method: 'GET',
          path: `${repoPath(input)}/issues`,
          query: { state, labels: labels?.length ? labels.join(',') : undefined, sort: 'created', direction: 'desc', per_page: limit },
        });
        const issues = (answer.body as GitHubIssue[]) ?? [];
        return {
          issues: issues.map((issue) => ({
            number: issue.number,
            id: issue.id,
            url: issue.html_url,
            state: issue.state,
            title: issue.title,
            author: issue.user?.login ?? null,
            labels: (issue.labels ?? []).map((label) => (typeof label === 'string' ? label : (label.name ?? ''))),
            comments: issue.comments ?? 0,
            createdAt: issue.created_at,
            isPullRequest: issue.pull_request !== undefined,
          })),
        };
      },
    },
    add_comment: {
      outputSchema: output({
        id: integer('Comment id.'),
        url: uri('Link to the comment on GitHub.'),
        createdAt: dateTime('When the comment was created.'),
      }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const { issueNumber, body } = input as { issueNumber: number; body: string };
        const answer = await send({ method: 'POST', path: `${repoPath(input)}/issues/${issueNumber}/comments`, body: { json: { body } } });
        const comment = answer.body as { id: number; html_url: string; created_at: string };
        return { id: comment.id, url: comment.html_url, createdAt: comment.created_at };
      },
    },
    create_pull_request: {
      outputSchema: output({
        number: integer('Pull request number within the repository.', 1),
        id: integer('Global pull request id.'),
        url: uri('Link to the pull request on GitHub.'),
        state: string('open or closed.'),
        draft: boolean('Whether it is a draft.'),
      }),
      readOnly: false,
      destructive: false,
      idempotent: false,
      async run(input, send) {
        const { title, head, base, body, draft } = input as { title: string; head: string; base: string; body?: string; draft?: boolean };
        const answer = await send({ method: 'POST', path: `${repoPath(input)}/pulls`, body: { json: { title, head, base, body, draft } } });
        const pull = answer.body as { id: number; number: number; html_url: string; state: string; draft?: boolean };
        return { number: pull.number, id: pull.id, url: pull.html_url, state: pull.state, draft: pull.draft ?? false };
      },
    },
    get_repository: {
      outputSchema: output({
        id: integer('Repository id.'),
        fullName: string('owner/name.'),
        description: nullable(string('Repository description.')),
        defaultBranch: string('Default branch, such as main.'),
        private: boolean('Whether the repository is private.'),
        visibility: string('public, private or internal.'),
        archived: boolean('Whether the repository is archived.'),
        url: uri('Link to the repository on GitHub.'),
        stars: integer('Stargazer count.', 0),
        forks: integer('Fork count.', 0),
        openIssues: integer('Open issues and pull requests.', 0),
      }),
      readOnly: true,
      destructive: false,
      idempotent: true,
      async run(input, send) {
        const answer = await send({ method: 'GET', path: repoPath(input) });
        const repo = answer.body as {
          id: number;
          full_name: string;
          description: string | null;
          default_branch: string;
          private: boolean;
          visibility?: string;
          archived?: boolean;
          html_url: string;
          stargazers_count?: number;
          forks_count?: number;
          open_issues_count?: number;
        };
        return {
          id: repo.id,
          fullName: repo.full_name,
          description: repo.description ?? null,
          defaultBranch: repo.default_branch,
          private: repo.private,
          visibility: repo.visibility ?? (repo.private ? 'private' : 'public'),
          archived: repo.archived ?? false,
          url: repo.html_url,
          stars: repo.stargazers_count ?? 0,
          forks: repo.forks_count ?? 0,
          openIssues: repo.open_issues_count ?? 0,
        };
      },
    },
  },
};
