import { action, enumOf, input, integer, limit, string, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

export const linear: CatalogIntegration = {
  name: 'linear',
  displayName: 'Linear',
  description: 'Issue tracking for software teams.',
  authTypes: ['OAUTH2', 'SECRET_TEXT'],
  secretTextLabel: 'Personal API key',
  oauth2: {
    authorizationUrl: 'https://linear.app/oauth/authorize',
    tokenUrl: 'https://api.linear.app/oauth/token',
    defaultScopes: ['read', 'write'],
    pkce: true,
  },
  actions: [
    action('create_issue', 'Create issue', 'Create a Linear issue in a team and return its identifier, such as ENG-123.', input(
      {
        teamId: string('Id of the team.'),
        title: string('Issue title.', { minLength: 1 }),
        description: string('Description in Markdown.'),
        priority: integer('0 none, 1 urgent, 2 high, 3 medium, 4 low.', 0, 4),
        assigneeId: string('Id of the user to assign.'),
        dueDate: string('Due date as YYYY-MM-DD.', { format: 'date' }),
      },
      ['teamId', 'title'],
    )),
    action('update_issue', 'Update issue', 'Change an issue’s title, state, priority or assignee.', input(
      {
        issueId: string('Id or identifier (ENG-123) of the issue.'),
        title: string('New title.'),
        stateId: string('Id of the new workflow state.'),
        priority: integer('0 none, 1 urgent, 2 high, 3 medium, 4 low.', 0, 4),
        assigneeId: string('Id of the user to assign.'),
      },
      ['issueId'],
    )),
    action('list_issues', 'List issues', 'List issues of a team, most recently updated first.', input({
      teamId: string('Id of the team.'),
      state: enumOf('Only issues of this state type.', ['backlog', 'unstarted', 'started', 'completed', 'canceled']),
      limit: limit(),
    })),
    action('add_comment', 'Add comment', 'Add a Markdown comment to a Linear issue.', input(
      { issueId: string('Id or identifier of the issue.'), body: string('Comment in Markdown.', { minLength: 1 }) },
      ['issueId', 'body'],
    )),
  ],
  triggers: [trigger('new_issue', 'New issue', 'An issue is created.'), trigger('issue_updated', 'Issue updated', 'An issue changes.')],
};
