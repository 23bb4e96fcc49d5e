import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { createCustomerService } from '../src/domain/customers/customer-service.js';
import { describeEachBackend } from './helpers/backends.js';
import { serializeCustomer, serializeCustomers } from './helpers/customer-serializer.js';
import { insertCustomerRows } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Get a customer and the email / phone search answer with JSON text written straight from the row
// (src/domain/customers/customer-json.ts) instead of the API object run through the route's schema serializer.
// The reference is that serializer over the service's objects: the bytes on the wire must be the same.

const NAMES = ['Zoë "Quote" \\ Back', 'Ōkawa 太郎 😀', 'tab\there', 'line\nbreak', '\u2028sep\u2029', '</script><b>'];
const SHARED_PHONE = '+61411220000';

await describeEachBackend('get and email / phone search written from the row', (backend) => {
  let server: TestServer;
  let org: string;
  let read: string;
  let write: string;
  let ids: string[];
  beforeAll(async () => {
    server = await startTestServer(backend);
    org = (await server.createOrganization()).id;
    read = await server.createToken([org], ['customers:read']);
    write = await server.createToken([org], ['customers:read', 'customers:write']);
    const rows = await insertCustomerRows(server.store, org, 12, {
      row: (i) => ({
        first_name: NAMES[i % NAMES.length]!,
        last_name: `Last${i}`,
        email: i % 2 === 0 ? `Read.${i}@Example.com` : null,
        email_normalized: i % 2 === 0 ? `read.${i}@example.com` : null,
        // Five customers share a phone number: the search pages through them.
        phone_number: i < 5 ? SHARED_PHONE : i % 3 === 0 ? `+6141122${String(i).padStart(4, '0')}` : null,
        dob: i % 4 === 0 ? '1990-02-03' : null,
        gender: i % 2 === 0 ? 'OTHER' : null,
        has_agreed_to_marketing: i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : null,
        points_balance: i * 7,
        total_points_earned: i * 9,
        total_points_redeemed: i * 2,
        total_spend: i * 1000,
        last_points_earned_at: i % 2 === 0 ? Date.UTC(2021, 5, 1, 2, 3, 4, i) : null,
        last_spent_at: i % 3 === 0 ? Date.UTC(2022, 1, 2, 3, 4, 5, 678) : null,
        metadata: i % 4 === 0 ? JSON.stringify({ 10: 'ten', 9: 'nine', tier: `gold "${i}"`, z: 'ü' }) : null,
      }),
    });
    ids = rows.map((row) => row.id);
  });
  afterAll(async () => server?.close());

  const service = () => createCustomerService(server.store, { defaultPhoneRegion: 'AU' });

  it('answers a get with the bytes and ETag of the schema serializer, before and after a change', async () => {
    for (const id of ids) {
      const res = await server.request('GET', `/organizations/${org}/customers/${id}`, { token: read });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.text).toBe(serializeCustomer(await service().getCustomer(org, id)));
      expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(res.text)));
      expect(res.headers.get('etag')).toMatch(new RegExp(`^"${id}-[0-9a-z]+"$`));
    }
    const id = ids[4]!;
    const before = await server.request('GET', `/organizations/${org}/customers/${id}`, { token: read });
    const patched = await server.request<Customer>('PATCH', `/organizations/${org}/customers/${id}`, {
      token: write,
      body: { firstName: 'Änne "B"', metadata: { tier: 'x\ny' } },
    });
    expect(patched.status).toBe(200);
    const after = await server.request('GET', `/organizations/${org}/customers/${id}`, { token: read });
    expect(after.text).toBe(serializeCustomer(patched.body));
    expect(after.text).toBe(serializeCustomer(await service().getCustomer(org, id)));
    expect(after.headers.get('etag')).toBe(patched.headers.get('etag'));
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
  });

  it('keeps the error answers of a get: unknown customer, bad token', async () => {
    const missing = await server.request<{ code: string }>('GET', `/organizations/${org}/customers/nobody`, {
      token: read,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const unauthorized = await server.request('GET', `/organizations/${org}/customers/${ids[0]}`, { token: 'nope' });
    expect(unauthorized.status).toBe(401);
  });

  it('answers email and phone searches page by page with the bytes of the schema serializer', async () => {
    const searches = [
      ...ids.filter((_, i) => i % 2 === 0).map((_, n) => `email=${encodeURIComponent(`READ.${n * 2}@example.COM`)}`),
      `phoneNumber=${encodeURIComponent(SHARED_PHONE)}`,
      `phoneNumber=${encodeURIComponent('0411 220 000')}`,
      `phoneNumber=${encodeURIComponent('+61411220009')}`,
      'email=nobody%40example.com',
    ];
    for (const search of searches) {
      for (const limit of [1, 2, 1000]) {
        const params = new URLSearchParams(search);
        const options = {
          email: params.get('email') ?? undefined,
          phoneNumber: params.get('phoneNumber') ?? undefined,
          filters: {},
          limit,
        };
        // X-Next-Page (the HTTP layer's cursor) and the service's own cursors, followed side by side.
        let path: string | undefined = `/organizations/${org}/customers?${search}&limit=${limit}`;
        let after: string | undefined;
        let served = 0;
        do {
          const res: { status: number; headers: Headers; text: string } = await server.request('GET', path, {
            token: read,
          });
          expect(res.status).toBe(200);
          const expected = await service().listCustomers(org, { ...options, after });
          expect(res.text).toBe(serializeCustomers(expected.items));
          const next = res.headers.get('x-next-page');
          expect(next === null).toBe(expected.next === undefined);
          served += expected.items.length;
          after = expected.next;
          path = next === null ? undefined : next.slice(server.baseUrl.length);
        } while (path !== undefined);
        if (search.startsWith('phoneNumber=%2B61411220000') || search.startsWith('phoneNumber=0411'))
          expect(served).toBe(5);
      }
    }
  });

  it('keeps invalid searches a 400 that names the parameter, and leaves the customers as they were', async () => {
    const before = await server.request('GET', `/organizations/${org}/customers?limit=1000`, { token: read });
    for (const [query, field] of [
      ['phoneNumber=12', 'phoneNumber'],
      ['email=not-an-email', 'email'],
      [`email=a%40example.com&phoneNumber=${encodeURIComponent(SHARED_PHONE)}`, 'phoneNumber'],
    ] as const) {
      const res = await server.request<{ code: string; details?: { field: string }[] }>(
        'GET',
        `/organizations/${org}/customers?${query}`,
        { token: read },
      );
      expect(res.status).toBe(400);
      expect(res.body.details?.map((d) => d.field)).toContain(field);
    }
    const after = await server.request('GET', `/organizations/${org}/customers?limit=1000`, { token: read });
    expect(after.text).toBe(before.text);
  });
});
