import { expect, it, vi } from 'vitest';
import { createUserWithCli } from '../helpers/oauth.js';
import { browserSuite, expectAccessible, openConsole, openCustomersNewestFirst, screenshot } from './browser.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const PASSWORD = 'correct horse battery staple';
const SESSION_KEY = 'customers-console.session';

/**
 * "Sign in" on the console's first screen: our own authorization-code + PKCE flow, the console being the built-in
 * public client `customers-console`, in a real browser, ending on the customers of the user's organization.
 */
await browserSuite(
  'console: sign in through OAuth (chromium)',
  (backend) => {
    const tab = openConsole(backend, { customers: 120 });

    it('signs in with an account, consents, and lands on the customers with a token kept in this tab only', async () => {
      const created = await createUserWithCli(
        tab.app.server,
        [
          '--email',
          'operator@example.com',
          '--org',
          tab.app.org,
          '--scopes',
          'customers:read,customers:write,webhooks:manage',
        ],
        PASSWORD,
      );
      expect(created.code, created.stderr).toBe(0);

      await tab.page.goto(tab.app.url());
      await tab.page.getByRole('button', { name: 'Sign in' }).click();
      // Our /authorize page, on the same origin, naming the console as the client.
      await tab.page.waitForURL((url) => url.pathname === '/authorize');
      const authorize = new URL(tab.page.url());
      expect(authorize.searchParams.get('client_id')).toBe('customers-console');
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize.searchParams.get('redirect_uri')).toBe(tab.app.url('/console/callback'));
      await screenshot(tab.page, `${backend.name}-oauth-sign-in`);

      await tab.page.getByLabel('Email').fill('Operator@Example.com');
      await tab.page.getByLabel('Password').fill(PASSWORD);
      await tab.page.getByRole('button', { name: 'Sign in' }).click();
      await tab.page.getByRole('button', { name: 'Allow' }).waitFor();
      await screenshot(tab.page, `${backend.name}-oauth-consent`);
      await tab.page.getByRole('button', { name: 'Allow' }).click();

      // Back in the console: the code is exchanged and leaves neither the address bar nor the history.
      await tab.page.getByRole('navigation', { name: 'Main' }).waitFor();
      await openCustomersNewestFirst(tab);
      await expectAccessible(tab.page, 'customers after OAuth sign-in');
      await screenshot(tab.page, `${backend.name}-oauth-customers`);

      const stored = await tab.page.evaluate((key) => {
        return {
          session: sessionStorage.getItem(key),
          local: Object.keys(localStorage),
          url: location.href,
          historyLength: history.length,
        };
      }, SESSION_KEY);
      expect(stored.url).not.toMatch(/[?&](code|state)=/);
      expect(stored.local).toEqual([]);
      const session = JSON.parse(stored.session!) as { token: string; source: string; scopes: string[] };
      expect(session.source).toBe('oauth');
      expect(session.scopes).toEqual(expect.arrayContaining(['customers:read', 'customers:write']));
      // The access token the browser holds is a working bearer token for the user's organization, and only it.
      const read = await tab.app.server.request('GET', `/organizations/${tab.app.org}/customers?limit=1`, {
        token: session.token,
      });
      expect(read.status).toBe(200);
      const other = await tab.app.server.createOrganization('Not the user’s');
      const refused = await tab.app.server.request('GET', `/organizations/${other.id}/customers?limit=1`, {
        token: session.token,
      });
      expect([403, 404]).toContain(refused.status);
    });

    it('signs out and forgets the token', async () => {
      await tab.page.getByRole('button', { name: 'Sign out' }).click();
      await tab.page.getByLabel('API token').waitFor();
      expect(await tab.page.evaluate((key) => sessionStorage.getItem(key), SESSION_KEY)).toBeNull();
      // A reload stays signed out: nothing else kept the token.
      await tab.page.reload();
      await tab.page.getByLabel('API token').waitFor();
      expect(tab.problems).toEqual([]);
    });
  },
  { backends: ['sqlite'] },
);
