// Member sessions verified against a JWKS (an identity provider's keys), with
// issuer and audience checks; the user record is created on first use.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { signMemberToken } from '../../src/auth/principal.js';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.js';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'heddle-api';

let idp: Server;
let t: TestApp;
let privateKey: CryptoKey;
let jwksRequests = 0;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  idp = createServer((_req, res) => {
    jwksRequests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
  t = await startTestApp(
    { database: 'pglite', pubsub: 'memory' },
    { env: { HEDDLE_JWKS_URL: jwksUrl, HEDDLE_JWT_ISSUER: ISSUER, HEDDLE_JWT_AUDIENCE: AUDIENCE } },
  );
});
afterAll(async () => {
  await t?.stop();
  idp?.close();
});

function idpToken(claims: { iss?: string; aud?: string; exp?: number; email?: string } = {}) {
  return new SignJWT({ email: claims.email ?? 'jwks.user@example.com', name: 'JWKS User' })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setSubject('idp|42')
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? '10m')
    .sign(privateKey);
}

const Viewer = '{ viewer { kind user { email name } } }';
const codeOf = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

test("a token signed by the identity provider's key is a member session; its user is created on first use", async () => {
  const first = await t.requestRaw<{ viewer: { kind: string; user: { email: string } } }>(Viewer, {}, await idpToken());
  expect(first.data?.viewer).toEqual({ kind: 'MEMBER', user: { email: 'jwks.user@example.com', name: 'JWKS User' } });
  expect(jwksRequests).toBeGreaterThan(0);
  const again = await t.requestRaw<{ viewer: { user: { email: string } } }>(Viewer, {}, await idpToken());
  expect(again.data?.viewer.user.email).toBe('jwks.user@example.com');
  expect(await t.app.database.prisma.user.count({ where: { subject: 'idp|42' } })).toBe(1);
});

test('a wrong issuer, a wrong audience, an expired token or an HS256 token signed with the shared secret is UNAUTHENTICATED', async () => {
  const rejected = [
    await idpToken({ iss: 'https://evil.example.test/' }),
    await idpToken({ aud: 'someone-else' }),
    await idpToken({ exp: Math.floor(Date.now() / 1000) - 60 }),
    // With a JWKS configured, the shared secret no longer makes member sessions.
    await signMemberToken(TEST_JWT_SECRET, { sub: 'local|1', email: 'local@example.com' }),
  ];
  for (const token of rejected) expect(codeOf(await t.requestRaw(Viewer, {}, token))).toBe('UNAUTHENTICATED');
});
