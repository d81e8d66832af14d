// End users mirror the host product's users. Two of them can interact when
// they share a directory (no directory = the workspace's default directory)
// or are both members of at least one common Space. This is the only
// implementation of that rule.
import type { Prisma } from '../generated/prisma/client.js';

export function peersWhere(endUser: { id: string; workspaceId: string; directoryId: string | null }): Prisma.EndUserWhereInput {
  return {
    workspaceId: endUser.workspaceId,
    id: { not: endUser.id },
    OR: [
      { directoryId: endUser.directoryId },
      { spaces: { some: { space: { members: { some: { endUserId: endUser.id } } } } } },
    ],
  };
}
