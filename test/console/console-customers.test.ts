import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import {
  browserSuite,
  expectAccessible,
  forgetExpected,
  launchBrowser,
  screenshot,
  signInWithToken,
  startConsoleServer,
  watchProblems,
  type ConsoleServer,
} from './browser.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** Signing in and finding customers in the console, in a real browser against a real server with demo data. */
await browserSuite('console: sign in and customers (chromium)', (backend) => {
  let app: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    [app, browser] = await Promise.all([startConsoleServer(backend, 400), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC' });
    page = await context.newPage();
    problems = watchProblems(page);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.server.close();
  });

  it('refuses a wrong token with the API message and instance, then signs in with a pasted token', async () => {
    await page.goto(app.url());
    await expectAccessible(page, 'sign-in');
    await screenshot(page, `${backend.name}-sign-in`);
    await page.getByLabel('API token').fill('cat_not-a-real-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toMatch(/unknown or revoked/);
    await expect.poll(() => alert.textContent()).toMatch(/Instance [0-9A-Z]{26}/);
    // The refused token's 401 is the only failure the console may have logged.
    forgetExpected(problems, /status of 401/);

    await signInWithToken(page, app.url(), app.demo.writeToken);
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('customers-console.session'),
      local: Object.keys(localStorage),
      url: location.href,
    }));
    expect(JSON.parse(stored.session!)).toMatchObject({ token: app.demo.writeToken, source: 'pasted' });
    expect(stored.local).toEqual([]);
    expect(stored.url).not.toContain(app.demo.writeToken);
  });

  it('lists the customers, newest first, and pages in more as the table scrolls', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    const rows = page.locator('table.data-table tbody tr:not(.spacer)');
    await rows.first().waitFor();
    const newest = await app.server.request<{ firstName: string; lastName: string }[]>(
      'GET',
      `/organizations/${app.org}/customers?limit=1`,
      { token: app.demo.readToken },
    );
    await expect
      .poll(() => rows.first().locator('td').first().textContent())
      .toBe(`${newest.body[0]!.firstName} ${newest.body[0]!.lastName}`);
    await expect.poll(() => page.locator('.result-count').textContent()).toBe('100+ customers');
    // Virtualized: far fewer rows in the DOM than loaded.
    expect(await rows.count()).toBeLessThan(60);
    await expectAccessible(page, 'customers');
    await screenshot(page, `${backend.name}-customers`);

    for (let i = 0; i < 10; i++) await page.locator('.table-scroller').evaluate((el) => el.scrollBy(0, 100_000));
    await expect.poll(() => page.locator('.result-count').textContent(), { timeout: 20_000 }).toBe('400 customers');
  });

  it('searches by a name fragment as one types, and filters by chips', async () => {
    const target = (
      await app.server.request<{ id: string; firstName: string; lastName: string }[]>(
        'GET',
        `/organizations/${app.org}/customers?limit=1&sort=updated`,
        { token: app.demo.readToken },
      )
    ).body[0]!;
    const fragment = target.lastName.slice(1, 5).toLowerCase();
    await page.getByLabel('Search customers').fill(fragment);
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe(fragment);
    const names = page.locator('table.data-table tbody tr:not(.spacer) td:first-child');
    await expect
      .poll(async () => (await names.allTextContents()).includes(`${target.firstName} ${target.lastName}`))
      .toBe(true);
    for (const name of await names.allTextContents()) expect(name.toLowerCase()).toContain(fragment);

    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByLabel('Marketing').selectOption('true');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(() => page.getByRole('list', { name: 'Active filters' }).textContent())
      .toContain('Marketing: opted in');
    expect(new URL(page.url()).searchParams.get('hasAgreedToMarketing')).toBe('true');
    const expected = await app.server.request<{ id: string }[]>(
      'GET',
      `/organizations/${app.org}/customers?q=${encodeURIComponent(fragment)}&hasAgreedToMarketing=true`,
      { token: app.demo.readToken },
    );
    await expect.poll(() => names.count()).toBe(expected.body.length);
    await expectAccessible(page, 'customers (filtered)');
    await screenshot(page, `${backend.name}-customers-filtered`);
    await page.getByRole('button', { name: 'Remove filter Marketing: opted in' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('hasAgreedToMarketing')).toBeNull();
  });

  it('works on a 390-px-wide phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(app.url('/console/customers'));
    await page.locator('table.data-table tbody tr:not(.spacer)').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(page, 'customers (phone)');
    await screenshot(page, `${backend.name}-customers-phone`);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out and forgets the token', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('customers-console.session'))).toBeNull();
    expect(problems).toEqual([]);
  });
});
