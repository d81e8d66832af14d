// Who is calling. Every request and every websocket resolves its
// `Authorization: Bearer …` credential to one Principal, once.
import { GraphQLError } from 'graphql';
import { jwtVerify, SignJWT } from 'jose';
import type { PrismaClient } from '../generated/prisma/client.js';

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'member'; userId: string; email: string };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export class UnauthenticatedError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

export interface Authenticator {
  authenticate(authorization: string | null | undefined): Promise<Principal>;
}

export function createAuthenticator(deps: { prisma: PrismaClient; jwtSecret: string }): Authenticator {
  const key = new TextEncoder().encode(deps.jwtSecret);

  async function memberFromJwt(token: string): Promise<Principal> {
    let claims: { sub?: string; email?: unknown; name?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(token, key, { algorithms: ['HS256'] }));
    } catch {
      throw new UnauthenticatedError('invalid or expired session token');
    }
    if (!claims.sub || typeof claims.email !== 'string') {
      throw new UnauthenticatedError('session token must carry sub and email');
    }
    const name = typeof claims.name === 'string' ? claims.name : null;
    // Created on first use; later requests only read.
    const user =
      (await deps.prisma.user.findUnique({ where: { subject: claims.sub }, select: { id: true, email: true } })) ??
      (await deps.prisma.user.upsert({
        where: { subject: claims.sub },
        create: { subject: claims.sub, email: claims.email, name },
        update: {},
        select: { id: true, email: true },
      }));
    return { kind: 'member', userId: user.id, email: user.email };
  }

  return {
    async authenticate(authorization) {
      if (!authorization) return ANONYMOUS;
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!match) throw new UnauthenticatedError('Authorization must be "Bearer <token>"');
      return memberFromJwt(match[1]!);
    },
  };
}

/** A member session token signed with the configured secret (development and tests). */
export async function signMemberToken(
  secret: string,
  claims: { sub: string; email: string; name?: string },
  expiresIn = '12h',
): Promise<string> {
  return new SignJWT({ email: claims.email, name: claims.name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
