// HTTP plumbing of the connect pages: security headers, the browser cookie that
// binds a flow to the browser it started in, client addresses behind proxies,
// and form bodies.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hashToken, randomToken } from '../../platform/crypto/tokens.js';
import { STYLE_HASH, type Page } from './pages.js';

/**
 * No script, no other origin: the inline stylesheet by its hash, forms only to
 * Heddle, frames only from the workspace's connectFrameAncestors (none by default).
 */
export function securityHeaders(frameAncestors: readonly string[] = []): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      `style-src ${STYLE_HASH}`,
      "form-action 'self'",
      `frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`,
      "base-uri 'none'",
    ].join('; '),
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'cross-origin-resource-policy': 'same-origin',
    // Older browsers ignore frame-ancestors; X-Frame-Options cannot list origins, so only when none may frame.
    ...(frameAncestors.length ? {} : { 'x-frame-options': 'DENY' }),
  };
}

export function sendPage(res: ServerResponse, page: Page, options: { frameAncestors?: readonly string[]; headers?: Record<string, string | string[]> } = {}): void {
  res
    .writeHead(page.status, {
      ...securityHeaders(options.frameAncestors),
      'content-type': 'text/html; charset=utf-8',
      ...options.headers,
    })
    .end(page.body.text);
}

export function sendRedirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...securityHeaders(), location, ...headers }).end();
}

// ---------------------------------------------------------------------------
// The browser binding: a random HttpOnly cookie whose hash a session keeps.
// The OAuth2 callback and the form post only count from the browser that holds
// it; the form's CSRF token is derived from it, which a cross-site page cannot read.

const COOKIE = 'heddle_connect';

export interface BrowserBinding {
  secret: string;
  /** Set-Cookie for a new secret; null when the browser already had one. */
  setCookie: string | null;
}

export function readBrowserSecret(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE && /^[\w-]{43}$/.test(value.join('='))) return value.join('=');
  }
  return null;
}

export function browserBinding(req: IncomingMessage, publicUrl: string): BrowserBinding {
  const existing = readBrowserSecret(req);
  if (existing) return { secret: existing, setCookie: null };
  const secret = randomToken('', 32);
  const url = new URL(publicUrl);
  const attributes = [`Path=${url.pathname.replace(/\/$/, '')}/connect`, 'HttpOnly', 'SameSite=Lax', 'Max-Age=86400'];
  if (url.protocol === 'https:') attributes.push('Secure');
  return { secret, setCookie: [`${COOKIE}=${secret}`, ...attributes].join('; ') };
}

export const browserHash = (secret: string): string => hashToken(`browser:${secret}`);
export const csrfToken = (secret: string): string => hashToken(`csrf:${secret}`);

export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

// ---------------------------------------------------------------------------

/** The client's address: the socket's, or with trusted proxies in front the one they saw (X-Forwarded-For). */
export function clientAddress(req: IncomingMessage, trustProxyHops: number): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops === 0) return socket;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // Each proxy appends the address it received from: the client is `hops` entries from the right.
  return forwarded[forwarded.length - trustProxyHops] ?? forwarded[0] ?? socket;
}

export class BodyTooLargeError extends Error {}

/** The whole request body; BodyTooLargeError beyond `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** An application/x-www-form-urlencoded body, or null for another content type. */
export async function readForm(req: IncomingMessage, maxBytes: number): Promise<URLSearchParams | null> {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return null;
  return new URLSearchParams((await readBody(req, maxBytes)).toString('utf8'));
}
