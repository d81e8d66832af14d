import { action, enumOf, input, integer, limit, string, stringList, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

const owner = string('Account or organization that owns the repository.');
const repo = string('Repository name, without the owner.');

export const github: CatalogIntegration = {
  name: 'github',
  displayName: 'GitHub',
  description: 'Code hosting: repositories, issues and pull requests.',
  authTypes: ['OAUTH2', 'SECRET_TEXT'],
  secretTextLabel: 'Personal access token',
  oauth2: {
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    defaultScopes: ['repo', 'read:user'],
    pkce: true,
  },
  actions: [
    action('create_issue', 'Create issue', 'Open a new issue in a repository.', input(
      {
        owner,
        repo,
        title: string('Issue title.', { minLength: 1, maxLength: 256 }),
        body: string('Issue body in Markdown.'),
        labels: stringList('Label names to apply.'),
        assignees: stringList('Logins of users to assign.'),
      },
      ['owner', 'repo', 'title'],
    )),
    action('list_issues', 'List issues', 'List issues of a repository, newest first.', input(
      { owner, repo, state: enumOf('Which issues to list.', ['open', 'closed', 'all']), labels: stringList('Only issues with all these labels.'), limit: limit() },
      ['owner', 'repo'],
    )),
    action('add_comment', 'Comment on issue or pull request', 'Add a comment to an issue or a pull request.', input(
      { owner, repo, issueNumber: integer('Number of the issue or pull request.', 1), body: string('Comment in Markdown.', { minLength: 1 }) },
      ['owner', 'repo', 'issueNumber', 'body'],
    )),
    action('create_pull_request', 'Create pull request', 'Open a pull request from one branch into another.', input(
      {
        owner,
        repo,
        title: string('Pull request title.', { minLength: 1 }),
        head: string('Branch with the changes (owner:branch for forks).'),
        base: string('Branch to merge into, such as main.'),
        body: string('Description in Markdown.'),
        draft: { type: 'boolean', description: 'Open as a draft pull request.' },
      },
      ['owner', 'repo', 'title', 'head', 'base'],
    )),
    action('get_repository', 'Get repository', 'Read a repository’s metadata: description, default branch, visibility.', input(
      { owner, repo },
      ['owner', 'repo'],
    )),
  ],
  triggers: [
    trigger('new_issue', 'New issue', 'An issue is opened.'),
    trigger('new_pull_request', 'New pull request', 'A pull request is opened.'),
    trigger('push', 'Push', 'Commits are pushed to a branch.'),
    trigger('new_release', 'New release', 'A release is published.'),
  ],
};
