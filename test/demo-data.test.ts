import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedDemo } from '../src/demo/demo-data.js';
import type { Customer } from '../src/contract/customers.js';
import type { CustomerList } from '../src/contract/customer-lists.js';
import type { Location } from '../src/contract/locations.js';
import type { Payment } from '../src/contract/payments.js';
import { describeEachBackend } from './helpers/backends.js';
import { readAllPages, readEvents } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('demo data', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('writes ledgers and payments that imply exactly the statistics, exact member counts, and a feed of the same state', async () => {
    const demo = await seedDemo(server.services, { customers: 250, seed: 42 });
    const orgId = demo.organization.id;
    const token = demo.writeToken;
    const customers = await readAllPages<Customer>(server, `/organizations/${orgId}/customers`, token);
    expect(customers).toHaveLength(250);

    const points = await server.store.db
      .selectFrom('point_records')
      .selectAll()
      .where('organization_id', '=', orgId)
      .execute();
    // Spend comes from the payments, read through the API as a LOKE add-on would.
    const payments = await readAllPages<Payment>(server, `/organizations/${orgId}/payments`, token);
    expect(payments).toHaveLength(demo.payments);
    expect(payments.length).toBeGreaterThan(100);
    const locations = await readAllPages<Location>(server, `/organizations/${orgId}/locations`, token);
    expect(locations).toHaveLength(demo.locations);
    expect(demo.locations).toBeGreaterThanOrEqual(3);
    const locationIds = new Set(locations.map((l) => l.id));
    for (const payment of payments) {
      expect(locationIds.has(payment.locationId!)).toBe(true);
      expect(payment.currency).toBe('AUD');
      expect(payment.items.reduce((t, i) => t + i.amount * i.quantity, 0)).toBe(payment.chargedAmount);
    }
    expect(points.length).toBeGreaterThan(100);
    for (const customer of customers) {
      const mine = points.filter((p) => p.customer_id === customer.id);
      const earned = mine.filter((p) => p.amount > 0);
      const redeemed = mine.filter((p) => p.amount < 0);
      const sales = payments.filter((p) => p.customer?.id === customer.id);
      const latest = (rows: { occurred_at: number }[]) =>
        rows.length === 0 ? undefined : new Date(Math.max(...rows.map((r) => r.occurred_at))).toISOString();
      const latestSecond = (rows: Payment[]) =>
        rows.length === 0 ? undefined : new Date(Math.max(...rows.map((p) => Date.parse(p.completedAt)))).toISOString();
      const stats = customer.statistics!;
      expect(stats.totalPointsEarned).toBe(earned.reduce((t, p) => t + p.amount, 0));
      expect(stats.totalPointsRedeemed).toBe(redeemed.reduce((t, p) => t - p.amount, 0));
      expect(stats.pointsBalance).toBe(mine.reduce((t, p) => t + p.amount, 0));
      expect(stats.totalSpend).toBe(sales.reduce((t, p) => t + p.chargedAmount + p.externalAmount, 0));
      expect(stats.lastPointsEarnedAt).toBe(latest(earned));
      expect(stats.lastPointsRedeemedAt).toBe(latest(redeemed));
      // Payments show seconds, statistics milliseconds.
      expect(stats.lastSpentAt?.replace(/\.\d{3}Z$/, '.000Z')).toBe(latestSecond(sales));
      if (sales.length > 0) expect(sales[0]!.customer).toEqual(expect.objectContaining({ id: customer.id }));
    }

    const lists = await readAllPages<CustomerList>(server, `/organizations/${orgId}/customer-lists`, token);
    expect(lists).toHaveLength(demo.lists);
    let memberships = 0;
    for (const list of lists) {
      const members = await readAllPages<{ id: string }>(
        server,
        `/organizations/${orgId}/customer-lists/${list.id}/members`,
        token,
      );
      expect(list.memberCount).toBe(members.length);
      memberships += members.length;
    }
    expect(memberships).toBe(demo.memberships);

    const events = await readEvents(server, orgId, token);
    expect(events).toHaveLength(250 + demo.lists + demo.memberships + demo.payments);
    // The feed's payment events are the payments the API serves.
    const completed = events.filter((e) => e.event === 'payment.completed');
    expect(completed.map((e) => e.payment)).toEqual(expect.arrayContaining(payments));
    expect(completed.every((e) => locationIds.has((e.location as { id: string }).id))).toBe(true);
    expect(events.filter((e) => e.event === 'customer.created').map((e) => e.customer)).toEqual(
      expect.arrayContaining(customers),
    );

    // The demo's ledgers are real: a reversal recomputes from them and keeps the statistics.
    const withPoints = customers.find((c) =>
      points.some(
        (p) => p.customer_id === c.id && p.reference === 'demo-earn-1' && c.statistics!.pointsBalance! >= p.amount,
      ),
    )!;
    const entry = points.find((p) => p.customer_id === withPoints.id && p.reference === 'demo-earn-1')!;
    const reversed = await server.request(
      'DELETE',
      `/organizations/${orgId}/customers/${withPoints.id}/points/demo-earn-1`,
      { token },
    );
    expect(reversed.status).toBe(204);
    const after = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${withPoints.id}`, {
      token,
    });
    expect(after.body.statistics!.pointsBalance).toBe(withPoints.statistics!.pointsBalance! - entry.amount);
    expect(after.body.statistics!.totalSpend).toBe(withPoints.statistics!.totalSpend);
  });
});
