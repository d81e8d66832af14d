// The OAuth2 refresh_token grant (RFC 6749 §6): a form-encoded POST to the
// token endpoint. Client credentials, when the connection has them, go in the
// body (§2.3.1), which the catalog's providers accept. Failures become a short
// reason that names no secret: it is stored as the connection's statusReason.

export type TokenRefreshResult =
  | { ok: true; accessToken: string; refreshToken: string | null; expiresAt: Date | null }
  | { ok: false; reason: string };

export interface RefreshGrant {
  refreshToken: string;
  clientId?: string;
  clientSecret?: string;
}

export async function requestTokenRefresh(tokenUrl: string, grant: RefreshGrant, timeoutMs: number): Promise<TokenRefreshResult> {
  const fail = (why: string): TokenRefreshResult => ({ ok: false, reason: `token refresh failed: ${why}` });
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken });
  if (grant.clientId) form.set('client_id', grant.clientId);
  if (grant.clientSecret) form.set('client_secret', grant.clientSecret);
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
  if (status < 200 || status >= 300) return fail(`HTTP ${status}${error ? ` (${error})` : ''}`);
  if (error || body.ok === false) return fail(error ?? 'the token endpoint refused');
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
function errorCode(value: string): string {
  return value.replace(/[^\w.-]/g, '').slice(0, 64) || 'error';
}
