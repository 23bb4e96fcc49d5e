import type { Page, Request, Route } from 'playwright-core';
import { expect, it, vi } from 'vitest';
import {
  browserSuite,
  expectAccessible,
  expectNewestFirst,
  forgetExpected,
  openConsole,
  openCustomersNewestFirst,
  screenshot,
  signInWithToken,
} from './browser.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** Signing in and finding customers in the console, in a real browser against a real server with demo data. */
await browserSuite('console: sign in and customers (chromium)', (backend) => {
  const tab = openConsole(backend, { customers: 400 });

  it('refuses a wrong token with the API message and instance, then signs in with a pasted token', async () => {
    await tab.page.goto(tab.app.url());
    await expectAccessible(tab.page, 'sign-in');
    await screenshot(tab.page, `${backend.name}-sign-in`);
    await tab.page.getByLabel('API token').fill('cat_not-a-real-token');
    await tab.page.getByRole('button', { name: 'Use token' }).click();
    const alert = tab.page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toMatch(/unknown or revoked/);
    await expect.poll(() => alert.textContent()).toMatch(/Instance [0-9A-Z]{26}/);
    // The refused token's 401 is the only failure the console may have logged.
    forgetExpected(tab.problems, /status of 401/);

    await signInWithToken(tab.page, tab.app.url(), tab.app.demo.writeToken);
    const stored = await tab.page.evaluate(() => ({
      session: sessionStorage.getItem('customers-console.session'),
      local: Object.keys(localStorage),
      url: location.href,
    }));
    expect(JSON.parse(stored.session!)).toMatchObject({ token: tab.app.demo.writeToken, source: 'pasted' });
    expect(stored.local).toEqual([]);
    expect(stored.url).not.toContain(tab.app.demo.writeToken);
  });

  it('lists the customers, newest first, and pages in more as the table scrolls', async () => {
    const rows = await openCustomersNewestFirst(tab);
    await expect.poll(() => tab.page.locator('.result-count').textContent()).toBe('100+ customers');
    // Virtualized: far fewer rows in the DOM than loaded.
    expect(await rows.count()).toBeLessThan(60);
    await expectAccessible(tab.page, 'customers');
    await screenshot(tab.page, `${backend.name}-customers`);

    for (let i = 0; i < 10; i++) await tab.page.locator('.table-scroller').evaluate((el) => el.scrollBy(0, 100_000));
    await expect.poll(() => tab.page.locator('.result-count').textContent(), { timeout: 20_000 }).toBe('400 customers');
  });

  it('searches by a name fragment as one types, and filters by chips', async () => {
    const target = (
      await tab.app.server.request<{ id: string; firstName: string; lastName: string }[]>(
        'GET',
        `/organizations/${tab.app.org}/customers?limit=1&sort=updated`,
        { token: tab.app.demo.readToken },
      )
    ).body[0]!;
    const fragment = target.lastName.slice(1, 5).toLowerCase();
    await tab.page.getByLabel('Search customers').fill(fragment);
    await expect.poll(() => new URL(tab.page.url()).searchParams.get('q')).toBe(fragment);
    const names = tab.page.locator('table.data-table tbody tr:not(.spacer) td:first-child');
    await expect
      .poll(async () => (await names.allTextContents()).includes(`${target.firstName} ${target.lastName}`))
      .toBe(true);
    for (const name of await names.allTextContents()) expect(name.toLowerCase()).toContain(fragment);

    await tab.page.getByRole('button', { name: 'Add filter' }).click();
    await tab.page.getByLabel('Marketing').selectOption('true');
    await tab.page.getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(() => tab.page.getByRole('list', { name: 'Active filters' }).textContent())
      .toContain('Marketing: opted in');
    expect(new URL(tab.page.url()).searchParams.get('hasAgreedToMarketing')).toBe('true');
    const expected = await tab.app.server.request<{ id: string }[]>(
      'GET',
      `/organizations/${tab.app.org}/customers?q=${encodeURIComponent(fragment)}&hasAgreedToMarketing=true`,
      { token: tab.app.demo.readToken },
    );
    await expect.poll(() => names.count()).toBe(expected.body.length);
    await expectAccessible(tab.page, 'customers (filtered)');
    await screenshot(tab.page, `${backend.name}-customers-filtered`);
    await tab.page.getByRole('button', { name: 'Remove filter Marketing: opted in' }).click();
    await expect.poll(() => new URL(tab.page.url()).searchParams.get('hasAgreedToMarketing')).toBeNull();
  });

  it("shows a customer's timeline from the feed: their payments and list memberships, back to their creation", async () => {
    const read = <T>(path: string) =>
      tab.app.server.request<T>('GET', `/organizations/${tab.app.org}${path}`, { token: tab.app.demo.readToken });
    const payment = (await read<{ customer?: { id: string } }[]>('/payments?limit=1')).body[0]!;
    const id = payment.customer!.id;
    const events = (await read<{ event: string }[]>(`/events?customerId=${id}&order=newest&limit=100`)).body;
    await tab.page.goto(tab.app.url(`/console/customers/${id}`));
    const lines = tab.page.getByRole('list', { name: 'Timeline' }).locator(':scope > li');
    await lines.first().waitFor();
    while ((await tab.page.getByRole('button', { name: 'Show more' }).count()) > 0) {
      const shown = await lines.count();
      await tab.page.getByRole('button', { name: 'Show more' }).click();
      await expect.poll(() => lines.count()).toBeGreaterThan(shown);
    }
    const texts = await lines.allTextContents();
    // Demo data records creations, memberships and payments: one line each, newest first, the creation last.
    expect(texts).toHaveLength(events.length);
    const count = (pattern: RegExp) => texts.filter((line) => pattern.test(line)).length;
    expect(count(/Paid \$/)).toBe(events.filter((e) => e.event === 'payment.completed').length);
    expect(count(/Added to list /)).toBe(events.filter((e) => e.event === 'customer-list.member-added').length);
    expect(count(/Paid \$/)).toBeGreaterThan(0);
    expect(texts.at(-1)).toMatch(/Customer created$/);
    await expectAccessible(tab.page, 'customer (demo timeline)');
  });

  it('works on a 390-px-wide phone', async () => {
    await tab.page.setViewportSize({ width: 390, height: 844 });
    await tab.page.goto(tab.app.url('/console/customers'));
    await tab.page.locator('table.data-table tbody tr:not(.spacer)').first().waitFor();
    const overflow = await tab.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(tab.page, 'customers (phone)');
    await screenshot(tab.page, `${backend.name}-customers-phone`);
    await tab.page.setViewportSize({ width: 1280, height: 800 });
  });

  /**
   * Loads /console/customers with `/organizations` held back until the first page request has gone out (or 5 s),
   * and returns the order of events: a console that waits for the organizations sends the page after their answer.
   */
  async function loadWithOrganizationsHeld(page: Page, firstPagePath: string): Promise<string[]> {
    const events: string[] = [];
    let asked!: () => void;
    const firstPageAsked = new Promise<void>((resolve) => (asked = resolve));
    const pathOf = (request: Request) => new URL(request.url()).pathname;
    const onRequest = (request: Request) => {
      if (pathOf(request) === '/organizations') events.push('request /organizations');
      if (pathOf(request) === firstPagePath) {
        events.push(`request ${firstPagePath}`);
        asked();
      }
    };
    page.on('request', onRequest);
    const hold = async (route: Route) => {
      await Promise.race([firstPageAsked, new Promise((resolve) => setTimeout(resolve, 5000))]);
      events.push('response /organizations');
      await route.continue();
    };
    const isOrganizations = (url: URL) => url.pathname === '/organizations';
    await page.route(isOrganizations, hold);
    try {
      await page.goto(tab.app.url('/console/customers'));
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
    } finally {
      await page.unroute(isOrganizations, hold);
      page.off('request', onRequest);
    }
    return events;
  }

  const setSessionOrganization = (organizationId: string | undefined) =>
    tab.page.evaluate((id) => {
      const session = JSON.parse(sessionStorage.getItem('customers-console.session')!) as Record<string, unknown>;
      sessionStorage.setItem('customers-console.session', JSON.stringify({ ...session, organizationId: id }));
    }, organizationId);

  it('asks for the first page of the organization it already knows alongside /organizations, not after', async () => {
    // The session names no organization; the tab remembers the one it showed last.
    await setSessionOrganization(undefined);
    expect(await tab.page.evaluate(() => sessionStorage.getItem('customers-console.organization'))).toBe(tab.app.org);
    const firstPage = `/organizations/${tab.app.org}/customers`;
    const events = await loadWithOrganizationsHeld(tab.page, firstPage);
    expect(events.indexOf(`request ${firstPage}`)).toBeGreaterThanOrEqual(0);
    expect(events.indexOf(`request ${firstPage}`)).toBeLessThan(events.indexOf('response /organizations'));
    await expectNewestFirst(tab);
    await expect.poll(() => tab.page.locator('.result-count').textContent()).toBe('100+ customers');
  });

  it("shows the early first page's error with the API's message and instance, and Try again reads it again", async () => {
    // The early request goes out with a sort the API refuses, so the real server answers with its error.
    const firstPage = `/organizations/${tab.app.org}/customers`;
    const isFirstPage = (url: URL) => url.pathname === firstPage;
    const refuse = (route: Route) => {
      const url = new URL(route.request().url());
      url.searchParams.set('sort', 'sideways');
      return route.continue({ url: url.toString() });
    };
    await tab.page.route(isFirstPage, refuse);
    const events = await loadWithOrganizationsHeld(tab.page, firstPage);
    expect(events.indexOf(`request ${firstPage}`)).toBeLessThan(events.indexOf('response /organizations'));
    const panel = tab.page.getByRole('main').getByRole('alert');
    await expect.poll(() => panel.textContent()).toMatch(/sort.*Instance [0-9A-Z]{26}/);
    await expectAccessible(tab.page, 'customers (first page error)');
    forgetExpected(tab.problems, /status of 400/);
    await tab.page.unroute(isFirstPage, refuse);
    await panel.getByRole('button', { name: 'Try again' }).click();
    await tab.page.locator('table.data-table tbody tr:not(.spacer)').first().waitFor();
  });

  it("drops the early request of an organization the token does not grant, and shows the token's first one", async () => {
    const stranger = '01JZZZZZZZZZZZZZZZZZZZZZZZ';
    await setSessionOrganization(stranger);
    const events = await loadWithOrganizationsHeld(tab.page, `/organizations/${stranger}/customers`);
    expect(events).toContain(`request /organizations/${stranger}/customers`);
    await tab.page.locator('table.data-table tbody tr:not(.spacer)').first().waitFor();
    expect(await tab.page.getByRole('alert').count()).toBe(0);
    expect(await tab.page.getByLabel('Organization').inputValue()).toBe(tab.app.org);
    // The stranger's refused first page is the only failure the console may have logged.
    forgetExpected(tab.problems, /status of (403|404)/);
    await setSessionOrganization(tab.app.org);
  });

  it('signs out and forgets the token', async () => {
    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await tab.page.getByLabel('API token').waitFor();
    expect(await tab.page.evaluate(() => sessionStorage.getItem('customers-console.session'))).toBeNull();
    expect(await tab.page.evaluate(() => sessionStorage.getItem('customers-console.organization'))).toBeNull();
    expect(tab.problems).toEqual([]);
  });
});
