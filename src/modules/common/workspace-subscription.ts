// Subscriptions to one workspace's messages on a pub/sub topic: the workspace
// must be visible to the caller (NOT_FOUND otherwise, SCOPE_DENIED outside a
// restricted key's workspaces), and the stream ends when the caller loses access.
import { whileAccessHolds } from '../realtime/access.js';
import { workspaceMessages, type Topics, type WorkspaceTopic } from '../../platform/pubsub.js';
import type { Context } from './context.js';
import { requireWorkspace } from '../../auth/registry.js';

export async function workspaceSubscription<K extends WorkspaceTopic>(
  ctx: Context,
  workspaceId: string | number,
  topic: K,
): Promise<AsyncGenerator<Topics[K][0]>> {
  const workspace = await requireWorkspace(ctx, String(workspaceId), ['workspaceId']);
  return whileAccessHolds(ctx, { organizationId: workspace.organizationId, workspaceId: workspace.id }, (signal) =>
    workspaceMessages(ctx.pubsub, topic, workspace.id, signal),
  );
}
