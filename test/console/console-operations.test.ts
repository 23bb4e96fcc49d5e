import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { startDispatcher } from '../helpers/webhooks.js';
import type { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import {
  browserSuite,
  expectAccessible,
  launchBrowser,
  screenshot,
  signInWithToken,
  startConsoleServer,
  watchProblems,
  type ConsoleServer,
} from './browser.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** The overview's charts and the webhooks screen, with a real dispatcher delivering to a loopback receiver. */
await browserSuite(
  'console: overview and webhooks (chromium)',
  (backend) => {
    let app: ConsoleServer;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let problems: string[];
    let receiver: WebhookReceiver;
    let dispatcher: WebhookDispatcher;
    let token: string;

    beforeAll(async () => {
      [app, browser, receiver] = await Promise.all([
        startConsoleServer(backend, 300, { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' }),
        launchBrowser(),
        startReceiver(),
      ]);
      dispatcher = startDispatcher(app.server.store, app.server.config);
      token = await app.server.createToken([app.org], ['customers:read', 'customers:write', 'webhooks:manage']);
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      page = await context.newPage();
      problems = watchProblems(page);
      await signInWithToken(page, app.url(), token);
    });
    afterAll(async () => {
      await dispatcher?.stop();
      await context?.close();
      await browser?.close();
      await receiver?.close();
      await app?.server.close();
    });

    it('shows the overview: totals, charts and top lists from the insights endpoint', async () => {
      await page.getByRole('heading', { name: 'Demo Coffee Co', level: 1 }).waitFor();
      const insights = await app.server.request<{ marketingOptIn: { agreed: number; total: number } }>(
        'GET',
        `/organizations/${app.org}/insights?interval=week`,
        { token },
      );
      const { agreed, total } = insights.body.marketingOptIn;
      expect(total).toBe(300);
      await expect
        .poll(() => page.getByTestId('opt-in').textContent())
        .toBe(`${Math.round((100 * agreed) / total)}% (${agreed})`);
      expect(await page.locator('.chart canvas').count()).toBe(3);
      await page.getByRole('heading', { name: 'Top lists' }).waitFor();
      expect(await page.locator('.bar-row').count()).toBeGreaterThan(0);
      await expectAccessible(page, 'overview');
      await screenshot(page, `${backend.name}-overview`);
      await page.getByLabel('Per').selectOption('month');
      await page.getByText('New customers per month', { exact: true }).waitFor();
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
        0,
      );
      await screenshot(page, `${backend.name}-overview-phone`);
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    it('subscribes a webhook to a loopback receiver, sees the delivery, and redelivers it', async () => {
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByText('No webhook subscriptions.').waitFor();
      await expectAccessible(page, 'webhooks (empty)');
      await page.getByRole('button', { name: 'New subscription' }).click();
      await page.getByLabel('Reference').fill('console-test');
      await page.getByLabel('URL').fill(`${receiver.url}/hook`);
      await page.getByLabel('Signing secret').fill('s3cret');
      await page.getByRole('button', { name: 'Save subscription' }).click();
      await page.getByRole('region', { name: 'Webhook console-test' }).waitFor();

      const created = await app.server.createCustomer(app.org, { firstName: 'Hook', lastName: 'Target' });
      await expect.poll(() => receiver.on('/hook').length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(receiver.on('/hook')[0]!.text)).toMatchObject({
        event: 'customer.created',
        customer: { id: created.id },
      });

      await page.getByRole('button', { name: 'Deliveries' }).click();
      const deliveries = page.getByRole('table', { name: 'Deliveries of console-test' });
      await deliveries.waitFor();
      await expect
        .poll(() => deliveries.locator('tbody tr').first().textContent())
        .toMatch(/customer\.created.*succeeded.*200/);
      await expectAccessible(page, 'webhooks');
      await screenshot(page, `${backend.name}-webhooks`);

      await deliveries.getByRole('button', { name: 'Redeliver' }).first().click();
      await page.getByText(/queued for redelivery/).waitFor();
      await expect.poll(() => receiver.on('/hook').length, { timeout: 20_000 }).toBe(2);
      expect(problems).toEqual([]);
    });

    it('explains to a token without webhooks:manage why there is nothing to manage', async () => {
      const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const reader = await other.newPage();
        await signInWithToken(reader, app.url(), app.demo.writeToken);
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
