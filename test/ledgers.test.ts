import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer, CustomerStatistics } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, expectError, expectErrorJson, lastSequence, readEvents } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

interface LedgerEntry {
  amount: number;
  occurredAt: number;
}

/** The statistics a ledger implies: the model the stored statistics must equal. */
function statisticsOf(points: LedgerEntry[], spend: LedgerEntry[]): CustomerStatistics {
  const earned = points.filter((p) => p.amount > 0);
  const redeemed = points.filter((p) => p.amount < 0);
  const sum = (entries: LedgerEntry[]) => entries.reduce((total, e) => total + Math.abs(e.amount), 0);
  const latest = (entries: LedgerEntry[]) =>
    entries.length === 0 ? undefined : new Date(Math.max(...entries.map((e) => e.occurredAt))).toISOString();
  const statistics: CustomerStatistics = {};
  const lastEarned = latest(earned);
  const lastRedeemed = latest(redeemed);
  const lastSpent = latest(spend);
  if (lastEarned) statistics.lastPointsEarnedAt = lastEarned;
  if (lastRedeemed) statistics.lastPointsRedeemedAt = lastRedeemed;
  if (lastSpent) statistics.lastSpentAt = lastSpent;
  statistics.pointsBalance = sum(earned) - sum(redeemed);
  statistics.totalPointsEarned = sum(earned);
  statistics.totalPointsRedeemed = sum(redeemed);
  statistics.totalSpend = sum(spend);
  return statistics;
}

await describeEachBackend('points and spend ledgers', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  const points = (orgId: string, customerId: string, reference: string) =>
    `/organizations/${orgId}/customers/${customerId}/points/${encodeURIComponent(reference)}`;
  const spend = (orgId: string, customerId: string, reference: string) =>
    `/organizations/${orgId}/customers/${customerId}/spend/${encodeURIComponent(reference)}`;

  async function getCustomer(orgId: string, id: string, token: string): Promise<Customer> {
    const response = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${id}`, { token });
    expect(response.status).toBe(200);
    return response.body;
  }

  /** The ledger rows of a customer as stored (spend: their payments, less refunds), turned into model entries. */
  async function storedLedger(orgId: string, customerId: string) {
    const points = await server.store.db
      .selectFrom('point_records')
      .select(['amount', 'occurred_at'])
      .where('organization_id', '=', orgId)
      .where('customer_id', '=', customerId)
      .execute();
    const payments = await server.store.db
      .selectFrom('payments')
      .select(['charged_amount', 'external_amount', 'refunded_amount', 'refunded_at', 'completed_at'])
      .where('organization_id', '=', orgId)
      .where('customer_id', '=', customerId)
      .execute();
    return {
      points: points.map((r) => ({ amount: Number(r.amount), occurredAt: Number(r.occurred_at) })),
      // A payment counts toward lastSpentAt until it is wholly refunded (README), whatever it paid.
      spend: payments
        .filter(
          (p) =>
            p.refunded_at === null || Number(p.refunded_amount) < Number(p.charged_amount) + Number(p.external_amount),
        )
        .map((p) => ({
          amount: Number(p.charged_amount) + Number(p.external_amount) - Number(p.refunded_amount),
          occurredAt: Number(p.completed_at),
        })),
    };
  }

  it('earns and redeems points: 204, statistics, updatedAt, ETag and a customer.updated-statistics event', async () => {
    const { org, orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(
      orgId,
      { firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com' },
      write,
    );
    const etagBefore = (
      await server.request('GET', `/organizations/${orgId}/customers/${customer.id}`, { token: read })
    ).headers.get('etag');

    const earn = await server.request('PUT', points(orgId, customer.id, 'order-1'), {
      token: write,
      body: { amount: 500, notes: 'Welcome' },
    });
    expect(earn.status).toBe(204);
    expect(earn.text).toBe('');
    const redeem = await server.request('PUT', points(orgId, customer.id, 'order-2'), {
      token: write,
      body: { amount: -120 },
    });
    expect(redeem.status).toBe(204);

    const after = await getCustomer(orgId, customer.id, read);
    const ledger = await storedLedger(orgId, customer.id);
    expect(after.statistics).toEqual(statisticsOf(ledger.points, ledger.spend));
    expect(after.statistics).toEqual(
      expect.objectContaining({ pointsBalance: 380, totalPointsEarned: 500, totalPointsRedeemed: 120, totalSpend: 0 }),
    );
    expect(after.statistics!.lastPointsEarnedAt).toMatch(/\.\d{3}Z$/);
    expect(Date.parse(after.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(customer.updatedAt!));
    const etagAfter = (
      await server.request('GET', `/organizations/${orgId}/customers/${customer.id}`, { token: read })
    ).headers.get('etag');
    expect(etagAfter).not.toBe(etagBefore);
    const notes = await server.store.db
      .selectFrom('point_records')
      .select(['reference', 'notes'])
      .where('customer_id', '=', customer.id)
      .orderBy('reference')
      .execute();
    expect(notes).toEqual([
      { reference: 'order-1', notes: 'Welcome' },
      { reference: 'order-2', notes: null },
    ]);

    // sort=updated sync sees the statistics change.
    const synced = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers?sort=updated&limit=1`, {
      token: read,
    });
    expect(synced.body[0]!.id).toBe(customer.id);

    const events = (await readEvents(server, orgId, read)).filter((e) => e.event === 'customer.updated-statistics');
    expect(events).toHaveLength(2);
    expect({ ...events[1], id: undefined, sequence: undefined, occurredAt: undefined }).toEqual({
      id: undefined,
      sequence: undefined,
      occurredAt: undefined,
      event: 'customer.updated-statistics',
      statistics: after.statistics,
      customer: { email: 'ann@example.com', firstName: 'Ann', id: customer.id, lastName: 'Lee' },
      organization: { id: orgId, name: org.name },
    });
    expect(Object.keys(events[1]!)).toEqual([
      'id',
      'sequence',
      'occurredAt',
      'event',
      'statistics',
      'customer',
      'organization',
    ]);
  });

  it('refuses a duplicate reference (409 duplicate_point_record) and an overdraft (409 insufficient_points) without changes', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    await server.request('PUT', points(orgId, customer.id, 'r1'), { token: write, body: { amount: 100 } });
    const before = await getCustomer(orgId, customer.id, read);
    const sequence = await lastSequence(server, orgId, read);

    expectError(
      await server.request('PUT', points(orgId, customer.id, 'r1'), { token: write, body: { amount: 100 } }),
      409,
      'duplicate_point_record',
    );
    expectError(
      await server.request('PUT', points(orgId, customer.id, 'r1'), { token: write, body: { amount: -5 } }),
      409,
      'duplicate_point_record',
    );
    expectError(
      await server.request('PUT', points(orgId, customer.id, 'r2'), { token: write, body: { amount: -101 } }),
      409,
      'insufficient_points',
    );

    expect(await getCustomer(orgId, customer.id, read)).toEqual(before);
    expect((await storedLedger(orgId, customer.id)).points).toHaveLength(1);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
    // Redeeming exactly the balance is fine.
    expect(
      (await server.request('PUT', points(orgId, customer.id, 'r2'), { token: write, body: { amount: -100 } })).status,
    ).toBe(204);
    expect((await getCustomer(orgId, customer.id, read)).statistics!.pointsBalance).toBe(0);
  });

  it('reverses adjustments with DELETE, recomputing the last-earned time from the remaining ledger', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    await server.request('PUT', points(orgId, customer.id, 'a'), { token: write, body: { amount: 50 } });
    const afterFirst = await getCustomer(orgId, customer.id, read);
    await server.request('PUT', points(orgId, customer.id, 'b'), { token: write, body: { amount: 70 } });
    await server.request('PUT', points(orgId, customer.id, 'c'), { token: write, body: { amount: -30 } });

    const reversed = await server.request('DELETE', points(orgId, customer.id, 'b'), { token: write });
    expect(reversed.status).toBe(204);
    const stats = (await getCustomer(orgId, customer.id, read)).statistics!;
    expect(stats.pointsBalance).toBe(20);
    expect(stats.totalPointsEarned).toBe(50);
    expect(stats.lastPointsEarnedAt).toBe(afterFirst.statistics!.lastPointsEarnedAt);
    const ledger = await storedLedger(orgId, customer.id);
    expect(stats).toEqual(statisticsOf(ledger.points, ledger.spend));

    // Reversing the redemption restores the balance and clears lastPointsRedeemedAt.
    expect((await server.request('DELETE', points(orgId, customer.id, 'c'), { token: write })).status).toBe(204);
    const cleared = (await getCustomer(orgId, customer.id, read)).statistics!;
    expect(cleared.pointsBalance).toBe(50);
    expect(cleared.lastPointsRedeemedAt).toBeUndefined();

    // A reference can be reused once its adjustment was reversed.
    expect(
      (await server.request('PUT', points(orgId, customer.id, 'b'), { token: write, body: { amount: 1 } })).status,
    ).toBe(204);
  });

  it('refuses reversals that are unknown (404) or that would leave a negative balance (409), without changes', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    await server.request('PUT', points(orgId, customer.id, 'earn'), { token: write, body: { amount: 100 } });
    await server.request('PUT', points(orgId, customer.id, 'spend'), { token: write, body: { amount: -80 } });
    const before = await getCustomer(orgId, customer.id, read);
    const sequence = await lastSequence(server, orgId, read);
    expectError(await server.request('DELETE', points(orgId, customer.id, 'nope'), { token: write }), 404, 'not_found');
    expectError(
      await server.request('DELETE', points(orgId, customer.id, 'earn'), { token: write }),
      409,
      'insufficient_points',
    );
    expectError(await server.request('DELETE', spend(orgId, customer.id, 'nope'), { token: write }), 404, 'not_found');
    expect(await getCustomer(orgId, customer.id, read)).toEqual(before);
    expect((await storedLedger(orgId, customer.id)).points).toHaveLength(2);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
  });

  it('records and reverses spend, feeding totalSpend and lastSpentAt', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const put = await server.request('PUT', spend(orgId, customer.id, 'sale-1'), {
      token: write,
      body: { amount: 1250, occurredAt: '2021-08-23T02:06:23.000Z' },
    });
    expect(put.status).toBe(204);
    await server.request('PUT', spend(orgId, customer.id, 'sale-2'), {
      token: write,
      body: { amount: 300, occurredAt: '2021-08-20T10:00:00+10:00' },
    });
    let stats = (await getCustomer(orgId, customer.id, read)).statistics!;
    expect(stats.totalSpend).toBe(1550);
    expect(stats.lastSpentAt).toBe('2021-08-23T02:06:23.000Z');

    const sequence = await lastSequence(server, orgId, read);
    expectError(
      await server.request('PUT', spend(orgId, customer.id, 'sale-1'), { token: write, body: { amount: 5 } }),
      409,
      'conflict',
    );
    expect(await lastSequence(server, orgId, read)).toBe(sequence);

    expect((await server.request('DELETE', spend(orgId, customer.id, 'sale-1'), { token: write })).status).toBe(204);
    stats = (await getCustomer(orgId, customer.id, read)).statistics!;
    expect(stats.totalSpend).toBe(300);
    expect(stats.lastSpentAt).toBe('2021-08-20T00:00:00.000Z');

    const now = Date.now();
    await server.request('PUT', spend(orgId, customer.id, 'sale-3'), { token: write, body: { amount: 1 } });
    stats = (await getCustomer(orgId, customer.id, read)).statistics!;
    expect(Date.parse(stats.lastSpentAt!)).toBeGreaterThanOrEqual(now - 1000);
  });

  it('refuses a fractional points amount with a 400 that names the field and the rounding rule, storing nothing', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    await server.request('PUT', points(orgId, customer.id, 'first'), { token: write, body: { amount: 10 } });
    const before = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${customer.id}`, {
      token: read,
    });
    const sequence = await lastSequence(server, orgId, read);

    // 12.34 dollars at 1.5 points per dollar, as a LOKE integration computes it, and a fractional redemption.
    for (const amount of [12.34 * 1.5, -0.5, 0.1]) {
      const response = await server.request('PUT', points(orgId, customer.id, `order-${amount}`), {
        token: write,
        body: { amount, notes: 'Order' },
      });
      const body = expectErrorJson(response, 400);
      expect(body.type).toBe('bad_request');
      expect(body.message).toMatch(/whole numbers/);
      expect(body.details).toEqual([
        {
          field: 'amount',
          message:
            'must be a whole number of points: round a fractional amount * pointsPerDollar to an integer before sending',
        },
      ]);
    }

    const after = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${customer.id}`, {
      token: read,
    });
    expect(after.body).toEqual(before.body);
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    expect((await storedLedger(orgId, customer.id)).points).toEqual([{ amount: 10, occurredAt: expect.any(Number) }]);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
    // The rounded amount is accepted under the same reference the refused call used: nothing was kept of it.
    const rounded = await server.request('PUT', points(orgId, customer.id, `order-${12.34 * 1.5}`), {
      token: write,
      body: { amount: Math.round(12.34 * 1.5) },
    });
    expect(rounded.status, rounded.text).toBe(204);
    expect((await getCustomer(orgId, customer.id, read)).statistics!.pointsBalance).toBe(10 + 19);
  });

  it('validates bodies and references with 400, unknown customers with 404, and changes nothing', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const before = await getCustomer(orgId, customer.id, read);
    const sequence = await lastSequence(server, orgId, read);
    const badPoints = [
      {},
      { amount: 0 },
      { amount: 1.5 },
      { amount: '5' },
      { amount: 1e10 },
      { amount: 5, extra: 1 },
      { amount: 5, notes: 'x'.repeat(1001) },
    ];
    for (const body of badPoints) {
      expectError(
        await server.request('PUT', points(orgId, customer.id, 'r'), { token: write, body }),
        400,
        'bad_request',
      );
    }
    const badSpend = [
      {},
      { amount: 0 },
      { amount: -5 },
      { amount: 2.5 },
      { amount: 5, occurredAt: 'yesterday' },
      { amount: 5, occurredAt: '2999-01-01T00:00:00Z' },
      { amount: 5, occurredAt: '2021-02-30T00:00:00Z' },
    ];
    for (const body of badSpend) {
      expectError(
        await server.request('PUT', spend(orgId, customer.id, 'r'), { token: write, body }),
        400,
        'bad_request',
      );
    }
    const tooLong = await server.request('PUT', points(orgId, customer.id, 'x'.repeat(101)), {
      token: write,
      body: { amount: 1 },
    });
    // The router refuses path segments over 100 characters before any handler runs; still our error JSON.
    expectError(tooLong, 400, 'bad_request');
    const malformed = await server.request('PUT', `/organizations/${orgId}/customers/${customer.id}/points/%E0%A4%A`, {
      token: write,
      body: { amount: 1 },
    });
    expectError(malformed, 400, 'bad_request');
    expectError(
      await server.request('PUT', `/organizations/${orgId}/customers/${customer.id}/points/x`, {
        token: write,
        rawBody: 'not json',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'bad_request',
    );
    const missing = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    expectError(
      await server.request('PUT', points(orgId, missing, 'r'), { token: write, body: { amount: 5 } }),
      404,
      'not_found',
    );
    expectError(await server.request('DELETE', points(orgId, missing, 'r'), { token: write }), 404, 'not_found');
    expectError(
      await server.request('PUT', spend(orgId, missing, 'r'), { token: write, body: { amount: 5 } }),
      404,
      'not_found',
    );
    expectError(await server.request('DELETE', spend(orgId, missing, 'r'), { token: write }), 404, 'not_found');
    expect(await getCustomer(orgId, customer.id, read)).toEqual(before);
    expect(await storedLedger(orgId, customer.id)).toEqual({ points: [], spend: [] });
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
  });

  it('needs customers:write (403), a token (401) and the organization (404)', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const outsider = await createTenant(server);
    for (const [method, path, body] of [
      ['PUT', points(orgId, customer.id, 'r'), { amount: 5 }],
      ['DELETE', points(orgId, customer.id, 'r'), undefined],
      ['PUT', spend(orgId, customer.id, 'r'), { amount: 5 }],
      ['DELETE', spend(orgId, customer.id, 'r'), undefined],
    ] as const) {
      expectError(await server.request(method, path, { token: read, body }), 403, 'forbidden');
      expectError(await server.request(method, path, { body }), 401, 'unauthorized');
      expectError(await server.request(method, path, { token: outsider.write, body }), 404, 'not_found');
    }
    expect(await storedLedger(orgId, customer.id)).toEqual({ points: [], spend: [] });
  });

  it('keeps the incrementally kept statistics equal to a full recompute under random concurrent ledger changes, reversals, payments and refunds (property)', async () => {
    const { orgId, read, write } = await createTenant(server);
    const location = await server.request<{ id: string }>('POST', `/organizations/${orgId}/locations`, {
      token: write,
      body: { name: 'Till' },
    });
    expect(location.status).toBe(201);
    // Completion times from a handful of seconds in the past, so payments tie and arrive out of time order.
    const completedAt = fc.option(
      fc.integer({ min: 0, max: 5 }).map((s) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString()),
      { nil: undefined },
    );
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('points' as const),
        who: fc.nat(),
        amount: fc.integer({ min: -300, max: 500 }).filter((n) => n !== 0),
      }),
      fc.record({
        kind: fc.constant('spend' as const),
        who: fc.nat(),
        amount: fc.integer({ min: 1, max: 10_000 }),
        completedAt,
      }),
      fc.record({
        kind: fc.constant('payment' as const),
        who: fc.nat(),
        charged: fc.integer({ min: 0, max: 5_000 }),
        external: fc.integer({ min: 0, max: 5_000 }),
        atLocation: fc.boolean(),
        completedAt,
      }),
      fc.record({ kind: fc.constant('reverse' as const), target: fc.nat() }),
      // A refund of a share of what remains (0: all of it).
      fc.record({ kind: fc.constant('refund' as const), target: fc.nat(), share: fc.constantFrom(0, 0.25, 0.5) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(operation, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
        async (batches) => {
          const customers = [
            await server.createCustomer(orgId, {}, write),
            await server.createCustomer(orgId, {}, write),
          ];
          const made: { kind: 'points' | 'spend' | 'payment'; customerId: string; reference: string; paid: number }[] =
            [];
          let n = 0;
          // Each batch runs concurrently; batches run one after another so reversals and refunds have targets.
          for (const batch of batches) {
            const requests = batch.map((op) => {
              if (op.kind === 'reverse' || op.kind === 'refund') {
                const target = made[op.target % Math.max(made.length, 1)];
                if (!target) return Promise.resolve(204);
                if (target.kind === 'payment') {
                  const amount = op.kind === 'refund' && op.share > 0 ? Math.floor(target.paid * op.share) : undefined;
                  return (
                    server
                      .request('POST', `/organizations/${orgId}/payments/${target.reference}/refund`, {
                        token: write,
                        body: amount ? { amount } : {},
                      })
                      // Refunding more than a concurrent refund left is a 400 naming the amount: a refusal like the 409s.
                      .then((r) => (r.status === 400 && r.text.includes('must not exceed') ? 409 : r.status))
                  );
                }
                const path =
                  target.kind === 'points'
                    ? points(orgId, target.customerId, target.reference)
                    : spend(orgId, target.customerId, target.reference);
                return server.request('DELETE', path, { token: write }).then((r) => r.status);
              }
              const customerId = customers[op.who % customers.length]!.id;
              const reference = `ref-${++n}`;
              if (op.kind === 'payment') {
                made.push({ kind: op.kind, customerId, reference, paid: op.charged + op.external });
                const body = {
                  billingType: 'order/pickup',
                  chargedAmount: op.charged,
                  externalAmount: op.external,
                  customerId,
                  ...(op.atLocation ? { locationId: location.body.id } : {}),
                  ...(op.completedAt ? { completedAt: op.completedAt } : {}),
                  items: [],
                };
                return server
                  .request('PUT', `/organizations/${orgId}/payments/${reference}`, { token: write, body })
                  .then((r) => r.status);
              }
              made.push({ kind: op.kind, customerId, reference, paid: op.amount });
              if (op.kind === 'points') {
                return server
                  .request('PUT', points(orgId, customerId, reference), { token: write, body: { amount: op.amount } })
                  .then((r) => r.status);
              }
              const body = op.completedAt ? { amount: op.amount, occurredAt: op.completedAt } : { amount: op.amount };
              return server
                .request('PUT', spend(orgId, customerId, reference), { token: write, body })
                .then((r) => r.status);
            });
            const statuses = await Promise.all(requests);
            // Refusals are allowed (overdrafts, reversing or refunding twice), 5xx never.
            expect(statuses.filter((s) => ![201, 200, 204, 404, 409].includes(s))).toEqual([]);
          }
          for (const customer of customers) {
            const ledger = await storedLedger(orgId, customer.id);
            const customerNow = await getCustomer(orgId, customer.id, read);
            expect(customerNow.statistics).toEqual(statisticsOf(ledger.points, ledger.spend));
            expect(customerNow.statistics!.pointsBalance).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('keeps the feed gapless when a write records more or fewer events than it reserved with the clock', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const body = { billingType: 'order/pickup', chargedAmount: 500, customerId: customer.id, items: [] };
    const payment = `/organizations/${orgId}/payments/gapless-1`;
    // Reserves two, records two; then the same body again records none; a refused adjustment none either.
    expect((await server.request('PUT', payment, { token: write, body })).status).toBe(201);
    expect((await server.request('PUT', payment, { token: write, body })).status).toBe(200);
    const overdraft = await server.request('PUT', points(orgId, customer.id, 'r'), {
      token: write,
      body: { amount: -1 },
    });
    expectError(overdraft, 409, 'insufficient_points');
    expect(
      (await server.request('PUT', points(orgId, customer.id, 'r'), { token: write, body: { amount: 3 } })).status,
    ).toBe(204);
    const events = await readEvents(server, orgId, read);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.event)).toEqual([
      'customer.created',
      'payment.completed',
      'customer.updated-statistics',
      'customer.updated-statistics',
    ]);
    expect(await lastSequence(server, orgId, read)).toBe(events.length);
  });

  it('keeps statistics exact under many parallel adjustments of one customer', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    await server.request('PUT', points(orgId, customer.id, 'seed'), { token: write, body: { amount: 100 } });
    // 60 parallel redemptions of 10 against a balance of 100 plus 20 earnings of 5: the balance never goes negative.
    const results = await Promise.all([
      ...Array.from({ length: 60 }, (_, i) =>
        server.request('PUT', points(orgId, customer.id, `redeem-${i}`), { token: write, body: { amount: -10 } }),
      ),
      ...Array.from({ length: 20 }, (_, i) =>
        server.request('PUT', points(orgId, customer.id, `earn-${i}`), { token: write, body: { amount: 5 } }),
      ),
      ...Array.from({ length: 20 }, (_, i) =>
        server.request('PUT', spend(orgId, customer.id, `sale-${i}`), { token: write, body: { amount: 100 + i } }),
      ),
    ]);
    const redeemed = results.slice(0, 60).filter((r) => r.status === 204).length;
    expect(
      results
        .slice(0, 60)
        .every(
          (r) => r.status === 204 || (r.status === 409 && (r.body as { code: string }).code === 'insufficient_points'),
        ),
    ).toBe(true);
    expect(redeemed).toBeGreaterThanOrEqual(10);
    expect(redeemed).toBeLessThanOrEqual(20);
    const stats = (await getCustomer(orgId, customer.id, read)).statistics!;
    expect(stats.pointsBalance).toBe(100 + 100 - redeemed * 10);
    expect(stats.totalSpend).toBe(20 * 100 + 190);
    const ledger = await storedLedger(orgId, customer.id);
    expect(stats).toEqual(statisticsOf(ledger.points, ledger.spend));
    const events = await readEvents(server, orgId, read);
    expect(events.filter((e) => e.event === 'customer.updated-statistics')).toHaveLength(1 + redeemed + 40);
  });
});
