// Imports every type module for its side effects and builds the subgraph schema.
import './modules/common/scalars.js';
import './modules/common/errors.js';
import './modules/common/deleted.js';
import './modules/viewer/viewer.js';
import './modules/organization/organization.js';
import './modules/workspace/workspace.js';
import './modules/workspace/config-events.js';
import './modules/catalog/integration.js';
import './modules/connection/connection.js';
import './modules/integration/workspace-integration.js';
import './modules/mcp-server/mcp-server.js';
import './modules/trigger/trigger.js';
import './modules/directory/directory.js';
import './modules/space/space.js';
import './modules/end-user/end-user.js';
import './modules/api-key/api-key.js';
import './modules/member/member.js';
import './modules/audit/audit-event.js';
import './modules/resolution/resolution.js';
import './modules/usage/usage.js';
import './modules/connect/oauth-app.js';
import './modules/connect/connect-session.js';
import { printSubgraphSchema } from '@apollo/subgraph';
import { auditMutations } from './audit.js';
import { builder } from './builder.js';

// Federation v2.6 link: subscriptions through Apollo Router need at least 2.4.
export const schema = auditMutations(
  builder.toSubGraphSchema({
  linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    federationDirectives: ['@key', '@shareable', '@external', '@requires', '@provides'],
  }),
);

/** The SDL that `_service { sdl }` returns and schema.graphql holds. */
export function printSchemaSdl(): string {
  return printSubgraphSchema(schema).trimEnd() + '\n';
}
