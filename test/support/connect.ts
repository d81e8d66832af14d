// Hosted connect test world, built through the public API: an organization with
// a workspace whose integrations end users connect (gmail through OAuth2 against
// the loopback provider, stripe and jira through forms), an API key that creates
// sessions as a backend would, and the host product's page the browser returns to.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { graphql } from '../generated/index.js';
import type { TestApp } from './app.js';
import { seedApiKey, seedIntegration, seedOrganization, seedWorkspace } from './fixtures.js';
import { CookieJar } from './http-browser.js';
import { startOAuthProvider, type OAuthProvider } from './oauth-provider.js';

export const SetOAuthApp = graphql(`
  mutation CxSetOAuthApp($input: SetOAuthAppInput!) {
    setOAuthApp(input: $input) {
      __typename
      ... on OAuthApp { id integrationName clientId scopes authorizationUrl tokenUrl redirectUri }
      ...ErrorFields
    }
  }
`);
export const UpdateWorkspace = graphql(`
  mutation CxUpdateWorkspace($input: UpdateWorkspaceInput!) {
    updateWorkspace(input: $input) {
      __typename
      ... on Workspace { configVersion allowedRedirectOrigins connectFrameAncestors }
      ...ErrorFields
    }
  }
`);
export const CreateConnectSession = graphql(`
  mutation CxCreateSession($input: CreateConnectSessionInput!) {
    createConnectSession(input: $input) {
      __typename
      ... on CreatedConnectSession { url token expiresAt session { id status authType integrationName } }
      ...ErrorFields
      ... on AmbiguousIntegrationError { aliases }
    }
  }
`);

/** The host product: the page a session's redirectUrl points to, and every visit it got. */
export interface HostProduct {
  origin: string;
  redirectUrl: string;
  visits: URL[];
  close(): Promise<void>;
}

export async function startHostProduct(): Promise<HostProduct> {
  const visits: URL[] = [];
  const server: Server = createServer((req, res) => {
    visits.push(new URL(req.url ?? '/', origin));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html lang="en"><title>Acme</title><h1>Back in Acme</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    redirectUrl: `${origin}/integrations/connected?from=heddle`,
    visits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ConnectWorld {
  owner: string;
  /** An organization-wide API key: what a host product's backend uses. */
  apiKey: string;
  orgId: string;
  workspaceId: string;
  host: HostProduct;
  provider: OAuthProvider;
  /** Creates a session as the backend; fails the test on an error result. */
  session(input: { externalId: string; integration: string; expiresIn?: number; redirectUrl?: string }): Promise<{ url: string; token: string; sessionId: string }>;
  /**
   * A Stripe form session that end user `externalId` completes: the workspace's
   * connectSessionCompleted and connectionStatusChanged subscribers hear it. They
   * replay nothing, so this is how a test learns they are in place (repeatUntilHeard).
   */
  completeProbeSession(externalId?: string): Promise<void>;
  close(): Promise<void>;
}

export async function seedConnectWorld(t: TestApp, options: { slug: string; clientSecret: string }): Promise<ConnectWorld> {
  const owner = await t.memberToken(`owner@${options.slug}.test`);
  const orgId = await seedOrganization(t, owner, options.slug);
  const workspaceId = await seedWorkspace(t, owner, orgId, 'main');
  const apiKey = await seedApiKey(t, owner, { organizationId: orgId });
  for (const integrationName of ['gmail', 'stripe', 'jira']) {
    await seedIntegration(t, owner, { workspaceId, integrationName, alias: integrationName, connectionStrategy: 'PER_USER' });
  }
  const host = await startHostProduct();
  const settings = await t.request(UpdateWorkspace, { input: { id: workspaceId, allowedRedirectOrigins: [host.origin] } }, owner);
  if (settings.data?.updateWorkspace.__typename !== 'Workspace') throw new Error(`updateWorkspace: ${JSON.stringify(settings)}`);
  const publicUrl = t.app.services.publicUrl();
  const provider = await startOAuthProvider({ redirectUri: `${publicUrl}/connect/callback`, clientSecret: options.clientSecret });
  const app = await t.request(
    SetOAuthApp,
    {
      input: {
        organizationId: orgId,
        integrationName: 'gmail',
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        scopes: ['mail.read', 'mail.send', 'offline_access'],
        authorizationUrl: provider.authorizationUrl,
        tokenUrl: provider.tokenUrl,
      },
    },
    owner,
  );
  if (app.data?.setOAuthApp.__typename !== 'OAuthApp') throw new Error(`setOAuthApp: ${JSON.stringify(app)}`);
  const session: ConnectWorld['session'] = async (input) => {
    const result = await t.request(CreateConnectSession, { input: { workspaceId, redirectUrl: host.redirectUrl, ...input } }, apiKey);
    const created = result.data?.createConnectSession;
    if (created?.__typename !== 'CreatedConnectSession') throw new Error(`createConnectSession: ${JSON.stringify(result)}`);
    return { url: created.url, token: created.token, sessionId: created.session.id };
  };
  return {
    owner,
    apiKey,
    orgId,
    workspaceId,
    host,
    provider,
    session,
    async completeProbeSession(externalId = 'probe') {
      const { url } = await session({ externalId, integration: 'stripe' });
      const done = await submitConnectForm(url, { apiKey: 'sk_test_probe' });
      if (!(await done.text()).includes('status=success')) throw new Error(`the probe session did not succeed: ${done.status}`);
    },
    async close() {
      await Promise.all([host.close(), provider.close()]);
    },
  };
}

/**
 * Fills in and posts a form session's page the way a browser does (its cookie,
 * the page's CSRF token); returns the page Heddle answers with.
 */
export async function submitConnectForm(url: string, values: Record<string, string>, jar = new CookieJar()): Promise<Response> {
  const page = await jar.fetch(url);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (page.status !== 200 || !csrf) throw new Error(`the connect form did not load: ${page.status}`);
  return jar.fetch(url, new URLSearchParams({ csrf, ...values }));
}
