import { beforeAll, expect, it, vi } from 'vitest';
import type { Customer, CustomerList } from '../../src/client/index.js';
import { browserSuite, expectAccessible, forgetExpected, openConsole, screenshot, signInWithToken } from './browser.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** The customer page and lists: edits with If-Match and a 412 resolved, points, memberships, segments, erasure. */
await browserSuite(
  'console: customer page and lists (chromium)',
  (backend) => {
    const tab = openConsole(backend, { customers: 200 });
    let customer: Customer;

    const api = <T>(method: string, path: string, body?: unknown) =>
      tab.app.server.request<T>(method, `/organizations/${tab.app.org}${path}`, {
        token: tab.app.demo.writeToken,
        body,
      });

    /** The customer page's timeline (from the feed) and the text of its lines, newest first. */
    const timeline = () => tab.page.getByRole('list', { name: 'Timeline' });
    const timelineLines = () => timeline().locator(':scope > li').allTextContents();
    const expectInTimeline = (pattern: RegExp) =>
      expect.poll(async () => (await timelineLines()).find((line) => pattern.test(line))).toBeDefined();

    beforeAll(async () => {
      customer = await tab.app.server.createCustomer(tab.app.org, {
        firstName: 'Zelda',
        lastName: 'Quixote',
        email: 'zelda.quixote@example.com',
      });
      await signInWithToken(tab.page, tab.app.url(), tab.app.demo.writeToken);
    });

    it('opens a customer found by search', async () => {
      await tab.page.goto(tab.app.url('/console/customers'));
      await tab.page.getByLabel('Search customers').fill('quix');
      await tab.page.getByRole('link', { name: 'Zelda Quixote' }).click();
      await tab.page.getByRole('heading', { name: 'Zelda Quixote', level: 1 }).waitFor();
      expect(new URL(tab.page.url()).pathname).toBe(`/console/customers/${customer.id}`);
      await tab.page.getByRole('table', { name: 'Payments' }).or(tab.page.getByText('No payments.')).waitFor();
      // A new customer's timeline is their one event so far.
      await expect.poll(timelineLines).toEqual([expect.stringMatching(/Customer created$/)]);
      await expectAccessible(tab.page, 'customer');
      await screenshot(tab.page, `${backend.name}-customer`);
    });

    it('edits the email; a change made meanwhile gives a 412 that shows both and applies the edit on top', async () => {
      await tab.page.getByRole('button', { name: 'Edit profile' }).click();
      await tab.page.getByLabel('Email').fill('zelda@quixote.example');
      // Someone else renames her while the form is open.
      expect((await api('PATCH', `/customers/${customer.id}`, { lastName: 'Quixote-Smith' })).status).toBe(200);
      await tab.page.getByRole('button', { name: 'Save', exact: true }).click();

      const conflict = tab.page.getByRole('alert').filter({ hasText: 'Someone else changed this customer' });
      await conflict.waitFor();
      const diff = conflict.getByRole('table');
      await expect.poll(() => diff.getByRole('row', { name: /Last name/ }).textContent()).toContain('Quixote-Smith');
      await expect
        .poll(() => diff.getByRole('row', { name: /Email/ }).textContent())
        .toContain('zelda@quixote.example');
      expect((await api<Customer>('GET', `/customers/${customer.id}`)).body.email).toBe('zelda.quixote@example.com');
      await expectAccessible(tab.page, 'customer (412 conflict)');
      await screenshot(tab.page, `${backend.name}-customer-conflict`);
      forgetExpected(tab.problems, /status of 412/);

      await conflict.getByRole('button', { name: 'Apply my change to the stored version' }).click();
      await tab.page.getByText('Saved.').waitFor();
      const stored = (await api<Customer>('GET', `/customers/${customer.id}`)).body;
      expect(stored).toMatchObject({ email: 'zelda@quixote.example', lastName: 'Quixote-Smith' });
      await tab.page.getByRole('heading', { name: 'Zelda Quixote-Smith', level: 1 }).waitFor();
      // Both changes are in the timeline, newest first, each diffed against the version before it.
      await expect
        .poll(timelineLines)
        .toEqual([
          expect.stringMatching(/Profile changed\s*Email: zelda\.quixote@example\.com → zelda@quixote\.example$/),
          expect.stringMatching(/Profile changed\s*Last name: Quixote → Quixote-Smith$/),
          expect.stringMatching(/Customer created$/),
        ]);
    });

    it('adjusts points and sees the statistics and the history change, then reverses it', async () => {
      const balance = tab.page.getByTestId('points-balance');
      expect(await balance.textContent()).toBe('0');
      await tab.page.getByLabel('Points to add (negative redeems)').fill('250');
      await tab.page.getByLabel('Notes').fill('welcome bonus');
      await tab.page.getByRole('button', { name: 'Adjust points' }).click();
      await expect.poll(() => balance.textContent()).toBe('250');
      const history = tab.page.getByRole('table', { name: 'Points history' });
      await expect.poll(() => history.locator('tbody tr').first().textContent()).toContain('welcome bonus');
      const entries = (await api<{ amount: number; reference: string }[]>('GET', `/customers/${customer.id}/points`))
        .body;
      expect(entries).toEqual([expect.objectContaining({ amount: 250, notes: 'welcome bonus' })]);

      await tab.page.getByLabel('Points to add (negative redeems)').fill('-50');
      await tab.page.getByRole('button', { name: 'Adjust points' }).click();
      await expect.poll(() => balance.textContent()).toBe('200');
      const redemption = (await api<{ amount: number; reference: string }[]>('GET', `/customers/${customer.id}/points`))
        .body[0]!;
      expect(redemption.amount).toBe(-50);
      await tab.page.getByRole('button', { name: `Reverse ${redemption.reference}` }).click();
      await expect.poll(() => balance.textContent()).toBe('250');
      expect((await api<Customer>('GET', `/customers/${customer.id}`)).body.statistics?.pointsBalance).toBe(250);
      await expect.poll(() => history.locator('tbody tr').count()).toBe(1);
      await expectInTimeline(
        /^.*Redemption of 50 points reversed\s*Points balance: 200 → 250\s*Points redeemed: 50 → 0$/,
      );
      const points = (await timelineLines())
        .slice(0, 3)
        .map((line) => /(Earned|Redeemed|Redemption)[^P]*points( reversed)?/.exec(line)?.[0]);
      expect(points).toEqual(['Redemption of 50 points reversed', 'Redeemed 50 points', 'Earned 250 points']);
      await screenshot(tab.page, `${backend.name}-customer-points`);
    });

    it('adds the customer to a list and removes them again', async () => {
      const lists = (await api<CustomerList[]>('GET', '/customer-lists')).body;
      const vip = lists.find((list) => list.name === 'VIP')!;
      await tab.page.getByLabel('Add to list').selectOption(vip.id);
      await tab.page.getByRole('button', { name: 'Add', exact: true }).click();
      await tab.page.getByRole('button', { name: 'Remove from VIP' }).waitFor();
      const members = (await api<{ id: string }[]>('GET', `/customer-lists/${vip.id}/members?limit=100`)).body;
      expect(members.map((m) => m.id)).toContain(customer.id);
      await tab.page.getByRole('button', { name: 'Remove from VIP' }).click();
      await tab.page.getByRole('button', { name: 'Remove from VIP' }).waitFor({ state: 'detached' });
      expect((await api<{ id: string }[]>('GET', `/customers/${customer.id}/memberships`)).body).toEqual([]);
      await expect
        .poll(async () => (await timelineLines()).slice(0, 2).map((line) => line.replace(/^.*?(Added|Removed)/, '$1')))
        .toEqual(['Removed from list VIP', 'Added to list VIP']);
      await timeline().scrollIntoViewIfNeeded();
      await expectAccessible(tab.page, 'customer (timeline)');
      await screenshot(tab.page, `${backend.name}-customer-timeline`);
    });

    it('sets and removes metadata', async () => {
      await tab.page.getByLabel('Key', { exact: true }).fill('tier');
      await tab.page.getByLabel('Value', { exact: true }).fill('gold');
      await tab.page.getByRole('button', { name: 'Set' }).click();
      await tab.page.getByRole('button', { name: 'Remove tier' }).waitFor();
      expect((await api<Customer>('GET', `/customers/${customer.id}`)).body.metadata).toEqual({ tier: 'gold' });
    });

    it('pages the timeline: the latest 20 events, older ones with Show more, down to the creation', async () => {
      for (let i = 0; i < 15; i++)
        expect((await api('PATCH', `/customers/${customer.id}`, { metadata: { visit: String(i) } })).status).toBe(200);
      await tab.page.reload();
      await expect.poll(async () => (await timelineLines()).length).toBe(20);
      expect((await timelineLines())[0]).toMatch(/Profile changed\s*Metadata visit: 13 → 14$/);
      // The oldest line of the page has its older statistics on the next page: it says so, and is diffed once loaded.
      expect((await timelineLines())[19]).toMatch(
        /Points changed\s*Points balance: … → 200\s*Show more to see the change\.$/,
      );
      await tab.page.getByRole('button', { name: 'Show more' }).click();
      await expect.poll(async () => (await timelineLines()).at(-1)).toMatch(/Customer created$/);
      const all = await timelineLines();
      // 15 visits, the tier, 2 list changes, 3 points changes, 2 profile edits, the creation.
      expect(all).toHaveLength(15 + 9);
      expect(all[14]).toMatch(/Profile changed\s*Metadata visit: — → 0$/);
      expect(all[15]).toMatch(/Profile changed\s*Metadata tier: — → gold$/);
      expect(all[19]).toMatch(/Redeemed 50 points\s*Points balance: 250 → 200\s*Points redeemed: 0 → 50$/);
      expect(await tab.page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
      await expectAccessible(tab.page, 'customer (timeline, all pages)');

      const phone = await tab.browser.newContext({ viewport: { width: 390, height: 844 } });
      try {
        const page = await phone.newPage();
        await signInWithToken(page, tab.app.url(), tab.app.demo.writeToken);
        await page.goto(tab.app.url(`/console/customers/${customer.id}`));
        const list = page.getByRole('list', { name: 'Timeline' });
        await expect.poll(() => list.locator(':scope > li').count()).toBe(20);
        await list.scrollIntoViewIfNeeded();
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
        await screenshot(page, `${backend.name}-customer-timeline-390`);
      } finally {
        await phone.close();
      }
    });

    it("shows the timeline's error with the API's message and instance, and reads it again on Try again", async () => {
      // The feed request goes out with a customer id the API refuses, so the real server answers with its error.
      await tab.page.route('**/events?*', (route) => {
        const url = new URL(route.request().url());
        url.searchParams.set('customerId', 'not a customer id');
        return route.continue({ url: url.toString() });
      });
      await tab.page.reload();
      const panel = tab.page.getByRole('region', { name: 'Timeline' }).getByRole('alert');
      await expect.poll(() => panel.textContent()).toMatch(/customerId.*Instance [0-9A-Z]{26}/);
      await expectAccessible(tab.page, 'customer (timeline error)');
      forgetExpected(tab.problems, /status of 400/);
      await tab.page.unroute('**/events?*');
      await panel.getByRole('button', { name: 'Try again' }).click();
      await expect.poll(async () => (await timelineLines()).length).toBe(20);
    });

    it('creates a manual list, shows its members, and lists it with its count', async () => {
      await tab.page.getByRole('link', { name: 'Lists & segments' }).click();
      await tab.page.getByRole('table', { name: 'Customer lists' }).waitFor();
      await expectAccessible(tab.page, 'lists');
      await screenshot(tab.page, `${backend.name}-lists`);
      await tab.page.getByLabel('New manual list').fill('Console picks');
      await tab.page.getByRole('button', { name: 'Create list' }).click();
      await tab.page.getByRole('heading', { name: 'Console picks', level: 1 }).waitFor();
      await tab.page.getByText('No members yet.').waitFor();
      const created = (await api<CustomerList[]>('GET', '/customer-lists')).body.find(
        (l) => l.name === 'Console picks',
      )!;
      expect(await api('PUT', `/customer-lists/${created.id}/members/${customer.id}`)).toMatchObject({ status: 204 });
      await tab.page.reload();
      await tab.page.getByRole('link', { name: 'Zelda Quixote-Smith' }).waitFor();
      expect(await tab.page.getByTestId('member-count').textContent()).toBe('1');
      await expectAccessible(tab.page, 'list');
      await screenshot(tab.page, `${backend.name}-list`);
    });

    it('creates a segment from the current filters and sees it built with the count the API gives', async () => {
      await tab.page.goto(tab.app.url('/console/customers?hasAgreedToMarketing=true&pointsBalanceMin=1000'));
      await tab.page.locator('table.data-table tbody tr:not(.spacer)').first().waitFor();
      await tab.page.getByRole('button', { name: 'Save as list…' }).click();
      const expected = (
        await api<{ id: string }[]>('GET', '/customers?hasAgreedToMarketing=true&pointsBalanceMin=1000&limit=1000')
      ).body.length;
      await expect
        .poll(() => tab.page.getByTestId('segment-preview').textContent())
        .toBe(`${expected} customers match now.`);
      await tab.page.getByLabel('List name').fill('Keen and rich');
      await tab.page.getByRole('button', { name: 'Create', exact: true }).click();
      await tab.page.getByRole('heading', { name: 'Keen and rich', level: 1 }).waitFor();
      await expect.poll(() => tab.page.getByRole('status').textContent(), { timeout: 20_000 }).toBe('Ready');
      await tab.page.reload();
      await expect.poll(() => tab.page.getByTestId('member-count').textContent()).toBe(String(expected));
      const segment = (await api<(CustomerList & { filter?: unknown })[]>('GET', '/customer-lists')).body.find(
        (list) => list.name === 'Keen and rich',
      )!;
      expect(segment.filter).toEqual({ hasAgreedToMarketing: true, pointsBalanceMin: 1000 });
      await expectAccessible(tab.page, 'segment');
      await screenshot(tab.page, `${backend.name}-segment`);
    });

    it('erases the customer only after the name is typed', async () => {
      await tab.page.goto(tab.app.url(`/console/customers/${customer.id}`));
      const erase = tab.page.getByRole('button', { name: 'Erase Zelda Quixote-Smith' });
      await erase.waitFor();
      expect(await erase.isDisabled()).toBe(true);
      await tab.page.getByLabel(/Type the customer's name/).fill('Zelda');
      expect(await erase.isDisabled()).toBe(true);
      await tab.page.getByLabel(/Type the customer's name/).fill('Zelda Quixote-Smith');
      await erase.click();
      await tab.page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
      expect((await api('GET', `/customers/${customer.id}`)).status).toBe(404);
      expect(tab.problems).toEqual([]);
    });

    it('shows a read-only token no edit controls, and a missing customer as an error with its instance', async () => {
      const readOnly = await tab.browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const reader = await readOnly.newPage();
        await signInWithToken(reader, tab.app.url(), tab.app.demo.readToken);
        await reader.getByText('read only').waitFor();
        const someone = (await api<Customer[]>('GET', '/customers?limit=1')).body[0]!;
        await reader.goto(tab.app.url(`/console/customers/${someone.id}`));
        await reader.getByRole('heading', { name: 'Statistics' }).waitFor();
        await reader.getByRole('heading', { name: 'Payments' }).waitFor();
        expect(await reader.getByRole('button', { name: 'Edit profile' }).count()).toBe(0);
        expect(await reader.getByRole('button', { name: 'Adjust points' }).count()).toBe(0);
        expect(await reader.getByRole('button', { name: /^Erase/ }).count()).toBe(0);
        await reader.goto(tab.app.url('/console/customers/00000000000000000000000001'));
        const alert = reader.getByRole('alert');
        await expect.poll(() => alert.textContent()).toMatch(/Not found.*Instance [0-9A-Z]{26}/);
        await expectAccessible(reader, 'customer (not found)');
        await screenshot(reader, `${backend.name}-customer-not-found`);
      } finally {
        await readOnly.close();
      }
    });
  },
  { backends: ['sqlite'] },
);
