import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PointsEntry } from '../src/contract/ledgers.js';
import type { Payment } from '../src/contract/payments.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, errorFields, expectErrorJson, readAllPages } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('points history and payments by customer (console extensions)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  const history = (orgId: string, customerId: string) => `/organizations/${orgId}/customers/${customerId}/points`;
  const adjust = (orgId: string, customerId: string, reference: string) =>
    `${history(orgId, customerId)}/${encodeURIComponent(reference)}`;

  async function storedEntries(orgId: string, customerId: string) {
    const rows = await server.store.db
      .selectFrom('point_records')
      .selectAll()
      .where('organization_id', '=', orgId)
      .where('customer_id', '=', customerId)
      .execute();
    return rows
      .map((row) => ({
        amount: Number(row.amount),
        occurredAt: new Date(Number(row.occurred_at)).toISOString(),
        reference: row.reference,
        ...(row.notes === null ? {} : { notes: row.notes }),
      }))
      .sort((a, b) =>
        a.occurredAt === b.occurredAt
          ? b.reference.localeCompare(a.reference)
          : b.occurredAt.localeCompare(a.occurredAt),
      );
  }

  it('lists adjustments newest first, paged with X-Next-Page, without reversed ones', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const other = await server.createCustomer(orgId, {}, write);
    for (let i = 0; i < 7; i++) {
      const body = i % 3 === 2 ? { amount: -1 } : { amount: 10 + i, ...(i === 1 ? { notes: 'welcome bonus' } : {}) };
      const response = await server.request('PUT', adjust(orgId, customer.id, `ref-${i}`), { token: write, body });
      expect(response.status, response.text).toBe(204);
    }
    expect(
      (await server.request('PUT', adjust(orgId, other.id, 'x'), { token: write, body: { amount: 5 } })).status,
    ).toBe(204);
    expect((await server.request('DELETE', adjust(orgId, customer.id, 'ref-3'), { token: write })).status).toBe(204);

    const first = await server.request<PointsEntry[]>('GET', `${history(orgId, customer.id)}?limit=4`, { token: read });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(4);
    expect(first.headers.get('x-next-page')).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/organizations\/.+\/points\?limit=4&after=/,
    );
    const all = await readAllPages<PointsEntry>(server, `${history(orgId, customer.id)}?limit=4`, read);
    const stored = await storedEntries(orgId, customer.id);
    expect(stored.map((e) => e.reference)).not.toContain('ref-3');
    expect(all).toEqual(stored);
    expect(all.find((e) => e.reference === 'ref-1')).toEqual(
      expect.objectContaining({ amount: 11, notes: 'welcome bonus' }),
    );
    expect(all.find((e) => e.reference === 'ref-2')?.amount).toBe(-1);
    // An exactly full last page has no header.
    const exact = await server.request<PointsEntry[]>('GET', `${history(orgId, customer.id)}?limit=6`, { token: read });
    expect(exact.body).toHaveLength(6);
    expect(exact.headers.get('x-next-page')).toBeNull();
    // A customer without adjustments: an empty page.
    const none = await server.createCustomer(orgId, {}, write);
    const empty = await server.request('GET', history(orgId, none.id), { token: read });
    expect([empty.status, empty.body, empty.headers.get('x-next-page')]).toEqual([200, [], null]);
  });

  it('refuses bad input: unknown customer 404, bad limit and cursors 400, a cursor of another customer 400', async () => {
    const { orgId, read, write } = await createTenant(server);
    const a = await server.createCustomer(orgId, {}, write);
    const b = await server.createCustomer(orgId, {}, write);
    for (const ref of ['1', '2'])
      await server.request('PUT', adjust(orgId, a.id, ref), { token: write, body: { amount: 3 } });
    expectErrorJson(await server.request('GET', history(orgId, 'no-such-customer'), { token: read }), 404);
    for (const limit of ['0', '101', 'abc', '1.5']) {
      const response = await server.request('GET', `${history(orgId, a.id)}?limit=${limit}`, { token: read });
      expect(errorFields(expectErrorJson(response, 400))).toContain('limit');
    }
    for (const after of ['garbage', 'x\u0000y', 'a'.repeat(3000)]) {
      const response = await server.request('GET', `${history(orgId, a.id)}?after=${encodeURIComponent(after)}`, {
        token: read,
      });
      expectErrorJson(response, 400);
    }
    const page = await server.request('GET', `${history(orgId, a.id)}?limit=1`, { token: read });
    const cursor = new URL(page.headers.get('x-next-page')!).searchParams.get('after')!;
    const response = await server.request('GET', `${history(orgId, b.id)}?after=${encodeURIComponent(cursor)}`, {
      token: read,
    });
    expect(errorFields(expectErrorJson(response, 400))).toContain('after');
  });

  it('needs a token that grants the organization and the read scope', async () => {
    const { orgId, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const elsewhere = await createTenant(server);
    expectErrorJson(await server.request('GET', history(orgId, customer.id), { token: null }), 401);
    expectErrorJson(await server.request('GET', history(orgId, customer.id), { token: elsewhere.read }), 404);
    const noRead = await server.createToken([orgId], ['webhooks:manage']);
    expectErrorJson(await server.request('GET', history(orgId, customer.id), { token: noRead }), 403);
  });

  it("filters payments by customer (the console's payments tab)", async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, {}, write);
    const other = await server.createCustomer(orgId, {}, write);
    for (const [id, customerId] of [
      ['p1', customer.id],
      ['p2', other.id],
      ['p3', customer.id],
    ] as const) {
      const response = await server.request('PUT', `/organizations/${orgId}/payments/${id}`, {
        token: write,
        body: { billingType: 'order/pickup', chargedAmount: 500, customerId },
      });
      expect(response.status, response.text).toBe(201);
    }
    const payments = await readAllPages<Payment>(
      server,
      `/organizations/${orgId}/payments?customerId=${customer.id}&limit=1`,
      read,
    );
    expect(payments.map((p) => p.id).sort()).toEqual(['p1', 'p3']);
    expect(payments.every((p) => p.customer?.id === customer.id)).toBe(true);
  });
});
