// The OAuth2 token endpoint: form-encoded POSTs for the authorization_code
// grant (RFC 6749 §4.1.3, with the PKCE verifier of RFC 7636 §4.5) and the
// refresh_token grant (§6). Client credentials, when there are any, go in the
// body (§2.3.1), which the catalog's providers accept. Failures become a short
// reason that names no secret: it is stored as a connection's statusReason or
// logged.

export type TokenResult =
  | { ok: true; accessToken: string; refreshToken: string | null; expiresAt: Date | null }
  /** `error`: the provider's error code (§5.2), when it sent one. */
  | { ok: false; reason: string; error: string | null };

export interface ClientCredentials {
  clientId?: string;
  clientSecret?: string;
}

export interface RefreshGrant extends ClientCredentials {
  refreshToken: string;
}

export interface AuthorizationCodeGrant extends ClientCredentials {
  code: string;
  redirectUri: string;
  codeVerifier: string;
}

export function requestTokenRefresh(tokenUrl: string, grant: RefreshGrant, timeoutMs: number): Promise<TokenResult> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken });
  return requestToken(tokenUrl, form, grant, timeoutMs, 'token refresh failed');
}

export function requestCodeExchange(tokenUrl: string, grant: AuthorizationCodeGrant, timeoutMs: number): Promise<TokenResult> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: grant.code,
    redirect_uri: grant.redirectUri,
    code_verifier: grant.codeVerifier,
  });
  return requestToken(tokenUrl, form, grant, timeoutMs, 'authorization code exchange failed');
}

async function requestToken(
  tokenUrl: string,
  form: URLSearchParams,
  client: ClientCredentials,
  timeoutMs: number,
  failure: string,
): Promise<TokenResult> {
  const fail = (why: string, error: string | null = null): TokenResult => ({ ok: false, reason: `${failure}: ${why}`, error });
  if (client.clientId) form.set('client_id', client.clientId);
  if (client.clientSecret) form.set('client_secret', client.clientSecret);
  let status: number;
  let body: Record<string, unknown>;
  try {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    body = parseBody(response.headers.get('content-type'), await response.text());
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return fail(`no answer within ${timeoutMs} ms`);
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    return fail(`network error${typeof code === 'string' ? ` (${errorCode(code)})` : ''}`);
  }
  // Some providers (Slack) answer errors with 200 and `ok: false`.
  const error = typeof body.error === 'string' ? errorCode(body.error) : null;
  if (status < 200 || status >= 300) return fail(`HTTP ${status}${error ? ` (${error})` : ''}`, error);
  if (error || body.ok === false) return fail(error ?? 'the token endpoint refused', error);
  if (typeof body.access_token !== 'string' || body.access_token === '') return fail('the response has no access_token');
  const expiresIn = Number(body.expires_in);
  return {
    ok: true,
    accessToken: body.access_token,
    // A rotated refresh token replaces the old one; otherwise the old one stays valid (§6).
    refreshToken: typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : null,
    expiresAt: body.expires_in != null && Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null,
  };
}

/** JSON (§5.1), or form-encoded as some providers still answer; anything else is an empty body. */
function parseBody(contentType: string | null, text: string): Record<string, unknown> {
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Error codes are ASCII words (§5.2); anything else from the wire is cut down to that. */
export function errorCode(value: string): string {
  return value.replace(/[^\w.-]/g, '').slice(0, 64) || 'error';
}
