// The hosted connect endpoints, served beside /graphql (DESIGN.md §7):
//   GET  /connect/{token}            the page: OAuth2 consent, or the credentials form
//   POST /connect/{token}            the form, with its CSRF token
//   GET  /connect/{token}/authorize  starts the OAuth2 code flow with PKCE (S256) and a single-use state
//   GET  /connect/callback           the provider's redirect: exchanges the code, stores the connection
// Every request is rate limited per client address (and per token where there
// is one). No response, log line or event carries the token, the state, the
// code or a secret; unknown, used and expired links get a plain 404/410 page.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { authFields, getIntegration } from '../catalog/catalog.js';
import { hashToken, randomToken } from '../../platform/crypto/tokens.js';
import {
  CONNECT_ERRORS,
  CONNECT_TOKEN_PREFIX,
  connectFormSchema,
  secretFromForm,
  STATE_TTL_MS,
  type HostedAuthType,
} from './connect.rules.js';
import { endpointsOf, clientCredentialsOf } from '../oauth/oauth-app.rules.js';
import { authorizationRequestUrl, newCodeVerifier } from '../oauth/authorization-request.js';
import { DEFAULT_REFRESH_TIMEOUT_MS } from '../oauth/token-refresher.js';
import { errorCode, requestCodeExchange } from '../oauth/token-endpoint.js';
import type { Services } from '../common/context.js';
import {
  BodyTooLargeError,
  browserBinding,
  browserHash,
  clientAddress,
  csrfToken,
  readBrowserSecret,
  readForm,
  sameSecret,
  sendPage,
  sendRedirect,
} from './http.js';
import { consentPage, endedPage, ERROR_PAGES, formPage, type FormState, type Page } from './pages.js';
import { createRateLimiter } from './rate-limit.js';
import {
  availability,
  codeVerifierOf,
  fail,
  findSessionByState,
  findSessionByToken,
  oauthAppFor,
  returnUrl,
  SessionClosedError,
  succeed,
  type SessionView,
} from './connect-session.service.js';
import { callbackUrl, CONNECT_PATH } from './urls.js';

const MAX_FORM_BYTES = 256 * 1024;
const TOKEN_PATTERN = new RegExp(`^${CONNECT_TOKEN_PREFIX}[\\w-]{43}$`);
const CALLBACK = z.object({
  state: z.string().min(1).max(512),
  code: z.string().min(1).max(4096).optional(),
  error: z.string().min(1).max(512).optional(),
});

export type ConnectHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createConnectHandler(services: Services): ConnectHandler {
  const { config, logger } = services;
  const perAddress = createRateLimiter('address', { points: config.connect.ipRatePerMinute, seconds: 60 }, services.pubsub.redis);
  const perToken = createRateLimiter('token', { points: config.connect.tokenRatePerMinute, seconds: 60 }, services.pubsub.redis);

  /** An error page, or the flow's own response. */
  type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

  const tooMany = (res: ServerResponse, retryAfter: number) =>
    sendPage(res, ERROR_PAGES.tooManyRequests(), { headers: { 'retry-after': String(retryAfter) } });

  /** The session a token names, or the page that explains why there is none to use. */
  async function openSession(token: string): Promise<SessionView | Page> {
    const session = TOKEN_PATTERN.test(token) ? await findSessionByToken(services, hashToken(token)) : null;
    if (!session) return ERROR_PAGES.notFound();
    const state = availability(session);
    if (state === 'used') return ERROR_PAGES.used();
    if (state === 'expired') return ERROR_PAGES.expired();
    return session;
  }

  const names = (session: SessionView) => ({
    organization: session.organization.name,
    integration: getIntegration(session.integrationName)?.displayName ?? session.integrationName,
  });
  const formFields = (session: SessionView) => authFields(getIntegration(session.integrationName)!, session.authType);

  async function showPage(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const session = await openSession(token);
    if (!('id' in session)) return sendPage(res, session);
    const frameAncestors = session.workspace.connectFrameAncestors;
    if (session.authType === 'OAUTH2') {
      const app = await oauthAppFor(services, session);
      if (!app) return sendPage(res, ERROR_PAGES.unavailable());
      const endpoints = endpointsOf(app);
      const page = consentPage({
        ...names(session),
        scopes: endpoints.scopes,
        providerHost: new URL(endpoints.authorizationUrl).host,
        // Relative, so a path prefix in HEDDLE_PUBLIC_URL keeps working.
        authorizeHref: `${token}/authorize`,
      });
      return sendPage(res, page, { frameAncestors });
    }
    const binding = browserBinding(req, services.publicUrl());
    // The latest page view owns the form: a link scanner's earlier visit does not lock the end user out.
    await services.prisma.connectSession.update({ where: { id: session.id }, data: { browserHash: browserHash(binding.secret) } });
    const page = formPage({ ...names(session), fields: formFields(session), csrf: csrfToken(binding.secret) });
    return sendPage(res, page, { frameAncestors, headers: binding.setCookie ? { 'set-cookie': binding.setCookie } : {} });
  }

  async function startAuthorization(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const session = await openSession(token);
    if (!('id' in session)) return sendPage(res, session);
    if (session.authType !== 'OAUTH2') return sendPage(res, ERROR_PAGES.notFound());
    const app = await oauthAppFor(services, session);
    if (!app) return sendPage(res, ERROR_PAGES.unavailable());
    const binding = browserBinding(req, services.publicUrl());
    const state = randomToken('', 32);
    const codeVerifier = newCodeVerifier();
    const sealed = services.credentials.seal({ organizationId: session.organizationId, connectSessionId: session.id }, { codeVerifier });
    // A new start replaces an earlier one's state: only the latest attempt can come back.
    const started = await services.prisma.connectSession.updateMany({
      where: { id: session.id, status: 'PENDING' },
      data: {
        browserHash: browserHash(binding.secret),
        stateHash: hashToken(state),
        stateExpiresAt: new Date(Date.now() + STATE_TTL_MS),
        stateUsedAt: null,
        ...sealed,
      },
    });
    if (started.count !== 1) return sendPage(res, ERROR_PAGES.used());
    const location = authorizationRequestUrl(endpointsOf(app), {
      clientId: app.clientId,
      redirectUri: callbackUrl(services.publicUrl()),
      state,
      codeVerifier,
    });
    sendRedirect(res, location, binding.setCookie ? { 'set-cookie': binding.setCookie } : {});
  }

  async function submitForm(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const form = await readForm(req, MAX_FORM_BYTES);
    if (!form) return sendPage(res, ERROR_PAGES.badRequest());
    const session = await openSession(token);
    if (!('id' in session)) return sendPage(res, session);
    if (session.authType === 'OAUTH2') return sendPage(res, ERROR_PAGES.methodNotAllowed(), { headers: { allow: 'GET' } });
    const secret = readBrowserSecret(req);
    const csrf = form.get('csrf') ?? '';
    if (!secret || !session.browserHash || !sameSecret(browserHash(secret), session.browserHash) || !sameSecret(csrfToken(secret), csrf)) {
      return sendPage(res, ERROR_PAGES.otherBrowser());
    }
    const fields = formFields(session);
    const values = Object.fromEntries(fields.map((field) => [field.name, form.get(field.name) ?? '']));
    const parsed = connectFormSchema(fields).safeParse(values);
    const frameAncestors = session.workspace.connectFrameAncestors;
    if (!parsed.success) {
      const state: FormState = {
        values: Object.fromEntries(fields.filter((field) => !field.secret).map((field) => [field.name, values[field.name]!])),
        errors: fields.flatMap((field) => {
          const issue = parsed.error.issues.find((i) => i.path[0] === field.name);
          return issue ? [{ field: field.name, message: issue.message }] : [];
        }),
      };
      return sendPage(res, formPage({ ...names(session), fields, csrf, state }), { frameAncestors });
    }
    let connectionId: string;
    try {
      const type = session.authType as Exclude<HostedAuthType, 'OAUTH2'>;
      connectionId = (await succeed(services, session, { type, secret: secretFromForm(fields, parsed.data), expiresAt: null, oauthAppId: null })).id;
    } catch (error) {
      if (error instanceof SessionClosedError) return sendPage(res, ERROR_PAGES.used());
      throw error;
    }
    sendPage(res, endedPage({ ...names(session), connected: true, returnTo: returnUrl(session, { connectionId }) }), { frameAncestors });
  }

  async function callback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = CALLBACK.safeParse(Object.fromEntries(new URL(req.url ?? '', 'http://heddle').searchParams));
    if (!query.success) return sendPage(res, ERROR_PAGES.badRequest());
    const { state, code, error } = query.data;
    const session = await findSessionByState(services, hashToken(state));
    if (!session) return sendPage(res, ERROR_PAGES.notFound());
    if (session.stateUsedAt || session.status !== 'PENDING') return sendPage(res, ERROR_PAGES.used());
    // Only the browser that started the flow may finish it (no login CSRF); the state stays usable for it.
    const secret = readBrowserSecret(req);
    if (!secret || !session.browserHash || !sameSecret(browserHash(secret), session.browserHash)) return sendPage(res, ERROR_PAGES.otherBrowser());
    const consumed = await services.prisma.connectSession.updateMany({
      where: { id: session.id, stateHash: session.stateHash, stateUsedAt: null, status: 'PENDING' },
      data: { stateUsedAt: new Date() },
    });
    if (consumed.count !== 1) return sendPage(res, ERROR_PAGES.used());

    const endWith = async (reason: string) => {
      if (!(await fail(services, session, reason))) return sendPage(res, ERROR_PAGES.used());
      sendBack(res, session, { error: reason });
    };
    if (!session.stateExpiresAt || session.stateExpiresAt <= new Date()) return endWith(CONNECT_ERRORS.SESSION_EXPIRED);
    if (error) return endWith(errorCode(error));
    if (!code) return endWith('invalid_request');
    const app = await oauthAppFor(services, session);
    const codeVerifier = codeVerifierOf(services, session);
    if (!app || !codeVerifier) return endWith(CONNECT_ERRORS.OAUTH_APP_MISSING);

    const endpoints = endpointsOf(app);
    const tokens = await requestCodeExchange(
      endpoints.tokenUrl,
      { code, codeVerifier, redirectUri: callbackUrl(services.publicUrl()), ...clientCredentialsOf(services.credentials, app) },
      DEFAULT_REFRESH_TIMEOUT_MS,
    );
    if (!tokens.ok) {
      logger.warn({ workspaceId: session.workspaceId, integration: session.integrationName, reason: tokens.reason }, 'connect: code exchange failed');
      return endWith(CONNECT_ERRORS.TOKEN_EXCHANGE_FAILED);
    }
    let connectionId: string;
    try {
      const secretOf = { accessToken: tokens.accessToken, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) };
      connectionId = (await succeed(services, session, { type: 'OAUTH2', secret: secretOf, expiresAt: tokens.expiresAt, oauthAppId: app.id })).id;
    } catch (caught) {
      if (caught instanceof SessionClosedError) return sendPage(res, ERROR_PAGES.used());
      throw caught;
    }
    sendBack(res, session, { connectionId });
  }

  /** The end of an OAuth2 flow: straight back to redirectUrl, or a page when its origin is no longer allowed. */
  function sendBack(res: ServerResponse, session: SessionView, outcome: { connectionId: string } | { error: string }): void {
    const url = returnUrl(session, outcome);
    if (url) return sendRedirect(res, url);
    sendPage(res, endedPage({ ...names(session), connected: 'connectionId' in outcome, returnTo: null }), {
      frameAncestors: session.workspace.connectFrameAncestors,
    });
  }

  /** Picks the route; null when none matches the path. */
  function route(method: string, path: string): { handler: Route; token?: string; allow: string } | null {
    if (path === `${CONNECT_PATH}/callback`) return { handler: callback, allow: 'GET' };
    const match = /^\/connect\/([^/]+)(\/authorize)?$/.exec(path);
    if (!match) return null;
    const token = match[1]!;
    if (match[2]) return { handler: (req, res) => startAuthorization(req, res, token), token, allow: 'GET' };
    return { handler: method === 'POST' ? (req, res) => submitForm(req, res, token) : (req, res) => showPage(req, res, token), token, allow: 'GET, POST' };
  }

  return (req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    const matched = route(method, path);
    // Never the path or query: they carry the token, the state and the code.
    res.once('finish', () => logger.debug({ connect: matched ? (matched.token ? 'session' : 'callback') : 'unknown', method, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'connect request'));

    const limitedThenHandled = async () => {
      const addressWait = await perAddress.hit(clientAddress(req, config.connect.trustProxyHops));
      if (addressWait) return tooMany(res, addressWait);
      if (!matched) return sendPage(res, ERROR_PAGES.notFound());
      if (!matched.allow.split(', ').includes(method)) return sendPage(res, ERROR_PAGES.methodNotAllowed(), { headers: { allow: matched.allow } });
      const tokenWait = matched.token ? await perToken.hit(hashToken(matched.token)) : 0;
      if (tokenWait) return tooMany(res, tokenWait);
      await matched.handler(req, res);
    };
    limitedThenHandled().catch((error: unknown) => {
      if (error instanceof BodyTooLargeError) return sendPage(res, ERROR_PAGES.tooLarge());
      logger.error({ err: error }, 'connect request failed');
      if (!res.headersSent) sendPage(res, ERROR_PAGES.failed());
      else res.end();
    });
  };
}
