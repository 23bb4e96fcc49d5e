import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer, CustomerListTiny } from '../src/contract/customers.js';
import { insertCustomerLists, insertListMembers } from '../src/store/repositories/membership-repository.js';
import { newId } from '../src/domain/ids.js';
import { describeEachBackend } from './helpers/backends.js';
import { insertCustomerRows } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const RFC3339_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

await describeEachBackend('seed read endpoints', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  describe('GET a customer', () => {
    it('returns the seed shape with exact formats, omitting absent optional fields', async () => {
      const org = await server.createOrganization();
      const token = await server.createToken([org.id], ['customers:read']);
      const full = await server.createCustomer(org.id, {
        firstName: 'John',
        lastName: 'Smith',
        email: 'john@example.com',
        phoneNumber: '+61411222333',
        dob: '2021-10-20',
        gender: 'MALE',
        hasAgreedToMarketing: true,
      });
      const res = await server.request<Customer>('GET', `/organizations/${org.id}/customers/${full.id}`, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        id: full.id,
        createdAt: expect.stringMatching(RFC3339_SECONDS),
        updatedAt: expect.stringMatching(RFC3339_SECONDS),
        dob: '2021-10-20',
        email: 'john@example.com',
        firstName: 'John',
        gender: 'MALE',
        hasAgreedToMarketing: true,
        lastName: 'Smith',
        phoneNumber: '+61411222333',
        statistics: { pointsBalance: 0, totalPointsEarned: 0, totalPointsRedeemed: 0, totalSpend: 0 },
      });
      expect(full.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);

      const minimal = await server.createCustomer(org.id, { firstName: 'Ann', lastName: 'Lee' });
      const got = await server.request<Customer>('GET', `/organizations/${org.id}/customers/${minimal.id}`, { token });
      expect(Object.keys(got.body).sort()).toEqual([
        'createdAt',
        'firstName',
        'id',
        'lastName',
        'statistics',
        'updatedAt',
      ]);
      expect(got.text).not.toContain('null');
    });

    it('formats statistics timestamps with milliseconds', async () => {
      const org = await server.createOrganization();
      const token = await server.createToken([org.id], ['customers:read']);
      const [row] = await insertCustomerRows(server.store, org.id, 1, {
        row: () => ({
          points_balance: 3125,
          total_points_earned: 4523,
          total_points_redeemed: 1398,
          total_spend: 3687,
          last_points_earned_at: Date.parse('2021-08-23T02:06:24.000Z'),
          last_points_redeemed_at: Date.parse('2021-03-17T04:27:06.000Z'),
          last_spent_at: Date.parse('2021-08-23T02:06:23.000Z'),
          created_at: Date.parse('2021-10-20T14:51:16.789Z'),
          updated_at: Date.parse('2021-10-21T18:34:45.123Z'),
        }),
      });
      const res = await server.request<Customer>('GET', `/organizations/${org.id}/customers/${row!.id}`, { token });
      expect(res.body.createdAt).toBe('2021-10-20T14:51:16Z');
      expect(res.body.updatedAt).toBe('2021-10-21T18:34:45Z');
      expect(res.body.statistics).toEqual({
        lastPointsEarnedAt: '2021-08-23T02:06:24.000Z',
        lastPointsRedeemedAt: '2021-03-17T04:27:06.000Z',
        lastSpentAt: '2021-08-23T02:06:23.000Z',
        pointsBalance: 3125,
        totalPointsEarned: 4523,
        totalPointsRedeemed: 1398,
        totalSpend: 3687,
      });
      expect(res.body.statistics!.lastSpentAt).toMatch(RFC3339_MILLIS);
    });

    it('is a 404 not_found for an unknown customer and for another organization’s customer', async () => {
      const orgA = await server.createOrganization();
      const orgB = await server.createOrganization();
      const token = await server.createToken([orgA.id, orgB.id], ['customers:read']);
      const inB = await server.createCustomer(orgB.id);
      const unknown = await server.request('GET', `/organizations/${orgA.id}/customers/01FCCGYZA9JPQ97HBSTKW0KT7P`, {
        token,
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({
        code: 'not_found',
        message: expect.any(String),
        instance: expect.any(String),
      });
      const cross = await server.request('GET', `/organizations/${orgA.id}/customers/${inB.id}`, { token });
      expect(cross.status).toBe(404);
      expect(cross.body).toMatchObject({ code: 'not_found' });
    });
  });

  describe('list customers', () => {
    let orgId: string;
    let token: string;
    let rows: Awaited<ReturnType<typeof insertCustomerRows>>;
    beforeAll(async () => {
      const org = await server.createOrganization();
      orgId = org.id;
      token = await server.createToken([org.id], ['customers:read']);
      // Groups of three share a created second and updatedAt collides in pairs: ties must break by id.
      rows = await insertCustomerRows(server.store, org.id, 2500, {
        updatedAt: (i) => Date.UTC(2022, 0, 1) + ((i * 7919) % 1250) * 1000,
      });
    });

    async function pageThrough(first: string, follow: 'new URL' | 'fetch') {
      const seen: Customer[] = [];
      let url: string | null = first;
      let pages = 0;
      while (url) {
        const target: string = follow === 'new URL' ? new URL(url, server.baseUrl).toString() : url;
        const res: Awaited<ReturnType<typeof server.request<Customer[]>>> = await server.request<Customer[]>(
          'GET',
          target,
          { token },
        );
        expect(res.status).toBe(200);
        expect(Array.isArray(res.body)).toBe(true);
        seen.push(...res.body);
        url = res.headers.get('x-next-page');
        if (url) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/organizations\//);
        pages++;
      }
      return { seen, pages };
    }

    for (const sort of ['created', 'updated'] as const) {
      it(`pages through 2,500 customers by ${sort}: 1000 a page, each exactly once, most recent first, ties by id`, async () => {
        const column = sort === 'created' ? 'created_at' : 'updated_at';
        const expected = [...rows].sort((a, b) => b[column] - a[column] || (a.id < b.id ? 1 : -1)).map((r) => r.id);
        for (const follow of ['new URL', 'fetch'] as const) {
          const { seen, pages } = await pageThrough(`/organizations/${orgId}/customers?sort=${sort}`, follow);
          expect(pages).toBe(3);
          expect(seen.map((c) => c.id)).toEqual(expected);
        }
      });
    }

    it('defaults to sort=created and keeps every other parameter in X-Next-Page', async () => {
      const byDefault = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers`, { token });
      const byCreated = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers?sort=created`, {
        token,
      });
      expect(byDefault.body.map((c) => c.id)).toEqual(byCreated.body.map((c) => c.id));
      expect(byDefault.body).toHaveLength(1000);

      const res = await server.request('GET', `/organizations/${orgId}/customers?sort=updated&limit=10&x-extra=1`, {
        token,
      });
      const next = new URL(res.headers.get('x-next-page')!);
      expect(next.pathname).toBe(`/organizations/${orgId}/customers`);
      expect(next.searchParams.get('sort')).toBe('updated');
      expect(next.searchParams.get('limit')).toBe('10');
      expect(next.searchParams.get('x-extra')).toBe('1');
      expect(next.searchParams.get('after')).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    });

    it('sends no X-Next-Page on the last page, even when it is exactly full', async () => {
      const org = await server.createOrganization();
      const t = await server.createToken([org.id], ['customers:read']);
      await insertCustomerRows(server.store, org.id, 4);
      const first = await server.request<Customer[]>('GET', `/organizations/${org.id}/customers?limit=2`, { token: t });
      expect(first.body).toHaveLength(2);
      const second = await server.request<Customer[]>('GET', first.headers.get('x-next-page')!, { token: t });
      expect(second.body).toHaveLength(2);
      expect(second.headers.get('x-next-page')).toBeNull();
    });

    it('uses PUBLIC_URL for X-Next-Page when configured', async () => {
      const other = await startTestServer(backend, { PUBLIC_URL: 'https://customers.example.com/' });
      try {
        const org = await other.createOrganization();
        const t = await other.createToken([org.id], ['customers:read']);
        await insertCustomerRows(other.store, org.id, 3);
        const res = await other.request('GET', `/organizations/${org.id}/customers?limit=1`, { token: t });
        expect(res.headers.get('x-next-page')).toMatch(
          new RegExp(`^https://customers\\.example\\.com/organizations/${org.id}/customers\\?limit=1&after=`),
        );
      } finally {
        await other.close();
      }
    });

    it('rejects tampered, malformed and foreign cursors with 400 bad_request', async () => {
      const res = await server.request('GET', `/organizations/${orgId}/customers?sort=created&limit=5`, { token });
      const next = new URL(res.headers.get('x-next-page')!);
      const cursor = next.searchParams.get('after')!;
      const [payload, check] = cursor.split('.') as [string, string];
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as unknown[];
      decoded[decoded.length - 1] = '0';
      const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${check}`;
      const bad = [
        'garbage',
        `${cursor}x`,
        forged,
        '.',
        'a'.repeat(3000),
        `${Buffer.from('{"v":1}').toString('base64url')}.AAAAAAAAAAAA`,
      ];
      for (const after of bad) {
        const r = await server.request(
          'GET',
          `/organizations/${orgId}/customers?sort=created&after=${encodeURIComponent(after)}`,
          { token },
        );
        expect(r.status, after).toBe(400);
        expect(r.body).toMatchObject({ code: 'bad_request', instance: expect.any(String) });
      }
      // A cursor made for sort=created, replayed with other parameters: the error names the one that contradicts it.
      for (const [query, field] of [
        ['sort=updated', 'sort'],
        ['sort=created&email=a%40b.co', 'email'],
        ['phoneNumber=0411222333', 'phoneNumber'],
        ['limit=6', 'limit'],
      ] as const) {
        const r = await server.request('GET', `/organizations/${orgId}/customers?${query}&after=${cursor}`, { token });
        expect(r.status, query).toBe(400);
        expect(r.body).toMatchObject({ code: 'bad_request', details: [{ field }] });
      }
      // ... or with another organization.
      const other = await server.createOrganization();
      const both = await server.createToken([orgId, other.id], ['customers:read']);
      const r = await server.request('GET', `/organizations/${other.id}/customers?sort=created&after=${cursor}`, {
        token: both,
      });
      expect(r.status).toBe(400);
    });

    it('rejects an unknown sort and a bad limit with 400', async () => {
      for (const query of ['sort=name', 'sort=', 'sort=CREATED', 'limit=0', 'limit=1001', 'limit=abc', 'limit=-1']) {
        const r = await server.request('GET', `/organizations/${orgId}/customers?${query}`, { token });
        expect(r.status, query).toBe(400);
        expect(r.body).toMatchObject({
          code: 'bad_request',
          details: [expect.objectContaining({ field: expect.any(String) })],
        });
      }
    });
  });

  describe('search', () => {
    let orgId: string;
    let token: string;
    let ids: Record<string, string>;
    beforeAll(async () => {
      const org = await server.createOrganization();
      orgId = org.id;
      token = await server.createToken([org.id], ['customers:read']);
      const a = await server.createCustomer(org.id, { email: 'John.Smith@Example.com', phoneNumber: '0411 222 333' });
      const b = await server.createCustomer(org.id, { email: 'other@example.com', phoneNumber: '+61 411 222 333' });
      const c = await server.createCustomer(org.id, {
        email: 'john.smith@example.com.au',
        phoneNumber: '+1 202 555 0123',
      });
      ids = { a: a.id, b: b.id, c: c.id };
    });

    it('finds by email exactly and case-insensitively', async () => {
      for (const email of ['john.smith@example.com', 'JOHN.SMITH@EXAMPLE.COM', ' John.Smith@example.com ']) {
        const r = await server.request<Customer[]>(
          'GET',
          `/organizations/${orgId}/customers?email=${encodeURIComponent(email)}`,
          { token },
        );
        expect(r.status).toBe(200);
        expect(r.body.map((c) => c.id)).toEqual([ids.a]);
        expect(r.body[0]!.email).toBe('John.Smith@Example.com');
      }
      const none = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers?email=john@example.com`, {
        token,
      });
      expect(none.body).toEqual([]);
    });

    it('finds by phone number in any common notation, normalized to E.164', async () => {
      for (const phone of ['0411 222 333', '+61 411 222 333', '+61411222333', '(04) 1122 2333']) {
        const r = await server.request<Customer[]>(
          'GET',
          `/organizations/${orgId}/customers?phoneNumber=${encodeURIComponent(phone)}`,
          { token },
        );
        expect(r.status, phone).toBe(200);
        expect(r.body.map((c) => c.id).sort()).toEqual([ids.a, ids.b].sort());
        expect(r.body.every((c) => c.phoneNumber === '+61411222333')).toBe(true);
      }
      const us = await server.request<Customer[]>(
        'GET',
        `/organizations/${orgId}/customers?phoneNumber=%2B12025550123`,
        { token },
      );
      expect(us.body.map((c) => c.id)).toEqual([ids.c]);
    });

    it('rejects an invalid email or phone number with 400 naming the field', async () => {
      for (const [query, field] of [
        ['email=not-an-email', 'email'],
        ['email=', 'email'],
        ['phoneNumber=123', 'phoneNumber'],
        ['phoneNumber=hello', 'phoneNumber'],
        ['email=a%40b.co&phoneNumber=0411222333', 'phoneNumber'],
      ] as const) {
        const r = await server.request('GET', `/organizations/${orgId}/customers?${query}`, { token });
        expect(r.status, query).toBe(400);
        expect(r.body).toMatchObject({ code: 'bad_request', details: [expect.objectContaining({ field })] });
      }
    });

    it('pages search results with the same rules', async () => {
      const org = await server.createOrganization();
      const t = await server.createToken([org.id], ['customers:read']);
      await insertCustomerRows(server.store, org.id, 5, {
        row: () => ({ email: 'Shared@Example.com', email_normalized: 'shared@example.com' }),
      });
      const first = await server.request<Customer[]>(
        'GET',
        `/organizations/${org.id}/customers?email=shared%40example.com&limit=3`,
        { token: t },
      );
      expect(first.body).toHaveLength(3);
      const next = first.headers.get('x-next-page')!;
      expect(new URL(next).searchParams.get('email')).toBe('shared@example.com');
      const second = await server.request<Customer[]>('GET', next, { token: t });
      expect(second.body).toHaveLength(2);
      expect(new Set([...first.body, ...second.body].map((c) => c.id)).size).toBe(5);
    });
  });

  describe('memberships', () => {
    it('lists the customer’s lists 10 a page, in list order, and 404s for unknown customers', async () => {
      const org = await server.createOrganization();
      const token = await server.createToken([org.id], ['customers:read']);
      const customer = await server.createCustomer(org.id);
      const loner = await server.createCustomer(org.id);
      const now = Date.now();
      const lists = Array.from({ length: 23 }, (_, i) => ({
        organization_id: org.id,
        id: newId(now + i),
        name: `List ${i}`,
        created_at: now + i,
        member_count: 1,
      }));
      await insertCustomerLists(server.store.db, lists);
      await insertListMembers(
        server.store.db,
        lists.map((l) => ({ organization_id: org.id, list_id: l.id, customer_id: customer.id, added_at: now })),
      );

      const seen: CustomerListTiny[] = [];
      let url: string | null = `/organizations/${org.id}/customers/${customer.id}/memberships`;
      const sizes: number[] = [];
      while (url) {
        const r: Awaited<ReturnType<typeof server.request<CustomerListTiny[]>>> = await server.request<
          CustomerListTiny[]
        >('GET', url, { token });
        expect(r.status).toBe(200);
        sizes.push(r.body.length);
        seen.push(...r.body);
        url = r.headers.get('x-next-page');
      }
      expect(sizes).toEqual([10, 10, 3]);
      expect(seen).toEqual(lists.map((l) => ({ id: l.id, name: l.name })));

      const empty = await server.request('GET', `/organizations/${org.id}/customers/${loner.id}/memberships`, {
        token,
      });
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual([]);
      expect(empty.headers.get('x-next-page')).toBeNull();

      const missing = await server.request(
        'GET',
        `/organizations/${org.id}/customers/01FCCGYZA9JPQ97HBSTKW0KT7P/memberships`,
        { token },
      );
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ code: 'not_found' });

      const badCursor = await server.request(
        'GET',
        `/organizations/${org.id}/customers/${customer.id}/memberships?after=nope`,
        { token },
      );
      expect(badCursor.status).toBe(400);
      // A memberships cursor of one customer does not work for another.
      const page1 = await server.request('GET', `/organizations/${org.id}/customers/${customer.id}/memberships`, {
        token,
      });
      const cursor = new URL(page1.headers.get('x-next-page')!).searchParams.get('after')!;
      const foreign = await server.request(
        'GET',
        `/organizations/${org.id}/customers/${loner.id}/memberships?after=${cursor}`,
        { token },
      );
      expect(foreign.status).toBe(400);
    });
  });

  describe('organizations', () => {
    it('lists only the granted organizations and gets one, 404 for others', async () => {
      const a = await server.createOrganization('Alpha');
      const b = await server.createOrganization('Beta');
      const hidden = await server.createOrganization('Hidden');
      const token = await server.createToken([a.id, b.id], ['customers:read']);
      const list = await server.request('GET', '/organizations', { token });
      expect(list.status).toBe(200);
      expect(list.body).toEqual([a, b].sort((x, y) => (x.id < y.id ? -1 : 1)));
      expect(a).toEqual({
        id: a.id,
        name: 'Alpha',
        currency: 'AUD',
        timezone: 'Australia/Melbourne',
        created: expect.stringMatching(RFC3339_SECONDS),
      });
      const one = await server.request('GET', `/organizations/${a.id}`, { token });
      expect(one.status).toBe(200);
      expect(one.body).toEqual(a);
      const denied = await server.request('GET', `/organizations/${hidden.id}`, { token });
      const missing = await server.request('GET', '/organizations/01FCCGYZA9JPQ97HBSTKW0KT7P', { token });
      expect(denied.status).toBe(404);
      expect(missing.status).toBe(404);
      expect({ ...(denied.body as object), instance: '' }).toEqual({ ...(missing.body as object), instance: '' });
    });

    it('pages the organization list', async () => {
      const orgs = await Promise.all(Array.from({ length: 5 }, (_, i) => server.createOrganization(`P${i}`)));
      const token = await server.createToken(
        orgs.map((o) => o.id),
        ['customers:read'],
      );
      const first = await server.request<{ id: string }[]>('GET', '/organizations?limit=3', { token });
      expect(first.body).toHaveLength(3);
      const second = await server.request<{ id: string }[]>('GET', first.headers.get('x-next-page')!, { token });
      expect(second.body).toHaveLength(2);
      expect(second.headers.get('x-next-page')).toBeNull();
      expect([...first.body, ...second.body].map((o) => o.id)).toEqual(orgs.map((o) => o.id).sort());
    });
  });
});
