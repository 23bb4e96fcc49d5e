import { afterAll, beforeAll, expect, it } from 'vitest';
import { CustomersClient } from '../src/client/index.js';
import type { CustomerList } from '../src/contract/customer-lists.js';
import type { FeedEvent } from '../src/contract/events.js';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type ApiResponse, type TestServer } from './helpers/test-server.js';

/** The customer ids an event's payload names: its customer, or its payment's. */
function customersNamed(event: FeedEvent): string[] {
  const ids: string[] = [];
  const customer = event.customer as { id?: string } | undefined;
  if (customer?.id) ids.push(customer.id);
  const paying = (event.payment as { customer?: { id?: string } } | undefined)?.customer;
  if (paying?.id) ids.push(paying.id);
  return ids;
}

await describeEachBackend("a customer's events (customerId and order=newest on the feed)", (backend) => {
  let server: TestServer;
  let orgId: string;
  let read: string;
  let write: string;
  let ann: string;
  let bob: string;

  async function get<T = FeedEvent[]>(path: string, token = read) {
    return server.request<T>('GET', `/organizations/${orgId}/events${path}`, { token });
  }

  /** Follows X-Next-Page from `query` to the end. */
  async function readAll(query: string): Promise<FeedEvent[]> {
    const events: FeedEvent[] = [];
    let next: string | null = `/organizations/${orgId}/events${query}`;
    while (next) {
      const response: ApiResponse<FeedEvent[]> = await server.request<FeedEvent[]>('GET', next, {
        token: read,
      });
      expect(response.status).toBe(200);
      events.push(...response.body);
      next = response.headers.get('x-next-page');
    }
    return events;
  }

  async function ok(method: string, path: string, body?: unknown) {
    const response = await server.request(method, `/organizations/${orgId}${path}`, { token: write, body });
    expect(response.status, `${method} ${path}: ${response.text}`).toBeLessThan(300);
    return response;
  }

  beforeAll(async () => {
    server = await startTestServer(backend);
    const org = await server.createOrganization();
    orgId = org.id;
    read = await server.createToken([orgId], ['customers:read']);
    write = await server.createToken([orgId], ['customers:read', 'customers:write']);
    ann = (await server.createCustomer(orgId, { firstName: 'Ann', email: 'ann@example.com' }, write)).id;
    bob = (await server.createCustomer(orgId, { firstName: 'Bob', email: 'bob@example.com' }, write)).id;
    await ok('PATCH', `/customers/${ann}`, { email: 'ann.lee@example.com' });
    await ok('PUT', `/customers/${ann}/points/visit-1`, { amount: 50 });
    await ok('PUT', `/customers/${bob}/points/visit-1`, { amount: 5 });
    await ok('PUT', `/customers/${ann}/points/reward-1`, { amount: -20 });
    await ok('DELETE', `/customers/${ann}/points/reward-1`);
    const list = (await ok('POST', '/customer-lists', { name: 'VIP' })).body as CustomerList;
    await ok('PUT', `/customer-lists/${list.id}/members/${ann}`);
    await ok('PUT', `/customer-lists/${list.id}/members/${bob}`);
    await ok('DELETE', `/customer-lists/${list.id}/members/${ann}`);
    await ok('PUT', '/payments/pay-1', { billingType: 'order/pickup', chargedAmount: 600, customerId: ann });
    await ok('PUT', '/payments/pay-2', { billingType: 'order/pickup', chargedAmount: 300 });
    await ok('POST', '/payments/pay-1/refund', { amount: 100 });
  });
  afterAll(async () => server?.close());

  it("serves exactly the events that name the customer, in the feed's order", async () => {
    const feed = await readAll('');
    const expected = feed.filter((event) => customersNamed(event).includes(ann));
    const response = await get(`?customerId=${ann}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-next-page')).toBeNull();
    expect(response.body).toEqual(expected);
    expect(response.body.map((event) => event.event)).toEqual([
      'customer.created',
      'customer.updated',
      'customer.updated-statistics',
      'customer.updated-statistics',
      'customer.updated-statistics',
      'customer-list.member-added',
      'customer-list.member-removed',
      'payment.completed',
      'customer.updated-statistics',
      'payment.refunded',
      'customer.updated-statistics',
    ]);
    // Bob's three events, the list's creation and the sale without a customer are left out.
    expect(feed.length - response.body.length).toBe(5);
    expect((await get(`?customerId=${bob}`)).body).toEqual(feed.filter((event) => customersNamed(event).includes(bob)));
  });

  it('order=newest pages back from the latest event, and the cursor alone continues the same listing', async () => {
    const oldestFirst = (await get(`?customerId=${ann}`)).body;
    const first = await get(`?customerId=${ann}&order=newest&limit=3`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual(oldestFirst.slice(-3).reverse());
    const next = new URL(first.headers.get('x-next-page')!);
    expect(next.searchParams.get('customerId')).toBe(ann);
    expect(next.searchParams.get('order')).toBe('newest');
    // LOKE clients rebuild the next URL from `after` alone.
    const cursorOnly = await get(`?after=${encodeURIComponent(next.searchParams.get('after')!)}`);
    expect(cursorOnly.body).toEqual(oldestFirst.slice(-6, -3).reverse());
    expect(await readAll(`?customerId=${ann}&order=newest&limit=3`)).toEqual([...oldestFirst].reverse());
    // The whole feed newest first, too.
    const feed = await readAll('');
    expect(await readAll('?order=newest&limit=7')).toEqual([...feed].reverse());
  });

  it('an id no customer has gives an empty feed', async () => {
    const response = await get('?customerId=01JNOSUCHCUSTOMER000000000');
    expect([response.status, response.body, response.headers.get('x-next-page')]).toEqual([200, [], null]);
  });

  it('rejects bad ids, orders and cursors of other listings with 400 and our error body', async () => {
    const page = await get(`?customerId=${ann}&limit=1`);
    const annCursor = new URL(page.headers.get('x-next-page')!).searchParams.get('after')!;
    const feedPage = await get('?limit=1');
    const feedCursor = new URL(feedPage.headers.get('x-next-page')!).searchParams.get('after')!;
    const queries = [
      'customerId=',
      'customerId=has%20space',
      'customerId=a%00b',
      `customerId=${'x'.repeat(65)}`,
      'customerId=a&customerId=b',
      'order=sideways',
      'order=newest&afterSequence=3',
      `customerId=${ann}&after=${annCursor}x`,
      `customerId=${bob}&after=${encodeURIComponent(annCursor)}`,
      `order=newest&after=${encodeURIComponent(annCursor)}`,
      `customerId=${ann}&after=${encodeURIComponent(feedCursor)}`,
      `customerId=a%00b&after=${encodeURIComponent(annCursor)}`,
    ];
    for (const query of queries) {
      const response = await get<{ type: string; message: string; instance: string }>(`?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body, query).toMatchObject({
        type: 'bad_request',
        message: expect.any(String),
        instance: expect.any(String),
      });
    }
  });

  it('the SDK lists a customer newest first, a page at a time', async () => {
    const client = new CustomersClient({ baseUrl: server.baseUrl, token: read });
    const oldestFirst = (await get(`?customerId=${bob}`)).body;
    const list = client.events.list(orgId, { customerId: bob, order: 'newest', limit: 2 });
    const page = await list.page();
    expect(page.items).toEqual(oldestFirst.slice(-2).reverse());
    expect(page.next).toEqual(expect.any(String));
    const all: FeedEvent[] = [];
    for await (const event of list) all.push(event);
    expect(all).toEqual([...oldestFirst].reverse());
  });

  it("after erasure the customer's feed keeps their events without personal data, newest the tombstone", async () => {
    const carl = await server.createCustomer(
      orgId,
      { firstName: 'Carlotta', lastName: 'Quist', email: 'carlotta@example.com', phoneNumber: '+61411222333' },
      write,
    );
    await ok('PATCH', `/customers/${carl.id}`, { lastName: 'Quist-Lee' });
    await ok('PUT', `/customers/${carl.id}/points/visit-1`, { amount: 10 });
    await ok('PUT', '/payments/pay-carl', { billingType: 'order/pickup', chargedAmount: 900, customerId: carl.id });
    expect(
      (await server.request('DELETE', `/organizations/${orgId}/customers/${carl.id}`, { token: write })).status,
    ).toBe(204);
    const response = await get(`?customerId=${carl.id}&order=newest`);
    expect(response.status).toBe(200);
    expect(response.body.map((event) => event.event)).toEqual([
      'customer.deleted',
      'customer.updated-statistics',
      'payment.completed',
      'customer.updated-statistics',
      'customer.updated',
      'customer.created',
    ]);
    expect(response.body[0]).toMatchObject({ customer: { id: carl.id } });
    expect(response.text).not.toMatch(/Carlotta|Quist|carlotta@|411222333/);
    for (const event of response.body) expect(customersNamed(event)).toEqual([carl.id]);
  });
});
