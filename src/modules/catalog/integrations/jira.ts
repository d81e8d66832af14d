import { action, input, limit, string, stringList, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

export const jira: CatalogIntegration = {
  name: 'jira',
  displayName: 'Jira',
  description: 'Atlassian issue and project tracking.',
  authTypes: ['OAUTH2', 'BASIC_AUTH', 'CUSTOM_AUTH'],
  oauth2: {
    authorizationUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    defaultScopes: ['read:jira-work', 'write:jira-work', 'offline_access'],
    pkce: true,
  },
  // Jira Cloud API tokens are scoped to a site, so the site's domain travels with them.
  customAuthFields: [
    { name: 'domain', displayName: 'Site domain (your-site.atlassian.net)', secret: false },
    { name: 'email', displayName: 'Account email', secret: false },
    { name: 'apiToken', displayName: 'API token', secret: true },
  ],
  actions: [
    action('create_issue', 'Create issue', 'Create a Jira issue in a project and return its key, such as ENG-42.', input(
      {
        projectKey: string('Key of the project, such as ENG.', { pattern: '^[A-Z][A-Z0-9_]+$' }),
        summary: string('One-line summary.', { minLength: 1, maxLength: 255 }),
        issueType: string('Issue type name, such as Task or Bug.'),
        description: string('Description in plain text.'),
        labels: stringList('Labels to apply.'),
      },
      ['projectKey', 'summary', 'issueType'],
    )),
    action('search_issues', 'Search issues', 'Find issues with a JQL query.', input(
      { jql: string('JQL query, such as "project = ENG AND status = Open".'), limit: limit() },
      ['jql'],
    )),
    action('transition_issue', 'Transition issue', 'Move an issue to another status through a workflow transition.', input(
      { issueKey: string('Key of the issue, such as ENG-42.'), transition: string('Name or id of the transition.') },
      ['issueKey', 'transition'],
    )),
    action('add_comment', 'Add comment', 'Add a plain-text comment to a Jira issue.', input(
      { issueKey: string('Key of the issue.'), body: string('Comment in plain text.', { minLength: 1 }) },
      ['issueKey', 'body'],
    )),
  ],
  triggers: [trigger('new_issue', 'New issue', 'An issue is created.'), trigger('issue_updated', 'Issue updated', 'An issue changes.')],
};
