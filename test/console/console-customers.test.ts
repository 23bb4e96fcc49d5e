import { expect, it, vi } from 'vitest';
import {
  browserSuite,
  expectAccessible,
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

  it('signs out and forgets the token', async () => {
    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await tab.page.getByLabel('API token').waitFor();
    expect(await tab.page.evaluate(() => sessionStorage.getItem('customers-console.session'))).toBeNull();
    expect(tab.problems).toEqual([]);
  });
});
