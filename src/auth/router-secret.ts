// Optional router trust: with HEDDLE_ROUTER_SECRET set, Heddle serves GraphQL
// (HTTP, SSE and graphql-ws) only to callers that send the secret in this
// header, i.e. the gateway, so clients cannot go around the gateway's own
// policies. Health endpoints stay open.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const ROUTER_SECRET_HEADER = 'x-heddle-router-secret';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether a request's headers carry the router secret (always true when none is configured). */
export function routerTrust(secret: string | undefined): (headers: IncomingHttpHeaders) => boolean {
  if (!secret) return () => true;
  const expected = digest(secret);
  return (headers) => {
    const given = headers[ROUTER_SECRET_HEADER];
    // Comparing digests keeps the comparison constant-time whatever the length sent.
    return typeof given === 'string' && timingSafeEqual(digest(given), expected);
  };
}
