// Membership rules (DESIGN §3): an organization has exactly one OWNER, who is
// changed only by transferOwnership; invites are for ADMIN or MEMBER and
// expire after 7 days; an email has at most one pending invite per organization.
import { z } from 'zod';

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Roles an invite or a role change may grant: never OWNER. */
export const GRANTABLE_ROLES = ['ADMIN', 'MEMBER'] as const;

/** Emails compare case-insensitively: stored lower-cased. */
export const emailSchema = z
  .email('must be an email address')
  .max(320, 'must be at most 320 characters')
  .transform((email) => email.toLowerCase());

export type InviteStatus = 'PENDING' | 'ACCEPTED' | 'REVOKED' | 'EXPIRED';

export function inviteStatus(invite: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now = new Date()): InviteStatus {
  if (invite.acceptedAt) return 'ACCEPTED';
  if (invite.revokedAt) return 'REVOKED';
  return invite.expiresAt <= now ? 'EXPIRED' : 'PENDING';
}

/** The database filter for invites still waiting for an answer. */
export const pendingInviteWhere = (now = new Date()) => ({ acceptedAt: null, revokedAt: null, expiresAt: { gt: now } });
