// Who is calling. Every request and every websocket resolves its
// `Authorization: Bearer …` credential to one Principal, once:
//   hdl_…  an API key (hash looked up; revoked or expired keys fail at once)
//   a JWT  signed by Heddle for an end user (issueEndUserToken), or a member
//          session (HS256 with HEDDLE_JWT_SECRET, or the configured JWKS).
// A credential seen recently is answered from the PrincipalCache, without a
// statement; changes and revocations drop it there (principal-cache.ts).
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../platform/config.js';
import { hashToken } from '../platform/crypto/tokens.js';
import { prepared } from '../platform/db/prepared.js';
import { safeUuid } from '../platform/ids.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { ApiKeyUsage } from './api-key-usage.js';
import { UnauthenticatedError } from './errors.js';

/** Roles (DESIGN §3): what a member may do inside an organization (see roles.ts). */
export const ROLES = ['OWNER', 'ADMIN', 'MEMBER'] as const;
export type Role = (typeof ROLES)[number];

export type Principal =
  | { kind: 'anonymous' }
  | {
      kind: 'member';
      userId: string;
      email: string;
      /** Role per organization id, read once when the request is authenticated. */
      roles: ReadonlyMap<string, Role>;
      /** When the credential stops working (open subscriptions end then). */
      expiresAt: Date | null;
    }
  | {
      kind: 'apiKey';
      apiKeyId: string;
      organizationId: string;
      /** null: org-wide; otherwise the only workspaces the key may reach. */
      workspaceIds: string[] | null;
      permissions: string[];
      expiresAt: Date | null;
    }
  | {
      kind: 'endUser';
      endUserId: string;
      externalId: string;
      workspaceId: string;
      organizationId: string;
      directoryId: string | null;
      expiresAt: Date | null;
    };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/**
 * After a mutation of this request changed a member's role in an organization
 * (null: the member left it): when that member is the caller, the fields
 * resolved after it act with the role it has now, as its next request will.
 */
export function followRoleChange(request: { principal: Principal }, change: { userId: string; organizationId: string; role: Role | null }): void {
  const { principal } = request;
  if (principal.kind !== 'member' || principal.userId !== change.userId) return;
  const roles = new Map(principal.roles);
  if (change.role) roles.set(change.organizationId, change.role);
  else roles.delete(change.organizationId);
  request.principal = { ...principal, roles };
}

export const API_KEY_PREFIX = 'hdl_';
/**
 * Permissions an API key may hold beyond ADMIN rights in its scope. A key
 * holds only those it was created with: keys made before EXECUTE and PROXY
 * existed cannot run actions or use the proxy until replaced by a key that has them.
 */
export const API_KEY_PERMISSIONS = {
  CREDENTIALS_READ: 'credentials:read',
  EXECUTE: 'actions:execute',
  PROXY: 'proxy',
} as const;
export type ApiKeyPermission = (typeof API_KEY_PERMISSIONS)[keyof typeof API_KEY_PERMISSIONS];
const END_USER_TOKEN_KIND = 'heddle:end-user';

/** Who may run actions (executeAction, MCP tools/call through an API key's session): members, end users for themselves, keys with EXECUTE. */
export const mayExecute = (principal: Principal): boolean =>
  principal.kind === 'member' || principal.kind === 'endUser' || (principal.kind === 'apiKey' && principal.permissions.includes(API_KEY_PERMISSIONS.EXECUTE));

/** Who may use the proxy: members and API keys holding PROXY (end users only through actions). */
export const mayProxy = (principal: Principal): boolean =>
  principal.kind === 'member' || (principal.kind === 'apiKey' && principal.permissions.includes(API_KEY_PERMISSIONS.PROXY));

/** The organizations a principal acts in: a member's, by role; a key's or an end user's one; none for anonymous callers. */
export const organizationsOf = (principal: Principal): string[] =>
  principal.kind === 'member' ? [...principal.roles.keys()] : principal.kind === 'anonymous' ? [] : [principal.organizationId];

export interface Authenticator {
  authenticate(authorization: string | null | undefined): Promise<Principal>;
}

type Authenticated<K extends Principal['kind']> = Extract<Principal, { kind: K }>;

/** Where principals are kept between requests: the token's hash and how to read it when absent (principal-cache.ts). */
export interface PrincipalStore {
  principalOf<P extends Principal>(tokenHash: string, load: () => Promise<P>): Promise<P>;
}

export function createAuthenticator(deps: {
  prisma: PrismaClient;
  jwt: Config['jwt'];
  apiKeyUsage: ApiKeyUsage;
  principals: PrincipalStore;
}): Authenticator {
  const { prisma } = deps;
  const secret = new TextEncoder().encode(deps.jwt.secret);
  const jwks: JWTVerifyGetKey | null = deps.jwt.jwksUrl ? createRemoteJWKSet(new URL(deps.jwt.jwksUrl)) : null;

  async function apiKey(keyHash: string): Promise<Authenticated<'apiKey'>> {
    // Every request of a backend whose key is not cached comes here: one statement, its workspace list included.
    const [key] = await prisma.$queryRaw<
      { id: string; organizationId: string; permissions: string[]; expiresAt: Date | null; revokedAt: Date | null; workspaceIds: string[] }[]
    >(prepared(Prisma.sql`
      SELECT k."id", k."organizationId", k."permissions", k."expiresAt", k."revokedAt",
        COALESCE(array_agg(w."workspaceId"::text) FILTER (WHERE w."workspaceId" IS NOT NULL), '{}') AS "workspaceIds"
      FROM "ApiKey" k LEFT JOIN "ApiKeyWorkspace" w ON w."apiKeyId" = k."id"
      WHERE k."keyHash" = ${keyHash}
      GROUP BY k."id"`));
    if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= new Date())) {
      throw new UnauthenticatedError('invalid, revoked or expired API key');
    }
    return {
      kind: 'apiKey',
      apiKeyId: key.id,
      organizationId: key.organizationId,
      workspaceIds: key.workspaceIds.length ? key.workspaceIds : null,
      permissions: key.permissions,
      expiresAt: key.expiresAt,
    };
  }

  async function endUser(token: string): Promise<Authenticated<'endUser'>> {
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, secret, { algorithms: ['HS256'], typ: END_USER_TOKEN_KIND }));
    } catch {
      throw new UnauthenticatedError('invalid or expired end-user token');
    }
    // The end user must still exist; its directory decides its peers. One statement, its organization included.
    const [user] = await prisma.$queryRaw<
      { id: string; externalId: string; workspaceId: string; organizationId: string; directoryId: string | null }[]
    >(prepared(Prisma.sql`
      SELECT u."id", u."externalId", u."workspaceId", w."organizationId", u."directoryId"
      FROM "EndUser" u JOIN "Workspace" w ON w."id" = u."workspaceId"
      WHERE u."id" = ${safeUuid(String(claims.sub))}::uuid`));
    if (!user) throw new UnauthenticatedError('invalid or expired end-user token');
    return {
      kind: 'endUser',
      endUserId: user.id,
      externalId: user.externalId,
      workspaceId: user.workspaceId,
      organizationId: user.organizationId,
      directoryId: user.directoryId,
      expiresAt: expiryOf(claims.exp),
    };
  }

  async function member(token: string): Promise<Authenticated<'member'>> {
    let claims: { sub?: string; email?: unknown; name?: unknown; exp?: number };
    try {
      const options = { issuer: deps.jwt.issuer, audience: deps.jwt.audience };
      ({ payload: claims } = jwks
        ? await jwtVerify(token, jwks, options)
        : await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] }));
    } catch {
      throw new UnauthenticatedError('invalid or expired session token');
    }
    if (!claims.sub || typeof claims.email !== 'string') {
      throw new UnauthenticatedError('session token must carry sub and email');
    }
    const name = typeof claims.name === 'string' ? claims.name : null;
    // Created on first use; later requests cost one statement, memberships included.
    const rows = () => prisma.$queryRaw<{ id: string; email: string; organizationId: string | null; role: Role | null }[]>(prepared(Prisma.sql`
      SELECT u."id", u."email", m."organizationId", m."role"::text AS "role"
      FROM "User" u LEFT JOIN "Member" m ON m."userId" = u."id"
      WHERE u."subject" = ${claims.sub}`));
    let found = await rows();
    if (!found.length) {
      // ON CONFLICT DO NOTHING: concurrent first requests of one user create it once.
      await prisma.user.createMany({ data: [{ subject: claims.sub, email: claims.email, name }], skipDuplicates: true });
      found = await rows();
    }
    const user = found[0]!;
    const roles = new Map(found.flatMap((row) => (row.organizationId && row.role ? [[row.organizationId, row.role] as const] : [])));
    return {
      kind: 'member',
      userId: user.id,
      email: claims.email.toLowerCase(), // the session's own claim: invites are matched against it
      roles,
      expiresAt: expiryOf(claims.exp),
    };
  }

  return {
    async authenticate(authorization) {
      if (!authorization) return ANONYMOUS;
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!match) throw new UnauthenticatedError('Authorization must be "Bearer <token>"');
      const token = match[1]!;
      const tokenHash = hashToken(token);
      if (token.startsWith(API_KEY_PREFIX)) {
        const key = await deps.principals.principalOf(tokenHash, () => apiKey(tokenHash));
        deps.apiKeyUsage.touch(key.apiKeyId); // lastUsedAt, cached or not
        return key;
      }
      if (isEndUserToken(token)) return deps.principals.principalOf(tokenHash, () => endUser(token));
      return deps.principals.principalOf(tokenHash, () => member(token));
    },
  };
}

const expiryOf = (exp: number | undefined) => (exp === undefined ? null : new Date(exp * 1000));

function isEndUserToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).typ === END_USER_TOKEN_KIND;
  } catch {
    return false;
  }
}

/** A member session token signed with the configured secret (development and tests). */
export async function signMemberToken(
  secret: string,
  claims: { sub: string; email: string; name?: string },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ email: claims.email, name: claims.name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** An end-user token: a short-lived HS256 JWT whose header type marks it as one. */
export async function signEndUserToken(secret: string, endUserId: string, expiresAt: Date): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: END_USER_TOKEN_KIND })
    .setSubject(endUserId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(new TextEncoder().encode(secret));
}
