import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Insights } from '../src/contract/insights.js';
import { describeEachBackend } from './helpers/backends.js';
import { errorFields, expectErrorJson } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;

await describeEachBackend('insights (console overview extension)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  async function tenant(timezone: string) {
    const org = await server.services.organizations.createOrganization({ name: `Insights ${timezone}`, timezone });
    const read = await server.createToken([org.id], ['customers:read']);
    const write = await server.createToken([org.id], ['customers:read', 'customers:write']);
    return { orgId: org.id, read, write };
  }

  /** The model: sums over the stored rows of each bucket, the rule the endpoint promises. */
  async function expectedSeries(orgId: string, starts: number[], end: number) {
    const bounds = starts.map((start, i) => [start, starts[i + 1] ?? end] as const);
    const customers = await server.store.db
      .selectFrom('customers')
      .select('created_at')
      .where('organization_id', '=', orgId)
      .execute();
    const points = await server.store.db
      .selectFrom('point_records')
      .select(['amount', 'occurred_at'])
      .where('organization_id', '=', orgId)
      .execute();
    const payments = await server.store.db
      .selectFrom('payments')
      .select(['charged_amount', 'external_amount', 'refunded_amount', 'completed_at'])
      .where('organization_id', '=', orgId)
      .execute();
    const inside = (at: unknown, [s, e]: readonly [number, number]) => Number(at) >= s && Number(at) < e;
    return {
      newCustomers: bounds.map((b) => customers.filter((c) => inside(c.created_at, b)).length),
      pointsEarned: bounds.map((b) =>
        points
          .filter((p) => inside(p.occurred_at, b) && Number(p.amount) > 0)
          .reduce((t, p) => t + Number(p.amount), 0),
      ),
      pointsRedeemed: bounds.map((b) =>
        points
          .filter((p) => inside(p.occurred_at, b) && Number(p.amount) < 0)
          .reduce((t, p) => t - Number(p.amount), 0),
      ),
      spend: bounds.map((b) =>
        payments
          .filter((p) => inside(p.completed_at, b))
          .reduce((t, p) => t + Number(p.charged_amount) + Number(p.external_amount) - Number(p.refunded_amount), 0),
      ),
    };
  }

  it('buckets customers, points and spend by local day, week and month; opt-in share and top lists', async () => {
    const { orgId, read, write } = await tenant('Australia/Melbourne');
    const customers = [];
    for (let i = 0; i < 5; i++)
      customers.push(await server.createCustomer(orgId, { hasAgreedToMarketing: i < 2 }, write));
    await server.createCustomer(orgId, {}, write);
    for (const [i, amount] of [10, 25, -5, 40].entries()) {
      const response = await server.request(
        'PUT',
        `/organizations/${orgId}/customers/${customers[i % 2]!.id}/points/r${i}`,
        {
          token: write,
          body: { amount },
        },
      );
      expect(response.status, response.text).toBe(204);
    }
    const now = Date.now();
    for (const [i, daysAgo] of [0, 1, 9, 40].entries()) {
      const response = await server.request('PUT', `/organizations/${orgId}/payments/pay-${i}`, {
        token: write,
        body: {
          billingType: 'order/pickup',
          chargedAmount: 1000 * (i + 1),
          customerId: customers[i]!.id,
          completedAt: new Date(now - daysAgo * DAY - 60_000).toISOString(),
        },
      });
      expect(response.status, response.text).toBe(201);
    }
    const refund = await server.request('POST', `/organizations/${orgId}/payments/pay-1/refund`, {
      token: write,
      body: { amount: 300 },
    });
    expect(refund.status, refund.text).toBe(200);
    const big = await server.request<{ id: string }>('POST', `/organizations/${orgId}/customer-lists`, {
      token: write,
      body: { name: 'Regulars' },
    });
    const small = await server.request<{ id: string }>('POST', `/organizations/${orgId}/customer-lists`, {
      token: write,
      body: { name: 'VIP' },
    });
    for (const c of customers.slice(0, 3))
      expect(
        (
          await server.request('PUT', `/organizations/${orgId}/customer-lists/${big.body.id}/members/${c.id}`, {
            token: write,
          })
        ).status,
      ).toBeLessThan(300);
    await server.request('PUT', `/organizations/${orgId}/customer-lists/${small.body.id}/members/${customers[4]!.id}`, {
      token: write,
    });

    for (const interval of ['day', 'week', 'month'] as const) {
      const from = new Date(now - 60 * DAY).toISOString();
      const to = new Date(now + 1000).toISOString();
      const response = await server.request<Insights>(
        'GET',
        `/organizations/${orgId}/insights?interval=${interval}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
        { token: read },
      );
      expect(response.status, response.text).toBe(200);
      const body = response.body;
      expect(body.interval).toBe(interval);
      expect(body.timezone).toBe('Australia/Melbourne');
      const starts = body.series.newCustomers.map((b) => Date.parse(b.start));
      for (const name of ['pointsEarned', 'pointsRedeemed', 'spend'] as const)
        expect(body.series[name].map((b) => Date.parse(b.start))).toEqual(starts);
      expect(starts[0]).toBe(Date.parse(body.from));
      expect(Date.parse(body.from)).toBeLessThanOrEqual(Date.parse(from));
      expect(Date.parse(body.to)).toBeGreaterThanOrEqual(Date.parse(to));
      // Buckets start at local midnight in Melbourne.
      for (const start of body.series.newCustomers.map((b) => b.start)) {
        const local = new Intl.DateTimeFormat('en-GB', {
          timeZone: 'Australia/Melbourne',
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23',
        }).format(new Date(start));
        expect(local).toBe('00:00');
      }
      const expected = await expectedSeries(orgId, starts, Date.parse(body.to));
      expect({
        newCustomers: body.series.newCustomers.map((b) => b.value),
        pointsEarned: body.series.pointsEarned.map((b) => b.value),
        pointsRedeemed: body.series.pointsRedeemed.map((b) => b.value),
        spend: body.series.spend.map((b) => b.value),
      }).toEqual(expected);
      const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
      expect([
        total(expected.newCustomers),
        total(expected.pointsEarned),
        total(expected.pointsRedeemed),
        total(expected.spend),
      ]).toEqual([6, 75, 5, 10_000 - 300]);
      expect(body.marketingOptIn).toEqual({ agreed: 2, total: 6 });
      expect(body.topLists).toEqual([
        { id: big.body.id, memberCount: 3, name: 'Regulars' },
        { id: small.body.id, memberCount: 1, name: 'VIP' },
      ]);
    }
  });

  it('defaults to twelve weeks ending with the current one', async () => {
    const { orgId, read } = await tenant('UTC');
    const response = await server.request<Insights>('GET', `/organizations/${orgId}/insights`, { token: read });
    expect(response.status, response.text).toBe(200);
    expect(response.body.interval).toBe('week');
    expect(response.body.series.newCustomers).toHaveLength(12);
    expect(new Date(response.body.from).getUTCDay()).toBe(1);
    expect(Date.parse(response.body.to)).toBeGreaterThan(Date.now() - 1000);
    expect(response.body.series.spend.every((b) => b.value === 0)).toBe(true);
    expect(response.body.marketingOptIn).toEqual({ agreed: 0, total: 0 });
    expect(response.body.topLists).toEqual([]);
  });

  it('refuses bad ranges and parameters with a 400 naming them, and checks token and scope', async () => {
    const { orgId, read } = await tenant('UTC');
    const path = `/organizations/${orgId}/insights`;
    const cases: [string, string][] = [
      ['from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
      ['from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
      ['from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=day', 'from'],
      ['from=yesterday', 'from'],
      ['to=2026-13-01T00:00:00Z', 'to'],
      ['from=2026-01-01T00:00:00%00Z', 'from'],
      ['interval=year', 'interval'],
      ['interval=', 'interval'],
      [`from=${'9'.repeat(100)}`, 'from'],
    ];
    for (const [query, field] of cases) {
      const response = await server.request('GET', `${path}?${query}`, { token: read });
      const body = expectErrorJson(response, 400);
      if (!query.includes('%00')) expect(errorFields(body), query).toContain(field);
    }
    expectErrorJson(await server.request('GET', path, { token: null }), 401);
    const other = await tenant('UTC');
    expectErrorJson(await server.request('GET', path, { token: other.read }), 404);
    expectErrorJson(
      await server.request('GET', path, { token: await server.createToken([orgId], ['webhooks:manage']) }),
      403,
    );
  });
});
