// Hosted connect in a real browser (issue #11, acceptance 1, 2 and 4): headless
// Chromium opens the connect URL, signs in and approves (or refuses) at a real
// OAuth2 authorization server on loopback, or fills in the credentials form by
// keyboard, and lands back on the host product. The pages load nothing from
// another host, log no console error, and pass axe-core's WCAG A/AA checks.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { nextWhere, startTestApp, subscribeWs, type TestApp } from '../support/app.js';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { describeWithChromium, launchChromium } from '../support/browser.js';
import { seedConnectWorld, type ConnectWorld } from '../support/connect.js';
import { repeatUntilHeard } from '../support/events.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const Resolve = graphql(`
  mutation BrResolve($input: ResolveConnectionInput!) {
    resolveConnection(input: $input) {
      __typename
      ... on ConnectionResolution { source connection { id type scope status } endUser { externalId } }
      ...ErrorFields
    }
  }
`);
const EndUser = graphql(`
  query BrEndUser($ws: ID!, $externalId: String!) { workspace(id: $ws) { endUser(externalId: $externalId) { id connections(first: 5) { totalCount } } } }
`);
const SessionCompleted = graphql(`
  subscription BrCompleted($ws: ID!) { connectSessionCompleted(workspaceId: $ws) { status error externalId connection { id } } }
`);
const StatusChanged = graphql(`subscription BrStatus($ws: ID!) { connectionStatusChanged(workspaceId: $ws) { id status } }`);

describeWithChromium('hosted connect in Chromium', () =>
  describeEachBackend(
    'hosted connect in Chromium',
    (backend) => {
      let t: TestApp;
      let w: ConnectWorld;
      let browser: Browser;
      let heddle: string;

      beforeAll(async () => {
        t = await startTestApp(backend);
        w = await seedConnectWorld(t, { slug: 'browser', clientSecret: 'browser-client-secret' });
        heddle = new URL(t.app.services.publicUrl()).origin;
        browser = await launchChromium();
      }, 60_000);
      afterAll(async () => {
        await browser?.close();
        await w?.close();
        await t?.stop();
      });

      /** A fresh browser profile whose console errors on Heddle's pages are collected. */
      async function open(options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
        const context = await browser.newContext(options);
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error' && page.url().startsWith(heddle)) errors.push(message.text());
        });
        page.on('pageerror', (error) => errors.push(error.message));
        return { context, page, errors };
      }

      const landedOn = async (page: Page) => {
        await page.waitForURL((url) => url.origin === w.host.origin, { timeout: 15_000 });
        await expect.poll(() => page.locator('h1').textContent()).toBe('Back in Acme');
        return new URL(page.url());
      };

      test('OAuth2: open the link, sign in and approve at the provider, land on redirectUrl with success; the subscriber hears it', async () => {
        const client = t.wsClient(w.apiKey);
        const completed = subscribeWs(client, SessionCompleted, { ws: w.workspaceId });
        const status = subscribeWs(client, StatusChanged, { ws: w.workspaceId });
        // Both replay nothing: probe sessions complete until both hear one, so they are in place.
        await repeatUntilHeard(Promise.all([completed.next(), status.next()]), () => w.completeProbeSession());
        const { url } = await w.session({ externalId: 'alice', integration: 'gmail' });
        const { context, page, errors } = await open();

        await page.goto(url);
        await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Connect your Gmail account');
        expect(await page.locator('main').textContent()).toContain('Org browser is asking for access to your Gmail account');
        await page.getByRole('link', { name: 'Continue to Gmail' }).click();
        // The provider's own sign-in and consent pages.
        await page.locator('input[name="login"]').fill('alice');
        await page.locator('input[name="password"]').fill('correct horse');
        await page.getByRole('button', { name: 'Sign-in' }).click();
        await page.getByRole('button', { name: 'Continue' }).click();

        const landed = await landedOn(page);
        expect(landed.searchParams.get('status')).toBe('success');
        const connectionId = landed.searchParams.get('connectionId')!;
        expect(errors).toEqual([]);
        await context.close();

        const endUser = await t.request(EndUser, { ws: w.workspaceId, externalId: 'alice' }, w.apiKey);
        expect(endUser.data?.workspace?.endUser).toMatchObject({ connections: { totalCount: 1 } });
        const resolved = await t.request(Resolve, { input: { workspaceId: w.workspaceId, integration: 'gmail', externalId: 'alice' } }, w.apiKey);
        expect(resolved.data?.resolveConnection).toMatchObject({
          source: 'USER',
          endUser: { externalId: 'alice' },
          connection: { id: connectionId, type: 'OAUTH2', scope: 'USER', status: 'ACTIVE' },
        });
        const aliceCompleted = await nextWhere(completed, (result) => result.data?.connectSessionCompleted.externalId !== 'probe');
        expect(aliceCompleted.data?.connectSessionCompleted).toEqual({ status: 'SUCCEEDED', error: null, externalId: 'alice', connection: { id: connectionId } });
        const aliceStatus = await nextWhere(status, (result) => result.data?.connectionStatusChanged.id === connectionId);
        expect(aliceStatus.data?.connectionStatusChanged).toEqual({ id: connectionId, status: 'ACTIVE' });
        completed.stop();
        status.stop();
      });

      test('OAuth2: cancelling at the provider lands on redirectUrl with access_denied and stores nothing', async () => {
        const { url } = await w.session({ externalId: 'bob', integration: 'gmail' });
        const { context, page, errors } = await open();
        await page.goto(url);
        await page.getByRole('link', { name: 'Continue to Gmail' }).click();
        await page.locator('input[name="login"]').fill('bob');
        await page.locator('input[name="password"]').fill('x');
        await page.getByRole('button', { name: 'Sign-in' }).click();
        await page.getByRole('link', { name: '[ Cancel ]' }).click();
        const landed = await landedOn(page);
        expect(Object.fromEntries(landed.searchParams)).toMatchObject({ status: 'error', error: 'access_denied' });
        expect(errors).toEqual([]);
        await context.close();
        expect((await t.request(EndUser, { ws: w.workspaceId, externalId: 'bob' }, w.apiKey)).data?.workspace?.endUser).toBeNull();
      });

      test('SECRET_TEXT: the form, by keyboard only, stores the key and lands on redirectUrl with success', async () => {
        const { url } = await w.session({ externalId: 'carol', integration: 'stripe' });
        const { context, page, errors } = await open();
        await page.goto(url);
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('apiKey');
        await page.keyboard.type('sk_live_from_the_keyboard');
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Connect Stripe');
        await page.keyboard.press('Enter');
        const landed = await landedOn(page);
        expect(landed.searchParams.get('status')).toBe('success');
        expect(errors).toEqual([]);
        await context.close();
        const resolved = await t.request(Resolve, { input: { workspaceId: w.workspaceId, integration: 'stripe', externalId: 'carol' } }, w.apiKey);
        expect(resolved.data?.resolveConnection).toMatchObject({
          source: 'USER',
          connection: { id: landed.searchParams.get('connectionId'), type: 'SECRET_TEXT', status: 'ACTIVE' },
        });
      });

      test('every page loads with other hosts blocked, asks none of them for anything, and logs no console error', async () => {
        const pages = [
          (await w.session({ externalId: 'dave', integration: 'gmail' })).url,
          (await w.session({ externalId: 'dave', integration: 'jira' })).url,
          `${t.app.services.publicUrl()}/connect/hcs_${'x'.repeat(43)}`,
        ];
        for (const url of pages) {
          const { context, page, errors } = await open();
          const elsewhere: string[] = [];
          await context.route('**/*', (route) => {
            if (new URL(route.request().url()).origin === heddle) return route.continue();
            elsewhere.push(route.request().url());
            return route.abort('blockedbyclient');
          });
          const response = await page.goto(url);
          const gone = url.includes('x'.repeat(43));
          expect(response?.status()).toBe(gone ? 404 : 200);
          await expect.poll(() => page.getByRole('heading', { level: 1 }).isVisible()).toBe(true);
          expect(elsewhere, url).toEqual([]);
          // Chromium reports a 404 document itself; nothing else may appear.
          expect(errors, url).toEqual(gone ? ['Failed to load resource: the server responded with a status of 404 (Not Found)'] : []);
          await context.close();
        }
      });

      test('accessible (axe-core WCAG 2.1 A/AA and best practices) and responsive on a phone-sized screen', async () => {
        const pages = {
          oauth: (await w.session({ externalId: 'erin', integration: 'gmail' })).url,
          form: (await w.session({ externalId: 'erin', integration: 'jira' })).url,
          gone: `${t.app.services.publicUrl()}/connect/hcs_${'y'.repeat(43)}`,
        };
        // Bypassing the page's CSP only to inject axe itself.
        const { context, page } = await open({ bypassCSP: true, viewport: { width: 360, height: 740 } });
        for (const [name, url] of Object.entries(pages)) {
          await page.goto(url);
          if (name === 'form') {
            // With its error summary showing, too.
            await page.getByRole('button', { name: 'Connect Jira' }).evaluate((button) => button.closest('form')!.noValidate = true);
            await page.getByRole('button', { name: 'Connect Jira' }).click();
            await expect.poll(() => page.getByRole('alert').isVisible()).toBe(true);
          }
          await page.addScriptTag({ content: AXE_SOURCE });
          const violations = await page.evaluate(async () => {
            const axe = (window as unknown as { axe: { run(options: object): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }).axe;
            const result = await axe.run({ runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
            return result.violations.map((violation) => `${violation.id} (${violation.nodes.length})`);
          });
          expect(violations, name).toEqual([]);
          expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${name} scrolls sideways`).toBe(true);
        }
        await context.close();
      });
    },
    ALL_BACKENDS.filter((backend) => backend.database === 'pglite' || backend.pubsub === 'redis'),
  ),
);
