// A fake GitHub REST API on loopback, written from GitHub's REST reference
// (docs.github.com/en/rest, API version 2022-11-28): it requires the bearer
// token, a User-Agent, `Accept: application/vnd.github+json` and the
// X-GitHub-Api-Version header, JSON request bodies, and answers GitHub's
// shapes: resources with html_url and snake_case fields, errors as
// {message, documentation_url, status, errors?}.
import { jsonOf, startFakeServer, type FakeServer, type RecordedRequest, type Reply } from './server.js';

export interface GitHubIssue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: string[];
  assignees: string[];
  author: string;
  createdAt: string;
  comments: { id: number; body: string; createdAt: string }[];
  pull?: { head: string; base: string; draft: boolean };
}

export interface GitHubRepo {
  id: number;
  owner: string;
  name: string;
  description: string | null;
  defaultBranch: string;
  private: boolean;
  archived: boolean;
  branches: Set<string>;
  collaborators: Set<string>;
  issues: GitHubIssue[];
}

export interface GitHubFake {
  /** The base URL Heddle is configured with (HEDDLE_PROVIDER_BASE_URLS.github). */
  url: string;
  server: FakeServer;
  token: string;
  repos: GitHubRepo[];
  /** The next request gets this answer instead (rate limits, outages). */
  answerNext(reply: Reply): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const API_VERSION = '2022-11-28';
const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999' };

const error = (status: number, message: string, errors?: unknown[]): Reply => ({
  status,
  headers: HEADERS,
  body: { message, documentation_url: DOCS, status: String(status), ...(errors ? { errors } : {}) },
});
const ok = (status: number, body: unknown): Reply => ({ status, headers: HEADERS, body });

export async function startGitHubFake(options: { token?: string } = {}): Promise<GitHubFake> {
  const token = options.token ?? 'ghp_fakegithubtoken';
  let nextId = 1000;
  let override: Reply | undefined;

  const htmlUrl = (repo: GitHubRepo, suffix = '') => `https://github.com/${repo.owner}/${repo.name}${suffix}`;
  const issueJson = (repo: GitHubRepo, issue: GitHubIssue) => ({
    id: issue.id,
    node_id: `I_${issue.id}`,
    url: `${fake.url}/repos/${repo.owner}/${repo.name}/issues/${issue.number}`,
    html_url: htmlUrl(repo, `/${issue.pull ? 'pull' : 'issues'}/${issue.number}`),
    number: issue.number,
    state: issue.state,
    title: issue.title,
    body: issue.body,
    user: { login: issue.author, id: 1, type: 'User' },
    labels: issue.labels.map((name, i) => ({ id: i + 1, name, color: 'ededed' })),
    assignees: issue.assignees.map((login) => ({ login })),
    comments: issue.comments.length,
    created_at: issue.createdAt,
    updated_at: issue.createdAt,
    ...(issue.pull ? { pull_request: { url: `${fake.url}/repos/${repo.owner}/${repo.name}/pulls/${issue.number}`, html_url: htmlUrl(repo, `/pull/${issue.number}`) } } : {}),
  });

  function handle(request: RecordedRequest): Reply {
    if (override) {
      const reply = override;
      override = undefined;
      return reply;
    }
    if (request.headers.authorization !== `Bearer ${token}`) return error(401, 'Bad credentials');
    if (!request.headers['user-agent']) {
      return error(403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');
    }
    if (request.headers['x-github-api-version'] !== API_VERSION) return error(400, `Unsupported 'X-GitHub-Api-Version' header`);
    if (request.headers.accept !== 'application/vnd.github+json') return error(415, 'Unsupported Media Type: expected application/vnd.github+json');
    let body: Record<string, unknown> = {};
    if (request.method === 'POST') {
      try {
        body = jsonOf(request) as Record<string, unknown>;
      } catch {
        return error(400, 'Problems parsing JSON');
      }
    }

    const match = request.path.match(/^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/);
    const repo = match && fake.repos.find((r) => r.owner === decodeURIComponent(match[1]!) && r.name === decodeURIComponent(match[2]!));
    if (!match || !repo) return error(404, 'Not Found');
    const rest = match[3] ?? '';
    const route = `${request.method} ${rest.replace(/^\/issues\/\d+\/comments$/, '/issues/:number/comments')}`;

    switch (route) {
      case 'GET ':
        return ok(200, {
          id: repo.id,
          node_id: `R_${repo.id}`,
          name: repo.name,
          full_name: `${repo.owner}/${repo.name}`,
          owner: { login: repo.owner },
          private: repo.private,
          visibility: repo.private ? 'private' : 'public',
          html_url: htmlUrl(repo),
          description: repo.description,
          default_branch: repo.defaultBranch,
          archived: repo.archived,
          stargazers_count: 42,
          forks_count: 7,
          open_issues_count: repo.issues.filter((i) => i.state === 'open').length,
        });
      case 'GET /issues': {
        const state = request.query.get('state') ?? 'open';
        if (!['open', 'closed', 'all'].includes(state)) return error(422, 'Validation Failed', [{ resource: 'Issue', field: 'state', code: 'invalid' }]);
        const labels = request.query.get('labels')?.split(',') ?? [];
        const perPage = Math.min(Number(request.query.get('per_page') ?? 30), 100);
        const direction = request.query.get('direction') ?? 'desc';
        const listed = repo.issues
          .filter((i) => (state === 'all' || i.state === state) && labels.every((l) => i.labels.includes(l)))
          .sort((a, b) => (direction === 'asc' ? 1 : -1) * a.createdAt.localeCompare(b.createdAt))
          .slice(0, perPage);
        return ok(200, listed.map((i) => issueJson(repo, i)));
      }
      case 'POST /issues': {
        if (typeof body.title !== 'string' || !body.title) return error(422, 'Validation Failed', [{ resource: 'Issue', field: 'title', code: 'missing_field' }]);
        const assignees = (body.assignees as string[] | undefined) ?? [];
        const unknown = assignees.find((login) => !repo.collaborators.has(login));
        if (unknown) return error(422, 'Validation Failed', [{ value: unknown, resource: 'Issue', field: 'assignees', code: 'invalid' }]);
        const issue = newIssue(repo, { title: body.title, body: (body.body as string | undefined) ?? null, labels: (body.labels as string[] | undefined) ?? [], assignees });
        return ok(201, issueJson(repo, issue));
      }
      case 'POST /issues/:number/comments': {
        const issue = repo.issues.find((i) => i.number === Number(rest.split('/')[2]));
        if (!issue) return error(404, 'Not Found');
        if (typeof body.body !== 'string' || !body.body) return error(422, 'Validation Failed', [{ resource: 'IssueComment', field: 'body', code: 'missing_field' }]);
        const comment = { id: ++nextId, body: body.body, createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
        issue.comments.push(comment);
        return ok(201, {
          id: comment.id,
          html_url: htmlUrl(repo, `/issues/${issue.number}#issuecomment-${comment.id}`),
          body: comment.body,
          user: { login: 'heddle-bot' },
          created_at: comment.createdAt,
          updated_at: comment.createdAt,
        });
      }
      case 'POST /pulls': {
        const [head, base] = [String(body.head ?? ''), String(body.base ?? '')];
        const branch = head.includes(':') ? head.split(':')[1]! : head;
        if (!repo.branches.has(branch)) return error(422, 'Validation Failed', [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
        if (!repo.branches.has(base)) return error(422, 'Validation Failed', [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
        if (repo.issues.some((i) => i.state === 'open' && i.pull?.head === head && i.pull.base === base)) {
          return error(422, 'Validation Failed', [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner}:${branch}.` }]);
        }
        const pull = newIssue(repo, { title: String(body.title), body: (body.body as string | undefined) ?? null, labels: [], assignees: [], pull: { head, base, draft: body.draft === true } });
        return ok(201, {
          id: pull.id,
          number: pull.number,
          state: 'open',
          title: pull.title,
          body: pull.body,
          draft: pull.pull!.draft,
          html_url: htmlUrl(repo, `/pull/${pull.number}`),
          head: { ref: branch, label: `${repo.owner}:${branch}` },
          base: { ref: base, label: `${repo.owner}:${base}` },
          user: { login: 'heddle-bot' },
          created_at: pull.createdAt,
        });
      }
      default:
        return error(404, 'Not Found');
    }
  }

  function newIssue(repo: GitHubRepo, fields: Pick<GitHubIssue, 'title' | 'body' | 'labels' | 'assignees' | 'pull'>): GitHubIssue {
    const number = Math.max(0, ...repo.issues.map((i) => i.number)) + 1;
    const issue: GitHubIssue = { id: ++nextId, number, state: 'open', author: 'heddle-bot', createdAt: `2026-11-24T10:00:${String(number).padStart(2, '0')}Z`, comments: [], ...fields };
    repo.issues.push(issue);
    return issue;
  }

  const server = await startFakeServer(handle);
  const fake: GitHubFake = {
    url: server.url,
    server,
    token,
    repos: [
      {
        id: 1,
        owner: 'heddle',
        name: 'api',
        description: 'Integration backend',
        defaultBranch: 'main',
        private: false,
        archived: false,
        branches: new Set(['main', 'feature/login']),
        collaborators: new Set(['ada', 'bob']),
        issues: [
          { id: 11, number: 1, title: 'Crash on empty alias', body: null, state: 'open', labels: ['bug'], assignees: [], author: 'ada', createdAt: '2026-11-01T09:00:00Z', comments: [] },
          { id: 12, number: 2, title: 'Add retries', body: 'Backoff', state: 'open', labels: ['enhancement'], assignees: [], author: 'bob', createdAt: '2026-11-02T09:00:00Z', comments: [], pull: { head: 'retries', base: 'main', draft: false } },
          { id: 13, number: 3, title: 'Old bug', body: null, state: 'closed', labels: ['bug'], assignees: [], author: 'ada', createdAt: '2026-10-01T09:00:00Z', comments: [] },
        ],
      },
      {
        id: 2,
        owner: 'heddle',
        name: 'secret-plans',
        description: null,
        defaultBranch: 'trunk',
        private: true,
        archived: true,
        branches: new Set(['trunk']),
        collaborators: new Set(),
        issues: [],
      },
    ],
    answerNext: (reply) => {
      override = reply;
    },
    close: () => server.close(),
  };
  return fake;
}
