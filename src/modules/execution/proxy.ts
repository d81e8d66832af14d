// `ANY /proxy/{integration}/{path}` (issue #24 item 8): a request the catalog
// does not describe, sent to the integration's base URL with the credential
// the workspace resolves for it. The caller authenticates as for GraphQL
// (members, and API keys holding PROXY), names the workspace and end user in
// Heddle-Workspace-Id and Heddle-External-Id, and gets the provider's status,
// headers and body back. Its Authorization and cookies never reach the
// provider; only paths under the base URL can be reached. Resolution, token
// refresh, the timeout, metering and the audit entry are the execution
// layer's; the request itself goes through createSend, so the provider's
// headers, its authorization and the address rule are the same as for actions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { mayProxy, type Authenticator, type Principal } from '../../auth/principal.js';
import { openConnectionSecret } from '../../platform/crypto/credential-store.js';
import { HeddleError } from '../../platform/errors.js';
import { externalIdSchema } from '../../platform/identifiers.js';
import { decodeId, isUuid } from '../../platform/ids.js';
import { auditInsertSql } from '../audit/audit.service.js';
import type { HttpMethod, Provider } from '../catalog/provider.js';
import { getProvider } from '../catalog/providers.js';
import { BodyTooLargeError, readBody } from '../connect/http.js';
import { decideConnection, readyResolution, usageOf } from '../resolution/resolution.service.js';
import { resolutionUsageStatement } from '../usage/usage.service.js';
import type { ExecutionDeps } from './execution.service.js';
import { createSend, ProviderAddressRefusedError, resolveBaseUrl } from './provider-http.js';

export const PROXY_PATH_PREFIX = '/proxy/';
export const WORKSPACE_HEADER = 'heddle-workspace-id';
export const EXTERNAL_ID_HEADER = 'heddle-external-id';

export interface ProxyDeps {
  execution: ExecutionDeps;
  authenticator: Authenticator;
  maxBodyBytes: number;
}

const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Hop-by-hop headers (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
/** The caller's credentials stay here; the HTTP client sets host and length; the answer comes back decoded, so no encoding is negotiated. */
const DROPPED_REQUEST = new Set([...HOP_BY_HOP, 'host', 'content-length', 'authorization', 'cookie', 'accept-encoding', 'origin', 'referer']);
const DROPPED_RESPONSE = new Set([...HOP_BY_HOP, 'set-cookie', 'content-encoding']);

const STATUS: Record<string, number> = {
  VALIDATION_ERROR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  SCOPE_DENIED: 403,
  NOT_FOUND: 404,
  CONNECTION_REQUIRED: 409,
  AMBIGUOUS_INTEGRATION: 409,
  ACTION_NOT_SUPPORTED: 501,
  PROVIDER_ERROR: 502,
  PROVIDER_TIMEOUT: 504,
};

class ProxyRefusal {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly status = STATUS[code] ?? 400,
  ) {}
}

function send(res: ServerResponse, refusal: ProxyRefusal): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (refusal.status === 401) headers['www-authenticate'] = 'Bearer realm="heddle"';
  res.writeHead(refusal.status, headers).end(JSON.stringify({ error: { code: refusal.code, message: refusal.message } }));
}

/**
 * The provider path of a proxied request, or null when it could leave the
 * base URL: an absolute or scheme-relative URL, a dot segment (also
 * percent-encoded), a backslash or an encoded slash.
 */
export function providerPathOf(path: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('/') || /\\|%5c|%2f/i.test(path)) return null;
  if (path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) return null;
  return '/' + path;
}

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? undefined : value;
};

/** The caller's headers the provider may see. */
function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  // A Connection header names more hop-by-hop headers of this request.
  const named = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((name) => name.trim()));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || DROPPED_REQUEST.has(name) || named.has(name) || name.startsWith('heddle-') || name.startsWith('x-forwarded-')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

async function authenticate(authenticator: Authenticator, req: IncomingMessage): Promise<Principal | ProxyRefusal> {
  let principal: Principal;
  try {
    principal = await authenticator.authenticate(req.headers.authorization);
  } catch (error) {
    if (error instanceof GraphQLError) return new ProxyRefusal('UNAUTHENTICATED', error.message);
    throw error;
  }
  if (principal.kind === 'anonymous') return new ProxyRefusal('UNAUTHENTICATED', 'send an API key or a member session as "Authorization: Bearer <token>"');
  if (!mayProxy(principal)) {
    return new ProxyRefusal('FORBIDDEN', principal.kind === 'apiKey' ? 'this API key lacks the PROXY permission' : 'end users cannot use the proxy; they run actions');
  }
  return principal;
}

/** Handles one request under /proxy/. Never throws for the caller's mistakes: those are JSON answers with a stable code. */
export async function handleProxy(deps: ProxyDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const outcome = await proxy(deps, req, res).catch((error: unknown) => {
    if (error instanceof HeddleError) return new ProxyRefusal(error.code, error.message);
    if (error instanceof GraphQLError && typeof error.extensions.code === 'string') return new ProxyRefusal(error.extensions.code, error.message);
    if (error instanceof BodyTooLargeError) return new ProxyRefusal('VALIDATION_ERROR', `the body is larger than ${deps.maxBodyBytes} bytes`, 413);
    throw error;
  });
  if (outcome instanceof ProxyRefusal) send(res, outcome);
}

async function proxy(deps: ProxyDeps, req: IncomingMessage, res: ServerResponse): Promise<ProxyRefusal | void> {
  const { prisma, refresher, credentials, config } = deps.execution;
  // The raw target, not decoded: the path and query go to the provider as the caller wrote them.
  const raw = (req.url ?? '').slice(PROXY_PATH_PREFIX.length);
  const queryAt = raw.indexOf('?');
  const [pathPart, query] = queryAt < 0 ? [raw, ''] : [raw.slice(0, queryAt), raw.slice(queryAt)];
  const slash = pathPart.indexOf('/');
  let integration: string;
  try {
    integration = decodeURIComponent(slash < 0 ? pathPart : pathPart.slice(0, slash));
  } catch {
    return new ProxyRefusal('VALIDATION_ERROR', 'the integration segment is not valid percent-encoding');
  }
  const providerPath = providerPathOf(slash < 0 ? '' : pathPart.slice(slash + 1));
  if (!integration) return new ProxyRefusal('NOT_FOUND', 'name the integration: /proxy/{alias or integration}/{path}', 404);
  if (providerPath === null) return new ProxyRefusal('VALIDATION_ERROR', "the path leaves the integration's base URL");

  const principal = await authenticate(deps.authenticator, req);
  if (principal instanceof ProxyRefusal) return principal;
  const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
  if (!METHODS.includes(method)) return new ProxyRefusal('VALIDATION_ERROR', `the proxy sends ${METHODS.join(', ')}`, 405);
  const workspaceHeader = header(req, WORKSPACE_HEADER) ?? '';
  const workspaceId = decodeId(workspaceHeader, 'Workspace') ?? (isUuid(workspaceHeader) ? workspaceHeader : null);
  if (!workspaceId) return new ProxyRefusal('VALIDATION_ERROR', 'Heddle-Workspace-Id must name the workspace (its id)');
  const externalHeader = header(req, EXTERNAL_ID_HEADER);
  const externalId = externalHeader === undefined ? null : externalIdSchema.safeParse(externalHeader);
  if (externalId && !externalId.success) return new ProxyRefusal('VALIDATION_ERROR', `Heddle-External-Id ${externalId.error.issues[0]!.message}`);
  const body = await readBody(req, deps.maxBodyBytes);

  const { data, decision } = await decideConnection(prisma, principal, { workspaceId, integration, externalId: externalId?.data ?? null });
  const provider = getProvider(decision.workspaceIntegration.integrationName);
  if (!provider) return new ProxyRefusal('ACTION_NOT_SUPPORTED', `the proxy cannot reach ${decision.workspaceIntegration.integrationName} in this Heddle release`);
  const resolution = await readyResolution(refresher, decision);

  const signal = AbortSignal.timeout(config.execution.timeoutMs);
  const allowPrivateAddresses = config.env !== 'production';
  let upstream: Response | undefined;
  // createSend builds the URL, the provider's headers and authorization; the provider's own answer comes back untouched.
  const keepAnswer: typeof fetch = async (input, init) => {
    upstream = await fetch(input, init);
    return new Response(null, { status: 204 });
  };
  const passThrough: Provider = { ...provider, failureOf: () => null };
  let refusal: ProxyRefusal | null = null;
  try {
    const target = await resolveBaseUrl(resolution.workspaceIntegration.integrationName, provider, { overrides: config.providerBaseUrls, allowPrivateAddresses });
    await createSend({ provider: passThrough, baseUrl: target, secret: openConnectionSecret(credentials, resolution.connection), signal, allowPrivateAddresses, fetch: keepAnswer })({
      method,
      path: providerPath + query,
      headers: forwardedHeaders(req),
      ...(body.length ? { body: { raw: body, contentType: header(req, 'content-type') ?? 'application/octet-stream' } } : {}),
    });
  } catch (error) {
    if (error instanceof ProviderAddressRefusedError) return new ProxyRefusal('VALIDATION_ERROR', error.message);
    refusal = signal.aborted
      ? new ProxyRefusal('PROVIDER_TIMEOUT', `the provider did not answer within ${config.execution.timeoutMs} ms`)
      : new ProxyRefusal('PROVIDER_ERROR', error instanceof Error ? error.message : 'the provider could not be reached');
  }

  const usage = { ...usageOf(data, resolution), execution: true };
  const audit = auditInsertSql(principal, {
    action: 'proxy',
    outcome: refusal ? 'FAILURE' : 'SUCCESS',
    target: { type: 'Connection', id: encodeGlobalID('Connection', resolution.connection.id), organizationId: usage.organizationId, workspaceId: usage.workspaceId },
    details: {
      workspaceIntegration: resolution.workspaceIntegration.alias,
      source: resolution.source,
      method,
      path: providerPath.slice(0, 200),
      ...(upstream ? { status: upstream.status } : { code: refusal!.code }),
    },
  });
  await prisma.$executeRaw(resolutionUsageStatement(usage, audit));
  if (refusal || !upstream) return refusal ?? undefined;

  const headers: Record<string, string | string[]> = {};
  upstream.headers.forEach((value, name) => {
    // fetch decodes the body: its length changes with the encoding it drops.
    if (!DROPPED_RESPONSE.has(name) && !(name === 'content-length' && upstream!.headers.has('content-encoding'))) headers[name] = value;
  });
  res.writeHead(upstream.status, headers);
  if (!upstream.body) return void res.end();
  Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream).pipe(res);
}
