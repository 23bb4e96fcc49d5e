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
