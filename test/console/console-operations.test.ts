import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { startDispatcher } from '../helpers/webhooks.js';
import type { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import { browserSuite, expectAccessible, openConsole, screenshot, signInWithToken } from './browser.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** The overview's charts and the webhooks screen, with a real dispatcher delivering to a loopback receiver. */
await browserSuite(
  'console: overview and webhooks (chromium)',
  (backend) => {
    const tab = openConsole(backend, { customers: 300, env: { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' } });
    let receiver: WebhookReceiver;
    let dispatcher: WebhookDispatcher;
    let token: string;

    beforeAll(async () => {
      receiver = await startReceiver();
      dispatcher = startDispatcher(tab.app.server.store, tab.app.server.config);
      token = await tab.app.server.createToken([tab.app.org], ['customers:read', 'customers:write', 'webhooks:manage']);
      await signInWithToken(tab.page, tab.app.url(), token);
    });
    afterAll(async () => {
      await dispatcher?.stop();
      await receiver?.close();
    });

    it('shows the overview: totals, charts and top lists from the insights endpoint', async () => {
      await tab.page.getByRole('heading', { name: 'Demo Coffee Co', level: 1 }).waitFor();
      const insights = await tab.app.server.request<{ marketingOptIn: { agreed: number; total: number } }>(
        'GET',
        `/organizations/${tab.app.org}/insights?interval=week`,
        { token },
      );
      const { agreed, total } = insights.body.marketingOptIn;
      expect(total).toBe(300);
      await expect
        .poll(() => tab.page.getByTestId('opt-in').textContent())
        .toBe(`${Math.round((100 * agreed) / total)}% (${agreed})`);
      expect(await tab.page.locator('.chart canvas').count()).toBe(3);
      await tab.page.getByRole('heading', { name: 'Top lists' }).waitFor();
      expect(await tab.page.locator('.bar-row').count()).toBeGreaterThan(0);
      await expectAccessible(tab.page, 'overview');
      await screenshot(tab.page, `${backend.name}-overview`);
      await tab.page.getByLabel('Per').selectOption('month');
      await tab.page.getByText('New customers per month', { exact: true }).waitFor();
      await tab.page.setViewportSize({ width: 390, height: 844 });
      expect(
        await tab.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
      ).toBeLessThanOrEqual(0);
      await screenshot(tab.page, `${backend.name}-overview-phone`);
      await tab.page.setViewportSize({ width: 1280, height: 800 });
    });

    it('subscribes a webhook to a loopback receiver, sees the delivery, and redelivers it', async () => {
      await tab.page.getByRole('link', { name: 'Webhooks' }).click();
      await tab.page.getByText('No webhook subscriptions.').waitFor();
      await expectAccessible(tab.page, 'webhooks (empty)');
      await tab.page.getByRole('button', { name: 'New subscription' }).click();
      await tab.page.getByLabel('Reference').fill('console-test');
      await tab.page.getByLabel('URL').fill(`${receiver.url}/hook`);
      await tab.page.getByLabel('Signing secret').fill('s3cret');
      await tab.page.getByRole('button', { name: 'Save subscription' }).click();
      await tab.page.getByRole('region', { name: 'Webhook console-test' }).waitFor();

      const created = await tab.app.server.createCustomer(tab.app.org, { firstName: 'Hook', lastName: 'Target' });
      await expect.poll(() => receiver.on('/hook').length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(receiver.on('/hook')[0]!.text)).toMatchObject({
        event: 'customer.created',
        customer: { id: created.id },
      });

      await tab.page.getByRole('button', { name: 'Deliveries' }).click();
      const deliveries = tab.page.getByRole('table', { name: 'Deliveries of console-test' });
      await deliveries.waitFor();
      await expect
        .poll(() => deliveries.locator('tbody tr').first().textContent())
        .toMatch(/customer\.created.*succeeded.*200/);
      await expectAccessible(tab.page, 'webhooks');
      await screenshot(tab.page, `${backend.name}-webhooks`);

      await deliveries.getByRole('button', { name: 'Redeliver' }).first().click();
      await tab.page.getByText(/queued for redelivery/).waitFor();
      await expect.poll(() => receiver.on('/hook').length, { timeout: 20_000 }).toBe(2);
      expect(tab.problems).toEqual([]);
    });

    it('imports a CSV with two bad rows, shows the progress and the rejects, and exports a CSV', async () => {
      await tab.page.getByRole('link', { name: 'Import & export' }).click();
      await tab.page.getByRole('heading', { name: 'Import customers' }).waitFor();
      await expectAccessible(tab.page, 'import & export');
      const csv = [
        'firstName,lastName,email',
        'Ivy,Imported,ivy.imported@example.com',
        ',NoFirstName,nofirst@example.com',
        'Jon,Imported,jon.imported@example.com',
        'Bad,Email,not-an-email',
        '',
      ].join('\n');
      await tab.page.getByLabel('CSV or NDJSON file').setInputFiles({
        name: 'customers.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(csv),
      });
      await tab.page.getByRole('button', { name: 'Import', exact: true }).click();
      await expect
        .poll(() => tab.page.getByTestId('import-status').textContent(), { timeout: 20_000 })
        .toBe('Import complete.');
      expect(await tab.page.getByTestId('rows-read').textContent()).toBe('4');
      expect(await tab.page.getByTestId('rows-imported').textContent()).toBe('2');
      expect(await tab.page.getByTestId('rows-rejected').textContent()).toBe('2');
      const lines = await tab.page
        .getByRole('table', { name: 'Rejected rows' })
        .locator('tbody td:first-child')
        .allTextContents();
      expect(lines).toEqual(['3', '5']);
      const found = await tab.app.server.request<unknown[]>(
        'GET',
        `/organizations/${tab.app.org}/customers?email=ivy.imported@example.com`,
        { token },
      );
      expect(found.body).toHaveLength(1);
      await screenshot(tab.page, `${backend.name}-import`);

      const [download] = await Promise.all([
        tab.page.waitForEvent('download'),
        tab.page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      const file = await download.path();
      const exported = (await import('node:fs')).readFileSync(file, 'utf8').trim().split('\n');
      expect(exported[0]).toMatch(/firstName/);
      // The 300 demo customers, the webhook test's one and the two imported.
      expect(exported.length - 1).toBe(303);
      expect(exported.some((line) => line.includes('ivy.imported@example.com'))).toBe(true);
      await tab.page.getByText(/Saved .*\.csv/).waitFor();
      expect(tab.problems).toEqual([]);
    });

    it('explains to a token without webhooks:manage why there is nothing to manage', async () => {
      const other = await tab.browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const reader = await other.newPage();
        await signInWithToken(reader, tab.app.url(), tab.app.demo.writeToken);
        await reader.getByText('read & write').waitFor();
        await reader.getByRole('link', { name: 'Webhooks' }).click();
        await reader
          .getByRole('note')
          .getByText(/lacks the webhooks:manage scope/)
          .waitFor();
        await expectAccessible(reader, 'webhooks (no scope)');
      } finally {
        await other.close();
      }
    });
  },
  { backends: ['sqlite'] },
);
