import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomersApiError, CustomersClient } from '../src/client/index.js';
import { loadConfig } from '../src/config.js';
import { CustomerTinySchema, type Customer } from '../src/contract/customers.js';
import type { Location } from '../src/contract/locations.js';
import {
  PaymentItemChoiceSchema,
  PaymentItemOptionSchema,
  PaymentItemSchema,
  PaymentSchema,
  type Payment,
} from '../src/contract/payments.js';
import { createServices } from '../src/services.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, errorFields, expectError, lastSequence, readAllPages, readEvents } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { LOKE_PAYMENT_EXAMPLE } from './fixtures/loke-examples.js';

const REFERENCED = [CustomerTinySchema, PaymentItemChoiceSchema, PaymentItemOptionSchema, PaymentItemSchema];

describe('payment schema', () => {
  it("accepts LOKE's documented payment example", () => {
    expect(Value.Check(PaymentSchema, REFERENCED, LOKE_PAYMENT_EXAMPLE)).toBe(true);
  });
});

/** The spend a list of payments implies (README: chargedAmount + externalAmount less refunds). */
function spendOf(payments: { paid: number; refunded: number; completedAt: number }[]) {
  const counting = payments.filter((p) => p.refunded === 0 || p.refunded < p.paid);
  return {
    totalSpend: payments.reduce((t, p) => t + p.paid - p.refunded, 0),
    lastSpentAt:
      counting.length === 0 ? undefined : new Date(Math.max(...counting.map((p) => p.completedAt))).toISOString(),
  };
}

await describeEachBackend('payments', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  const paymentPath = (orgId: string, id: string) => `/organizations/${orgId}/payments/${encodeURIComponent(id)}`;

  async function record(orgId: string, id: string, body: Record<string, unknown>, token: string, status = 201) {
    const response = await server.request<Payment>('PUT', paymentPath(orgId, id), { token, body });
    expect(response.status, response.text).toBe(status);
    return response.body;
  }

  async function refund(orgId: string, id: string, token: string, body?: Record<string, unknown>) {
    return server.request<Payment>('POST', `${paymentPath(orgId, id)}/refund`, { token, body });
  }

  async function location(orgId: string, token: string, name: string): Promise<Location> {
    const response = await server.request<Location>('POST', `/organizations/${orgId}/locations`, {
      token,
      body: { name },
    });
    expect(response.status).toBe(201);
    return response.body;
  }

  async function statistics(orgId: string, customerId: string, token: string) {
    const response = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${customerId}`, {
      token,
    });
    expect(response.status).toBe(200);
    return response.body.statistics!;
  }

  const storedPayments = (orgId: string) =>
    server.store.db.selectFrom('payments').selectAll().where('organization_id', '=', orgId).orderBy('id').execute();

  it('records a completed payment in the LOKE shape, idempotently, and feeds totalSpend and lastSpentAt', async () => {
    const { orgId, read, write } = await createTenant(server);
    const richmond = await location(orgId, write, 'Richmond');
    const customer = await server.createCustomer(
      orgId,
      { firstName: 'John', lastName: 'Smith', email: 'john@example.com', phoneNumber: '+61411222333' },
      write,
    );
    const choice = { amount: 50, id: 'CSML1', name: 'Small' };
    const body = {
      billingType: 'order/pickup',
      chargedAmount: 600,
      creditAmount: 200,
      discountAmount: 300,
      externalAmount: 600,
      feeAmount: 10,
      tipAmount: 100,
      currency: 'AUD',
      completedAt: '2018-08-08T02:35:21Z',
      createdAt: '2018-08-08T02:30:00Z',
      locationId: richmond.id,
      customerId: customer.id,
      items: [
        {
          amount: 450,
          id: 'FOOD001',
          name: 'Coffee',
          quantity: 2,
          type: 'item',
          options: [{ id: 'OPT01', name: 'Size', choices: [choice] }],
        },
        { amount: 300, id: 'FOOD002', name: 'Muffin', quantity: 1 },
      ],
    };
    const before = await lastSequence(server, orgId, read);
    const created = await record(orgId, '29e13de7-d158-4aba-a928-7d868c1dbfb9', body, write);
    expect(created).toEqual({
      billingType: 'order/pickup',
      chargedAmount: 600,
      completedAt: '2018-08-08T02:35:21Z',
      createdAt: '2018-08-08T02:30:00Z',
      creditAmount: 200,
      currency: 'AUD',
      customer: {
        email: 'john@example.com',
        firstName: 'John',
        id: customer.id,
        lastName: 'Smith',
        phoneNumber: '+61411222333',
      },
      discountAmount: 300,
      externalAmount: 600,
      feeAmount: 10,
      id: '29e13de7-d158-4aba-a928-7d868c1dbfb9',
      items: [body.items[0], { amount: 300, id: 'FOOD002', name: 'Muffin', options: [], quantity: 1, type: 'item' }],
      locationId: richmond.id,
      tipAmount: 100,
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    // LOKE's key order: alphabetical.
    expect(Object.keys(created)).toEqual([...Object.keys(created)].sort());
    expect(Value.Check(PaymentSchema, REFERENCED, created)).toBe(true);
    const got = await server.request<Payment>('GET', paymentPath(orgId, created.id), { token: read });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);

    // Spend counts what was paid (charged + external), not credit, discounts, fees or tips.
    const stats = await statistics(orgId, customer.id, read);
    expect(stats.totalSpend).toBe(1200);
    expect(stats.lastSpentAt).toBe('2018-08-08T02:35:21.000Z');
    const events = (await readEvents(server, orgId, read, before)).filter(
      (e) => e.event === 'customer.updated-statistics',
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.statistics).toEqual(stats);

    // The same body again (keys in another order) is a no-op 200: nothing stored, no event, updatedAt kept.
    const sequence = await lastSequence(server, orgId, read);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect(await record(orgId, created.id, reordered, write, 200)).toEqual(created);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
    // Another body for a recorded payment is a 409, and changes nothing.
    const changed = await server.request('PUT', paymentPath(orgId, created.id), {
      token: write,
      body: { ...body, chargedAmount: 700 },
    });
    expectError(changed, 409, 'conflict');
    expect((await server.request('GET', paymentPath(orgId, created.id), { token: read })).body).toEqual(created);
    expect((await statistics(orgId, customer.id, read)).totalSpend).toBe(1200);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);

    // Minimal payment: no customer, no location; amounts default to 0, completedAt to now, createdAt to completedAt.
    const startedAt = Date.now() - 1000;
    const bare = await record(orgId, 'bare-1', { billingType: 'tab', chargedAmount: 5 }, write);
    expect(bare.customer).toBeUndefined();
    expect(bare.locationId).toBeUndefined();
    expect(bare.refundedAt).toBeUndefined();
    expect(bare).toMatchObject({ creditAmount: 0, discountAmount: 0, externalAmount: 0, feeAmount: 0, tipAmount: 0 });
    expect(bare.items).toEqual([]);
    expect(Date.parse(bare.completedAt)).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(bare.createdAt).toBe(bare.completedAt);
    expect(bare.currency).toBe('AUD');
  });

  it('refunds partly, then the rest; refuses more than remains (400) and nothing left (409)', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    await record(
      orgId,
      'older',
      { billingType: 'tab', chargedAmount: 100, completedAt: '2021-01-01T00:00:00Z', customerId: customer.id },
      write,
    );
    const payment = await record(
      orgId,
      'p-1',
      {
        billingType: 'tab',
        chargedAmount: 1000,
        externalAmount: 500,
        completedAt: '2021-06-01T00:00:00Z',
        customerId: customer.id,
      },
      write,
    );
    expect((await statistics(orgId, customer.id, read)).totalSpend).toBe(1600);

    const partial = await refund(orgId, payment.id, write, { amount: 400 });
    expect(partial.status, partial.text).toBe(200);
    expect(partial.body.refundedAmount).toBe(400);
    expect(partial.body.refundedAt).toMatch(/Z$/);
    expect(Date.parse(partial.body.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(payment.updatedAt!));
    let stats = await statistics(orgId, customer.id, read);
    expect(stats.totalSpend).toBe(1200);
    expect(stats.lastSpentAt).toBe('2021-06-01T00:00:00.000Z');

    const sequence = await lastSequence(server, orgId, read);
    const tooMuch = await refund(orgId, payment.id, write, { amount: 1101 });
    expectError(tooMuch, 400, 'bad_request');
    expect(errorFields(tooMuch.body as never)).toEqual(['amount']);
    for (const bad of [{ amount: 0 }, { amount: -5 }, { amount: 1.5 }, { amount: '5' }, { other: 1 }]) {
      expectError(await refund(orgId, payment.id, write, bad), 400, 'bad_request');
    }
    expect(await lastSequence(server, orgId, read)).toBe(sequence);

    // No body: all that remains. The wholly refunded payment no longer counts toward lastSpentAt.
    const rest = await refund(orgId, payment.id, write);
    expect(rest.status, rest.text).toBe(200);
    expect(rest.body.refundedAmount).toBe(1500);
    stats = await statistics(orgId, customer.id, read);
    expect(stats.totalSpend).toBe(100);
    expect(stats.lastSpentAt).toBe('2021-01-01T00:00:00.000Z');
    expectError(await refund(orgId, payment.id, write), 409, 'conflict');
    expectError(await refund(orgId, 'missing', write), 404, 'not_found');

    const rows = await storedPayments(orgId);
    expect(rows.map((r) => [r.id, Number(r.refunded_amount)])).toEqual([
      ['older', 0],
      ['p-1', 1500],
    ]);
  });

  it('refuses bad input with a 400 naming the field, and stores nothing', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const other = await createTenant(server);
    const foreignLocation = await location(other.orgId, other.write, 'Elsewhere');
    const foreignCustomer = await server.createCustomer(other.orgId, {}, other.write);
    const sequence = await lastSequence(server, orgId, read);
    const ok = { billingType: 'tab', chargedAmount: 100 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, locationId: 'NOPE' }, 'locationId'],
      [{ ...ok, locationId: foreignLocation.id }, 'locationId'],
      [{ ...ok, customerId: 'NOPE' }, 'customerId'],
      [{ ...ok, customerId: foreignCustomer.id }, 'customerId'],
      [{ ...ok, currency: 'NZD' }, 'currency'],
      [{ ...ok, completedAt: 'yesterday' }, 'completedAt'],
      [{ ...ok, completedAt: '2999-01-01T00:00:00Z' }, 'completedAt'],
      [{ ...ok, completedAt: '2021-02-30T00:00:00Z' }, 'completedAt'],
      [{ ...ok, completedAt: '2021-01-01T00:00:00Z', createdAt: '2021-01-02T00:00:00Z' }, 'createdAt'],
      [{ ...ok, chargedAmount: -1 }, 'chargedAmount'],
      [{ ...ok, chargedAmount: 1.5 }, 'chargedAmount'],
      [{ ...ok, tipAmount: '5' }, 'tipAmount'],
      [{ ...ok, billingType: '   ' }, 'billingType'],
      [{ chargedAmount: 5 }, 'billingType'],
      [{ ...ok, refundedAt: '2021-01-01T00:00:00Z' }, 'refundedAt'],
      [{ ...ok, items: [{ id: 'A', name: 'A', amount: 1 }] }, 'items.0.quantity'],
      [{ ...ok, items: [{ id: 'A', name: ' ', amount: 1, quantity: 1 }] }, 'items.0.name'],
      [{ ...ok, items: [{ id: 'A', name: 'A', amount: 1, quantity: 0 }] }, 'items.0.quantity'],
      [
        { ...ok, items: [{ id: 'A', name: 'A', amount: 1, quantity: 1, options: [{ id: 'O', name: 'O' }] }] },
        'items.0.options.0.choices',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await server.request('PUT', paymentPath(orgId, 'p-bad'), { token: write, body });
      expectError(response, 400, 'bad_request');
      const fields = errorFields(response.body as never).map((f) => f.replace(/^\/?body\/?/, '').replaceAll('/', '.'));
      expect(
        fields.some((f) => f === field || f.startsWith(`${field}`)),
        `${JSON.stringify(body)} -> ${response.text}`,
      ).toBe(true);
    }
    for (const id of ['-starts-with-dash', 'has space', 'x'.repeat(101)]) {
      expectError(await server.request('PUT', paymentPath(orgId, id), { token: write, body: ok }), 400, 'bad_request');
    }
    expectError(
      await server.request('PUT', paymentPath(orgId, 'p'), {
        token: write,
        rawBody: 'not json',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'bad_request',
    );
    expect(await storedPayments(orgId)).toEqual([]);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
    expect((await statistics(orgId, customer.id, read)).totalSpend).toBe(0);
    expectError(await server.request('GET', paymentPath(orgId, 'missing'), { token: read }), 404, 'not_found');
  });

  it('needs customers:write to record and refund (403), a token (401), and the organization (404)', async () => {
    const { orgId, read, write } = await createTenant(server);
    await record(orgId, 'p-1', { billingType: 'tab', chargedAmount: 5 }, write);
    const outsider = await createTenant(server);
    for (const [method, path, body] of [
      ['PUT', paymentPath(orgId, 'p-2'), { billingType: 'tab' }],
      ['POST', `${paymentPath(orgId, 'p-1')}/refund`, {}],
    ] as const) {
      expectError(await server.request(method, path, { token: read, body }), 403, 'forbidden');
      expectError(await server.request(method, path, { body }), 401, 'unauthorized');
      expectError(await server.request(method, path, { token: outsider.write, body }), 404, 'not_found');
    }
    for (const path of [`/organizations/${orgId}/payments`, paymentPath(orgId, 'p-1')]) {
      expect((await server.request('GET', path, { token: read })).status).toBe(200);
      expectError(await server.request('GET', path, {}), 401, 'unauthorized');
      expectError(await server.request('GET', path, { token: outsider.read }), 404, 'not_found');
    }
    expect((await storedPayments(orgId)).map((r) => [r.id, Number(r.refunded_amount)])).toEqual([['p-1', 0]]);
  });

  it('pages both sorts, most recent first, filtered by locationId and customerId, with limit', async () => {
    const { orgId, read, write } = await createTenant(server);
    const [a, b] = [await location(orgId, write, 'A'), await location(orgId, write, 'B')];
    const [x, y] = [await server.createCustomer(orgId, {}, write), await server.createCustomer(orgId, {}, write)];
    const made: { id: string; locationId: string; customerId: string; createdAt: number }[] = [];
    for (let i = 0; i < 24; i++) {
      const locationId = i % 2 === 0 ? a.id : b.id;
      const customerId = i % 3 === 0 ? x.id : y.id;
      // Creation times out of id order, with ties, so the keyset's tie-break on id is exercised.
      const createdAt = Date.UTC(2021, 0, 1) + (i % 5) * 60_000;
      const id = `pay-${String(i).padStart(2, '0')}`;
      await record(
        orgId,
        id,
        {
          billingType: 'tab',
          chargedAmount: 100 + i,
          createdAt: new Date(createdAt).toISOString(),
          completedAt: new Date(createdAt + 1000).toISOString(),
          locationId,
          customerId,
        },
        write,
      );
      made.push({ id, locationId, customerId, createdAt });
    }
    // Refunds move updatedAt, so sort=updated differs from both id and creation order.
    for (const id of ['pay-03', 'pay-10']) expect((await refund(orgId, id, write, { amount: 1 })).status).toBe(200);

    const byCreated = [...made].sort((p, q) => q.createdAt - p.createdAt || (p.id < q.id ? 1 : -1)).map((p) => p.id);
    const notRefunded = made.map((p) => p.id).filter((id) => id !== 'pay-03' && id !== 'pay-10');
    const byUpdated = ['pay-10', 'pay-03', ...notRefunded.reverse()];
    const filters: [string, (p: (typeof made)[number]) => boolean][] = [
      ['', () => true],
      [`locationId=${a.id}`, (p) => p.locationId === a.id],
      [`customerId=${x.id}`, (p) => p.customerId === x.id],
      [`locationId=${b.id}&customerId=${y.id}`, (p) => p.locationId === b.id && p.customerId === y.id],
    ];
    for (const [query, keep] of filters) {
      const kept = new Set(made.filter(keep).map((p) => p.id));
      for (const [sort, order] of [
        ['', byCreated],
        ['sort=created', byCreated],
        ['sort=updated', byUpdated],
      ] as const) {
        const path = `/organizations/${orgId}/payments?${[query, sort, 'limit=5'].filter(Boolean).join('&')}`;
        const all = await readAllPages<Payment>(server, path, read);
        expect(
          all.map((p) => p.id),
          path,
        ).toEqual(order.filter((id) => kept.has(id)));
      }
    }
    const first = await server.request<Payment[]>('GET', `/organizations/${orgId}/payments`, { token: read });
    expect(first.body).toHaveLength(24);
    expect(first.headers.get('x-next-page')).toBeNull();
    const paged = await server.request<Payment[]>('GET', `/organizations/${orgId}/payments?limit=5&sort=updated`, {
      token: read,
    });
    const next = new URL(paged.headers.get('x-next-page')!);
    expect(next.searchParams.get('sort')).toBe('updated');
    // A cursor used with other parameters, or tampered with, is a 400.
    const cursor = next.searchParams.get('after')!;
    expectError(
      await server.request('GET', `/organizations/${orgId}/payments?after=${cursor}&sort=updated&locationId=${a.id}`, {
        token: read,
      }),
      400,
      'bad_request',
    );
    expectError(
      await server.request('GET', `/organizations/${orgId}/payments?after=${cursor}x&sort=updated`, { token: read }),
      400,
      'bad_request',
    );
    for (const bad of ['sort=newest', 'limit=0', 'limit=101', 'limit=x']) {
      expectError(
        await server.request('GET', `/organizations/${orgId}/payments?${bad}`, { token: read }),
        400,
        'bad_request',
      );
    }
    // An unknown location or customer in a filter simply matches nothing.
    const none = await server.request<Payment[]>('GET', `/organizations/${orgId}/payments?locationId=NOPE`, {
      token: read,
    });
    expect(none.status).toBe(200);
    expect(none.body).toEqual([]);
  });

  it('keeps totalSpend and lastSpentAt equal to the payments under random completes and refunds (property)', async () => {
    const { orgId, read, write } = await createTenant(server);
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('complete' as const),
        charged: fc.integer({ min: 0, max: 5000 }),
        external: fc.integer({ min: 0, max: 5000 }),
        credit: fc.integer({ min: 0, max: 500 }),
        day: fc.integer({ min: 0, max: 400 }),
      }),
      fc.record({
        kind: fc.constant('refund' as const),
        target: fc.nat(),
        amount: fc.option(fc.integer({ min: 1, max: 6000 }), { nil: undefined }),
      }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        async (batches) => {
          const customer = await server.createCustomer(orgId, {}, write);
          // The model: what each payment paid and how much of it has been refunded.
          const model = new Map<string, { paid: number; refunded: number; completedAt: number }>();
          run++;
          let n = 0;
          for (const batch of batches) {
            // Each batch runs concurrently; batches run one after another so refunds have targets.
            await Promise.all(
              batch.map(async (op) => {
                if (op.kind === 'complete') {
                  const id = `r${run}-${++n}`;
                  const completedAt = Date.UTC(2021, 0, 1) + op.day * 86_400_000;
                  const response = await server.request('PUT', paymentPath(orgId, id), {
                    token: write,
                    body: {
                      billingType: 'tab',
                      chargedAmount: op.charged,
                      externalAmount: op.external,
                      creditAmount: op.credit,
                      completedAt: new Date(completedAt).toISOString(),
                      customerId: customer.id,
                    },
                  });
                  expect(response.status).toBe(201);
                  model.set(id, { paid: op.charged + op.external, refunded: 0, completedAt });
                  return;
                }
                const ids = [...model.keys()];
                const id = ids[op.target % Math.max(ids.length, 1)];
                if (id === undefined) return;
                const response = await refund(
                  orgId,
                  id,
                  write,
                  op.amount === undefined ? undefined : { amount: op.amount },
                );
                const entry = model.get(id)!;
                if (response.status === 200) entry.refunded = response.body.refundedAmount ?? 0;
                else expect([400, 409]).toContain(response.status);
              }),
            );
          }
          // The model's refunded amounts come from the last response of each payment; read them back to be exact.
          for (const row of await server.store.db
            .selectFrom('payments')
            .select(['id', 'refunded_amount'])
            .where('organization_id', '=', orgId)
            .where('customer_id', '=', customer.id)
            .execute()) {
            const entry = model.get(row.id)!;
            expect(Number(row.refunded_amount)).toBeGreaterThanOrEqual(entry.refunded);
            entry.refunded = Number(row.refunded_amount);
            expect(entry.refunded).toBeLessThanOrEqual(entry.paid);
          }
          const expected = spendOf([...model.values()]);
          const stats = await statistics(orgId, customer.id, read);
          expect(stats.totalSpend).toBe(expected.totalSpend);
          expect(stats.lastSpentAt).toBe(expected.lastSpentAt);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('keeps totalSpend exact under many concurrent payments and refunds for one customer', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        server.request('PUT', paymentPath(orgId, `c-${i}`), {
          token: write,
          body: { billingType: 'tab', chargedAmount: 100 + i, customerId: customer.id },
        }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    // 20 concurrent refunds of 10 against each of two payments of 100 and 101: at most 10 of each succeed.
    const refunds = await Promise.all(
      ['c-0', 'c-1'].flatMap((id) => Array.from({ length: 20 }, () => refund(orgId, id, write, { amount: 10 }))),
    );
    expect(refunds.every((r) => r.status === 200 || r.status === 400 || r.status === 409)).toBe(true);
    const refunded = refunds.filter((r) => r.status === 200).length * 10;
    expect(refunded).toBe(200);
    const total = Array.from({ length: 40 }, (_, i) => 100 + i).reduce((t, a) => t + a, 0);
    expect((await statistics(orgId, customer.id, read)).totalSpend).toBe(total - refunded);
    const events = await readEvents(server, orgId, read);
    expect(events.filter((e) => e.event === 'customer.updated-statistics')).toHaveLength(40 + 20);
  });

  it('works through the SDK: list as an async iterable, get, record, refund, typed errors', async () => {
    const { orgId, read, write } = await createTenant(server);
    const reader = new CustomersClient({ baseUrl: server.baseUrl, token: read });
    const writer = new CustomersClient({ baseUrl: server.baseUrl, token: write });
    const customer = await server.createCustomer(orgId, {}, write);
    const venue = await writer.locations.create(orgId, { name: 'SDK Cafe' });
    const body = (i: number) => ({
      billingType: 'order/pickup',
      chargedAmount: 100 * (i + 1),
      customerId: customer.id,
      locationId: venue.id,
    });
    for (let i = 0; i < 7; i++) {
      expect((await writer.payments.record(orgId, `sdk-${i}`, body(i))).chargedAmount).toBe(100 * (i + 1));
    }
    // Retrying a record is safe: the same body is a no-op.
    await writer.payments.record(orgId, 'sdk-0', body(0));
    const seen: string[] = [];
    for await (const payment of reader.payments.list(orgId, { locationId: venue.id, limit: 3 })) seen.push(payment.id);
    expect(seen).toEqual(['sdk-6', 'sdk-5', 'sdk-4', 'sdk-3', 'sdk-2', 'sdk-1', 'sdk-0']);
    const updated = await reader.payments.list(orgId, { customerId: customer.id, sort: 'updated' }).toArray();
    expect(updated).toHaveLength(7);
    expect((await writer.payments.refund(orgId, 'sdk-6', { amount: 200 })).refundedAmount).toBe(200);
    expect((await reader.payments.get(orgId, 'sdk-6')).refundedAmount).toBe(200);
    expect((await writer.payments.refund(orgId, 'sdk-6')).refundedAmount).toBe(700);
    const again = await writer.payments.refund(orgId, 'sdk-6').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(CustomersApiError);
    expect(again).toMatchObject({ status: 409, code: 'conflict' });
    const changed = await writer.payments
      .record(orgId, 'sdk-0', { billingType: 'tab', chargedAmount: 1 })
      .catch((e: unknown) => e);
    expect(changed).toMatchObject({ status: 409, code: 'conflict' });
    expect(await reader.payments.get(orgId, 'nope').catch((e: unknown) => e)).toMatchObject({ status: 404 });
    expect((await reader.customers.get(orgId, customer.id)).statistics!.totalSpend).toBe(2800 - 700);
  });

  it('erasing a customer keeps their payments without the customer, and no personal data in them', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(
      orgId,
      { firstName: 'Erin', lastName: 'Erased', email: 'erin@example.com', phoneNumber: '+61411999888' },
      write,
    );
    const paid = await record(
      orgId,
      'erase-1',
      { billingType: 'tab', chargedAmount: 700, customerId: customer.id },
      write,
    );
    await server.request('PUT', `/organizations/${orgId}/customers/${customer.id}/spend/sale-1`, {
      token: write,
      body: { amount: 300 },
    });
    expect(paid.customer?.email).toBe('erin@example.com');
    const deleted = await server.request('DELETE', `/organizations/${orgId}/customers/${customer.id}`, {
      token: write,
    });
    expect(deleted.status).toBe(204);

    const after = await server.request<Payment>('GET', paymentPath(orgId, 'erase-1'), { token: read });
    expect(after.status).toBe(200);
    expect(after.body.customer).toBeUndefined();
    expect(after.body.chargedAmount).toBe(700);
    expect(Date.parse(after.body.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(paid.updatedAt!));
    const listed = await readAllPages<Payment>(server, `/organizations/${orgId}/payments`, read);
    expect(listed).toHaveLength(2);
    expect(listed.every((p) => p.customer === undefined)).toBe(true);
    expect(JSON.stringify(listed)).not.toMatch(/Erin|Erased|erin@|61411999888/);
    const rows = await storedPayments(orgId);
    expect(rows.map((r) => [r.customer_id, r.spend_reference])).toEqual([
      [null, null],
      [null, null],
    ]);
    const byCustomer = await server.request<Payment[]>(
      'GET',
      `/organizations/${orgId}/payments?customerId=${customer.id}`,
      { token: read },
    );
    expect(byCustomer.body).toEqual([]);
  });
});

await describeEachBackend('payments migration from spend records', (backend) => {
  it("turns every spend record into a payment and keeps each customer's statistics", async () => {
    const database = await backend.createDatabase();
    const store = await openStore(database.target);
    try {
      const migrations = Object.keys(await migrationProvider.getMigrations()).sort();
      const previous = migrations[migrations.indexOf('2026-12-02T0640-payments') - 1]!;
      const migrated = await store.withMigrationDb((db) =>
        new Migrator({ db, provider: migrationProvider }).migrateTo(previous),
      );
      expect(migrated.error).toBeUndefined();

      // Old-shape data: spend records behind two customers' totals, and a total an import wrote with no record.
      const org = '01JORG000000000000000000AA';
      const [ann, bob, cat] = [
        '01JCUST0000000000000000ANN',
        '01JCUST0000000000000000BOB',
        '01JCUST0000000000000000CAT',
      ];
      const t = Date.UTC(2021, 5, 1);
      await sql`insert into organizations (id, name, currency, timezone, created_at, clock, event_sequence)
        values (${org}, 'Old', 'NZD', 'Pacific/Auckland', ${t}, ${t + 10_000}, 0)`.execute(store.db);
      const customer = (id: string, spend: number, lastSpentAt: number | null) =>
        sql`insert into customers (organization_id, id, first_name, last_name, created_at, updated_at, total_spend, last_spent_at)
          values (${org}, ${id}, 'F', 'L', ${t}, ${t}, ${spend}, ${lastSpentAt})`.execute(store.db);
      await customer(ann, 1550, t + 5000);
      await customer(bob, 0, null);
      await customer(cat, 4000, t + 7000);
      const spend = (customerId: string, reference: string, amount: number, at: number) =>
        sql`insert into spend_records (organization_id, customer_id, reference, amount, occurred_at)
          values (${org}, ${customerId}, ${reference}, ${amount}, ${at})`.execute(store.db);
      await spend(ann, 'sale-1', 1250, t + 5000);
      await spend(ann, 'sale-2', 300, t + 1000);
      await spend(cat, 'till-9', 1000, t + 2000);

      await migrateToLatest(store);
      const config = loadConfig({ LOG_LEVEL: 'silent', ...database.serverEnv });
      const services = createServices(store, config);
      const page = await services.payments.listPayments(org, { limit: 100 });
      const byCustomer = (id: string) => page.items.filter((p) => p.customer?.id === id);
      expect(byCustomer(ann).map((p) => [p.externalAmount, p.completedAt, p.billingType, p.currency])).toEqual([
        [1250, '2021-06-01T00:00:05Z', 'external', 'NZD'],
        [300, '2021-06-01T00:00:01Z', 'external', 'NZD'],
      ]);
      // 3000 of Cat's 4000 had no record: an opening balance carries it, at her last spend.
      expect(byCustomer(cat).map((p) => [p.externalAmount, p.billingType, p.completedAt])).toEqual([
        [3000, 'opening-balance', '2021-06-01T00:00:07Z'],
        [1000, 'external', '2021-06-01T00:00:02Z'],
      ]);
      expect(byCustomer(bob)).toEqual([]);
      for (const [id, totalSpend, lastSpentAt] of [
        [ann, 1550, '2021-06-01T00:00:05.000Z'],
        [bob, 0, undefined],
        [cat, 4000, '2021-06-01T00:00:07.000Z'],
      ] as const) {
        const stats = (await services.customers.getCustomer(org, id)).statistics!;
        expect(stats.totalSpend).toBe(totalSpend);
        expect(stats.lastSpentAt).toBe(lastSpentAt);
      }
      // The spend alias finds the migrated records by their reference.
      await expect(services.ledgers.recordSpend(org, ann, 'sale-1', { amount: 5 })).rejects.toMatchObject({
        code: 'conflict',
      });
      await services.ledgers.reverseSpend(org, ann, 'sale-2');
      expect((await services.customers.getCustomer(org, ann)).statistics!.totalSpend).toBe(1250);
      const tables = await store.db.introspection.getTables();
      expect(tables.map((table) => table.name)).not.toContain('spend_records');
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
