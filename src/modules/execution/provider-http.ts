// The one way Heddle talks HTTP to a provider: builds the URL under the
// integration's base URL, encodes the body, adds the provider's headers and
// the credential, parses the answer and turns failures into ProviderCallError.
// Base URLs that a connection supplies (and URLs an answer hands back on
// another host) pass the address rule: https only, and no loopback, private,
// link-local or metadata address, checked when the socket connects so a DNS
// answer that changes between check and use cannot slip through.
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import type { ConnectionSecret } from '../../platform/crypto/credential-store.js';
import { ProviderCallError, type Provider, type ProviderAnswer, type ProviderRequest, type Send } from '../catalog/provider.js';

/** Resolves a host name to every address it has (node:dns by default; tests give their own). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

const resolveWithDns: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** A URL refused by the address rule; a PROVIDER_ERROR that never reached the network. */
export class ProviderAddressRefusedError extends ProviderCallError {
  constructor(message: string) {
    super({ message }, null);
  }
}

export interface AddressRule {
  /** development and test: plain http and loopback/private addresses are allowed (local fakes and on-premises test rigs). */
  allowPrivateAddresses: boolean;
  resolveHost?: ResolveHost;
}

/**
 * Where requests go: `guarded` when the base URL came from a connection's own
 * data (a Jira site, a Salesforce instance), so every request passes the address rule.
 */
export interface ProviderTarget {
  baseUrl: string;
  guarded: boolean;
}

/**
 * The base URL for `integration`: HEDDLE_PROVIDER_BASE_URLS first (operators
 * point tests, staging and on-premises installs there), then the base URL the
 * connection supplies (checked against the address rule now, and again on
 * every connect), then the provider's public host.
 */
export async function resolveBaseUrl(
  integration: string,
  provider: Pick<Provider, 'baseUrl'>,
  options: AddressRule & { overrides: Record<string, string>; connectionBaseUrl?: string },
): Promise<ProviderTarget> {
  const override = options.overrides[integration];
  if (override) return { baseUrl: withoutTrailingSlash(override), guarded: false };
  if (options.connectionBaseUrl === undefined) return { baseUrl: withoutTrailingSlash(provider.baseUrl), guarded: false };
  const url = parseUrl(options.connectionBaseUrl);
  if (!url || url.username || url.password || url.search || url.hash) {
    throw new ProviderAddressRefusedError(`the connection's base URL must be an https URL without credentials, query or fragment`);
  }
  assertScheme(url, options);
  if (!options.allowPrivateAddresses) await assertPublicHost(url.hostname, options.resolveHost ?? resolveWithDns);
  return { baseUrl: withoutTrailingSlash(url.href), guarded: true };
}

export interface SendOptions extends Partial<AddressRule> {
  provider: Provider;
  /** From resolveBaseUrl: a string is an operator's or the provider's own base URL (not guarded). */
  baseUrl: string | ProviderTarget;
  secret: ConnectionSecret;
  fetch?: typeof globalThis.fetch;
  /** Aborts the request (the layer's timeout); the abort reason is thrown as it is, not as a ProviderCallError. */
  signal?: AbortSignal;
  /** The value for the provider's idempotency header (Provider.idempotencyHeader), when the caller gave an idempotencyKey. */
  idempotencyKey?: string;
}

/**
 * A Send for one call of one provider with one connection's credential.
 * Requests under the base URL carry the provider's headers and the credential;
 * an absolute URL on another origin (an upload URL an answer returned) carries
 * neither, and passes the address rule.
 */
export function createSend(options: SendOptions): Send {
  const { provider, secret, signal } = options;
  const target = typeof options.baseUrl === 'string' ? { baseUrl: options.baseUrl, guarded: false } : options.baseUrl;
  const base = new URL(withoutTrailingSlash(target.baseUrl) + '/');
  const rule: AddressRule = { allowPrivateAddresses: options.allowPrivateAddresses ?? false, resolveHost: options.resolveHost };
  const fetchFn = options.fetch ?? globalThis.fetch;

  return async (request) => {
    const { url, sameOrigin } = requestUrl(base, request.path);
    appendQuery(url, request.query);
    if (!sameOrigin) assertScheme(url, rule);
    const guarded = !rule.allowPrivateAddresses && (sameOrigin ? target.guarded : true);
    if (guarded) assertNotPrivateLiteral(url.hostname);

    const { body, contentType } = encodeBody(request.body);
    const headers = new Headers(sameOrigin ? provider.headers : undefined);
    for (const [key, value] of Object.entries(request.headers ?? {})) headers.set(key, value);
    if (contentType) headers.set('content-type', contentType);
    if (sameOrigin) for (const [key, value] of Object.entries(provider.authorize(secret))) headers.set(key, value);
    const idempotency = provider.idempotencyHeader;
    if (sameOrigin && idempotency && options.idempotencyKey && idempotency.methods.includes(request.method) && !headers.has(idempotency.name)) {
      headers.set(idempotency.name, options.idempotencyKey);
    }

    let response: Response;
    let text: string;
    try {
      response = await fetchFn(url, {
        method: request.method,
        headers,
        body,
        signal,
        // A redirect could lead to an address literal, which skips the lookup: a guarded call fails instead of following it.
        ...(guarded ? { dispatcher: guardedAgent(rule.resolveHost ?? resolveWithDns), redirect: 'error' } : {}),
      } as RequestInit);
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof ProviderAddressRefusedError) throw cause;
      throw new ProviderCallError({ message: `could not reach ${url.host}: ${networkReason(error)}` }, null);
    }

    const answer: ProviderAnswer = { status: response.status, headers: response.headers, body: parseBody(text, response.headers) };
    const failure = provider.failureOf(answer);
    if (failure) {
      const retryAfterMs = failure.retryAfterMs ?? retryAfter(response.headers.get('retry-after'));
      throw new ProviderCallError(retryAfterMs === undefined ? failure : { ...failure, retryAfterMs }, response.status);
    }
    return answer;
  };
}

function requestUrl(base: URL, path: string): { url: URL; sameOrigin: boolean } {
  if (/^https?:\/\//i.test(path)) {
    const url = parseUrl(path);
    if (!url || url.username || url.password) throw new ProviderAddressRefusedError('the provider returned a URL Heddle will not call');
    return { url, sameOrigin: url.origin === base.origin };
  }
  // Only a plain path under the base URL: no scheme-relative `//host`, no dot segments (also percent-encoded).
  const escapes = () => new ProviderAddressRefusedError(`the request path ${JSON.stringify(path.slice(0, 100))} leaves the integration's base URL`);
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\') || /(^|\/)(\.|%2e){1,2}(\/|$|\?)/i.test(path)) throw escapes();
  const url = new URL(base.href + path.slice(1));
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) throw escapes();
  return { url, sameOrigin: true };
}

/** The request's query after any the path holds: an array value is its key repeated, once per item (`labelIds=A&labelIds=B`). */
function appendQuery(url: URL, query: ProviderRequest['query']): void {
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined) url.searchParams.append(key, String(item));
  }
}

function encodeBody(body: ProviderRequest['body']): { body?: string | Uint8Array; contentType?: string } {
  if (!body) return {};
  if ('json' in body) return { body: JSON.stringify(body.json), contentType: 'application/json; charset=utf-8' };
  if ('form' in body) return { body: new URLSearchParams(body.form).toString(), contentType: 'application/x-www-form-urlencoded' };
  return { body: body.raw, contentType: body.contentType };
}

/** JSON when the answer says so (application/json, application/vnd.github+json, …) and parses; else the text; null when empty. */
function parseBody(text: string, headers: Headers): unknown {
  if (text === '') return null;
  if (!/[/+]json\b/i.test(headers.get('content-type') ?? '')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds. */
function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function assertScheme(url: URL, rule: AddressRule): void {
  const allowed = rule.allowPrivateAddresses ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(url.protocol)) throw new ProviderAddressRefusedError(`${url.origin} is refused: provider URLs must be https`);
}

/** Only globally routable unicast addresses: loopback, private, link-local (cloud metadata), CGNAT, ULA and reserved ranges are refused. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

function assertNotPrivateLiteral(hostname: string): void {
  const literal = hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(literal) && !isPublicAddress(literal)) {
    throw new ProviderAddressRefusedError(`${hostname} is refused: it is a loopback, private, link-local or reserved address`);
  }
}

async function assertPublicHost(hostname: string, resolveHost: ResolveHost): Promise<LookupAddress[]> {
  const literal = hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(literal)) {
    assertNotPrivateLiteral(hostname);
    return [{ address: literal, family: literal.includes(':') ? 6 : 4 }];
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolveHost(literal);
  } catch (error) {
    throw new ProviderCallError({ message: `could not resolve ${hostname}: ${(error as { code?: string }).code ?? 'lookup failed'}` }, null);
  }
  const refused = addresses.find((a) => !isPublicAddress(a.address));
  if (refused || addresses.length === 0) {
    throw new ProviderAddressRefusedError(`${hostname} is refused: it resolves to a loopback, private, link-local or reserved address`);
  }
  return addresses;
}

// One keep-alive pool per resolver; its lookup runs the address rule on the addresses the socket will use.
const agents = new WeakMap<ResolveHost, Agent>();
function guardedAgent(resolveHost: ResolveHost): Agent {
  let agent = agents.get(resolveHost);
  if (!agent) {
    const lookup: LookupFunction = (hostname, options, callback) => {
      assertPublicHost(hostname, resolveHost).then(
        (addresses) => {
          if (options.all) callback(null, addresses);
          else callback(null, addresses[0]!.address, addresses[0]!.family);
        },
        (error: Error) => callback(error as NodeJS.ErrnoException, ''),
      );
    };
    agent = new Agent({ connect: { lookup } });
    agents.set(resolveHost, agent);
  }
  return agent;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');
