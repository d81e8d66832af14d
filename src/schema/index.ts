// Imports every type module for its side effects and builds the subgraph schema.
import '../modules/common/scalars.schema.js';
import '../modules/common/errors.schema.js';
import '../modules/common/deleted.schema.js';
import '../modules/viewer/viewer.schema.js';
import '../modules/organization/organization.schema.js';
import '../modules/workspace/workspace.schema.js';
import '../modules/workspace/config-events.schema.js';
import '../modules/catalog/catalog.schema.js';
import '../modules/connection/connection.schema.js';
import '../modules/workspace-integration/workspace-integration.schema.js';
import '../modules/mcp/mcp-server.schema.js';
import '../modules/trigger/trigger.schema.js';
import '../modules/directory/directory.schema.js';
import '../modules/directory/space.schema.js';
import '../modules/end-user/end-user.schema.js';
import '../modules/api-key/api-key.schema.js';
import '../modules/member/member.schema.js';
import '../modules/audit/audit-event.schema.js';
import '../modules/resolution/resolution.schema.js';
import '../modules/usage/usage.schema.js';
import '../modules/oauth/oauth-app.schema.js';
import '../modules/connect/connect-session.schema.js';
import '../modules/execution/execution.schema.js';
import { printSubgraphSchema } from '@apollo/subgraph';
import { auditMutations } from './audit-mutations.js';
import { checkTypenames } from './typenames.js';
import { builder } from '../modules/common/builder.js';

// Federation v2.6 link: subscriptions through Apollo Router need at least 2.4.
export const schema = checkTypenames(
  auditMutations(
    builder.toSubGraphSchema({
      linkUrl: 'https://specs.apollo.dev/federation/v2.6',
      federationDirectives: ['@key', '@shareable', '@external', '@requires', '@provides'],
    }),
  ),
);

/** The SDL that `_service { sdl }` returns and schema.graphql holds. */
export function printSchemaSdl(): string {
  return printSubgraphSchema(schema).trimEnd() + '\n';
}
