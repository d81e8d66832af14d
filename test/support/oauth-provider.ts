// A real OAuth2 authorization server on loopback for the hosted connect tests:
// oidc-provider (a certified OpenID Provider; its 8.x line supports Node 18 and
// later) with its development sign-in and consent pages, PKCE required, client
// authentication by client_secret_post, single-use codes and exact redirect
// URIs. Tests drive it through a browser, or over HTTP with `approve`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { CookieJar } from './http-browser.js';

export interface OAuthProvider {
  issuer: string;
  authorizationUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** What the token endpoint handed out, in order. */
  issued: { accessToken: string; refreshToken?: string }[];
  /**
   * Signs in as `login` and answers the consent page the way a person would
   * (over HTTP, without a browser); returns where the provider sends the
   * browser back (Heddle's callback with code or error, and state).
   */
  approve(authorizeUrl: string, options?: { login?: string; refuse?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startOAuthProvider(options: { redirectUri: string; clientSecret: string; scopes?: string[] }): Promise<OAuthProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'heddle-test-app';
  const scopes = options.scopes ?? ['mail.read', 'mail.send', 'offline_access'];
  // Its start-up notices about development-only defaults are expected here.
  const { warn, info } = console;
  console.warn = console.info = () => {};
  let provider: Provider;
  try {
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: options.clientSecret,
          redirect_uris: [options.redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      scopes,
      pkce: { required: () => true, methods: ['S256'] },
      issueRefreshToken: () => true,
      cookies: { keys: ['heddle-test-provider-cookie-key'] },
      findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
      ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, Interaction: 600, Session: 3600, RefreshToken: 86_400, IdToken: 3600 },
    });
  } finally {
    Object.assign(console, { warn, info });
  }
  const issued: OAuthProvider['issued'] = [];
  provider.on('grant.success', (ctx) => {
    const body = ctx.body as { access_token: string; refresh_token?: string };
    issued.push({ accessToken: body.access_token, refreshToken: body.refresh_token });
  });
  server.on('request', provider.callback());

  async function approve(authorizeUrl: string, { login = 'alice', refuse = false } = {}): Promise<string> {
    const jar = new CookieJar();
    // authorize → sign-in page → authorize again → consent page → authorize → callback
    let location = await jar.redirectOf(authorizeUrl);
    for (let step = 0; step < 6; step++) {
      const url = new URL(location, issuer);
      if (url.origin !== issuer) return url.toString();
      if (!url.pathname.startsWith('/interaction/')) {
        location = await jar.redirectOf(url.toString());
        continue;
      }
      const page = await jar.fetch(url.toString());
      const html = await page.text();
      const prompt = html.includes('name="login"') ? 'login' : 'consent';
      location =
        prompt === 'consent' && refuse
          ? await jar.redirectOf(`${url.toString()}/abort`)
          : await jar.redirectOf(url.toString(), new URLSearchParams({ prompt, login, password: 'any' }));
    }
    throw new Error('the provider did not send the browser back');
  }

  return {
    issuer,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    clientId,
    clientSecret: options.clientSecret,
    scopes,
    issued,
    approve,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
