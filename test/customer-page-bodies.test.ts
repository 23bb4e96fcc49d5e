import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { createCustomerService } from '../src/domain/customers/customer-service.js';
import { describeEachBackend } from './helpers/backends.js';
import { serializeCustomers } from './helpers/customer-serializer.js';
import { insertCustomerRows } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Pages of the plain listing are made of bodies kept per customer version (src/domain/customers/customer-bodies.ts).
// The reference is the same listing through the filtered path (a filter every customer passes), which serializes
// the page's objects with the route's response schema as before: the bytes must be the same on every read, and
// after every kind of change of a customer.

/** Matches every customer; sends the listing through the filtered query and the schema serializer. */
const EVERYONE = 'pointsBalanceMin=-999999999999999';

const NASTY = [
  'Zoë "Quote" \\ Back',
  'Ōkawa 太郎 😀',
  'tab\there',
  'line\nbreak',
  '\u2028sep\u2029',
  '</script><b>',
  'a'.repeat(200),
];

await describeEachBackend('pages of the plain listing from kept bodies', (backend) => {
  let server: TestServer;
  let org: string;
  let read: string;
  let write: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    org = (await server.createOrganization()).id;
    read = await server.createToken([org], ['customers:read']);
    write = await server.createToken([org], ['customers:read', 'customers:write']);
    await insertCustomerRows(server.store, org, 40, {
      row: (i) => ({
        first_name: NASTY[i % NASTY.length]!,
        last_name: `Last${i}`,
        email: i % 3 === 0 ? `p${i}@example.com` : null,
        email_normalized: i % 3 === 0 ? `p${i}@example.com` : null,
        phone_number: i % 4 === 0 ? `+6141122${String(i).padStart(4, '0')}` : null,
        dob: i % 5 === 0 ? '1990-02-03' : null,
        gender: i % 2 === 0 ? 'FEMALE' : null,
        has_agreed_to_marketing: i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : null,
        points_balance: i * 7,
        total_points_earned: i * 9,
        total_points_redeemed: i * 2,
        total_spend: i * 1000,
        last_points_earned_at: i % 2 === 0 ? Date.UTC(2021, 5, 1, 2, 3, 4, i) : null,
        metadata: i % 6 === 0 ? JSON.stringify({ 10: 'ten', 9: 'nine', tier: `gold "${i}"`, z: 'ü' }) : null,
      }),
    });
  });
  afterAll(async () => server?.close());

  /** Every page of the listing, as raw text, following X-Next-Page. */
  async function pages(query: string, token = read) {
    const texts: string[] = [];
    let path: string | undefined = `/organizations/${org}/customers?${query}`;
    while (path !== undefined) {
      const res: { status: number; headers: Headers; text: string } = await server.request('GET', path, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      texts.push(res.text);
      const next: string | null = res.headers.get('x-next-page');
      path = next === null ? undefined : next.slice(server.baseUrl.length);
    }
    return texts;
  }

  async function expectSameAsReference() {
    for (const sort of ['created', 'updated']) {
      const reference = await pages(`sort=${sort}&limit=7&${EVERYONE}`);
      // Read once (nothing kept), twice (bodies kept), three times (versions, then the kept bodies).
      for (let read = 0; read < 3; read++) expect(await pages(`sort=${sort}&limit=7`)).toEqual(reference);
      expect(reference.length).toBeGreaterThan(1);
    }
    const whole = (await pages(''))[0]!;
    expect(whole).toBe((await pages(EVERYONE))[0]);
    return JSON.parse(whole) as Customer[];
  }

  it('serves the same bytes as the schema serializer, on every read, for both sorts', async () => {
    const all = await expectSameAsReference();
    expect(all).toHaveLength(40);
    expect(all.map((c) => c.firstName)).toContain('line\nbreak');
  });

  it('follows every change of a customer: update, points, erasure, creation', async () => {
    await expectSameAsReference();
    const [first, second, third] = JSON.parse((await pages('limit=3'))[0]!) as Customer[];

    const patched = await server.request('PATCH', `/organizations/${org}/customers/${first!.id}`, {
      token: write,
      body: { firstName: 'Renamed' },
    });
    expect(patched.status).toBe(200);
    const earned = await server.request('PUT', `/organizations/${org}/customers/${second!.id}/points/bodies-1`, {
      token: write,
      body: { amount: 250 },
    });
    expect(earned.status).toBeLessThan(300);
    const erased = await server.request('DELETE', `/organizations/${org}/customers/${third!.id}`, { token: write });
    expect(erased.status).toBe(204);
    const created = await server.createCustomer(org, { firstName: 'New', lastName: 'Comer' });

    const all = await expectSameAsReference();
    const byId = new Map(all.map((c) => [c.id, c]));
    expect(byId.get(first!.id)?.firstName).toBe('Renamed');
    // The points change shows in the page as the customer's own GET has it.
    const secondNow = await server.request<Customer>('GET', `/organizations/${org}/customers/${second!.id}`, {
      token: read,
    });
    expect(secondNow.body.statistics?.pointsBalance).not.toBe(second!.statistics?.pointsBalance);
    expect(byId.get(second!.id)).toEqual(secondNow.body);
    expect(byId.has(third!.id)).toBe(false);
    expect(byId.get(created.id)?.lastName).toBe('Comer');
    // sort=updated: the changed customers come first now, as the reference has them.
    const updatedFirst = JSON.parse((await pages('sort=updated&limit=3'))[0]!) as Customer[];
    expect(updatedFirst.map((c) => c.id)).toEqual([created.id, second!.id, first!.id]);
  });

  it('keeps searches, filters and bad cursors on their own paths', async () => {
    const bad = await server.request('GET', `/organizations/${org}/customers?after=nonsense`, { token: read });
    expect(bad.status).toBe(400);
    const byEmail = await server.request<Customer[]>('GET', `/organizations/${org}/customers?email=p3@example.com`, {
      token: read,
    });
    expect(byEmail.body.map((c) => c.email)).toEqual(['p3@example.com']);
  });

  describe('with room for fewer bodies than a page', () => {
    it('still gives the listing of listCustomers, page after page', async () => {
      const service = createCustomerService(server.store, { defaultPhoneRegion: 'AU', customerBodies: 5 });
      for (const sort of ['created', 'updated'] as const) {
        for (let round = 0; round < 3; round++) {
          let after: string | undefined;
          do {
            const expected = await service.listCustomers(org, { sort, after, limit: 9 });
            const prepared = await service.listCustomerBodies(org, { sort, after, limit: 9 });
            expect(prepared?.body.toString()).toBe(serializeCustomers(expected.items));
            expect(prepared?.next).toBe(expected.next);
            after = expected.next;
          } while (after !== undefined);
        }
      }
      expect(await service.listCustomerBodies(org, { q: 'Last' })).toBeUndefined();
    });
  });
});
