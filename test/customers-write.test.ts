import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('customer writes', (backend) => {
  let server: TestServer;
  let orgId: string;
  let writer: string;
  let reader: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    const org = await server.createOrganization();
    orgId = org.id;
    writer = await server.createToken([orgId], ['customers:read', 'customers:write']);
    reader = await server.createToken([orgId], ['customers:read']);
  });
  afterAll(async () => server?.close());

  async function storedCustomers() {
    return server.store.db
      .selectFrom('customers')
      .selectAll()
      .where('organization_id', '=', orgId)
      .orderBy('id')
      .execute();
  }

  describe('POST customers', () => {
    it('creates a customer: 201, new ULID, zero statistics, normalized phone, stored', async () => {
      const res = await server.request<Customer>('POST', `/organizations/${orgId}/customers`, {
        token: writer,
        body: {
          firstName: ' Jane ',
          lastName: 'Doe',
          email: 'Jane.Doe@Example.com',
          phoneNumber: '0411 222 333',
          dob: '1990-02-28',
          gender: 'FEMALE',
          hasAgreedToMarketing: false,
        },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        firstName: 'Jane',
        lastName: 'Doe',
        email: 'Jane.Doe@Example.com',
        phoneNumber: '+61411222333',
        dob: '1990-02-28',
        gender: 'FEMALE',
        hasAgreedToMarketing: false,
        statistics: { pointsBalance: 0, totalPointsEarned: 0, totalPointsRedeemed: 0, totalSpend: 0 },
      });
      expect(res.body.createdAt).toBe(res.body.updatedAt);
      const row = await server.store.db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', res.body.id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        organization_id: orgId,
        email_normalized: 'jane.doe@example.com',
        phone_number: '+61411222333',
        has_agreed_to_marketing: 0,
      });
      const got = await server.request('GET', `/organizations/${orgId}/customers/${res.body.id}`, { token: reader });
      expect(got.body).toEqual(res.body);
    });

    it('accepts createdAt for imports and keeps updatedAt as the write time', async () => {
      const res = await server.request<Customer>('POST', `/organizations/${orgId}/customers`, {
        token: writer,
        body: { firstName: 'Old', lastName: 'Timer', createdAt: '2019-05-06T07:08:09+10:00' },
      });
      expect(res.status).toBe(201);
      expect(res.body.createdAt).toBe('2019-05-05T21:08:09Z');
      expect(Date.parse(res.body.updatedAt!)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    });

    const invalidBodies: [string, Record<string, unknown>, string][] = [
      ['missing firstName', { lastName: 'X' }, 'firstName'],
      ['missing lastName', { firstName: 'X' }, 'lastName'],
      ['blank firstName', { firstName: '   ', lastName: 'X' }, 'firstName'],
      ['unknown field', { firstName: 'X', lastName: 'Y', nickname: 'Z' }, 'nickname'],
      ['id', { id: '01FCCGYZA9JPQ97HBSTKW0KT7P', firstName: 'X', lastName: 'Y' }, 'id'],
      ['updatedAt', { firstName: 'X', lastName: 'Y', updatedAt: '2021-10-20T14:51:16Z' }, 'updatedAt'],
      ['statistics', { firstName: 'X', lastName: 'Y', statistics: { pointsBalance: 5 } }, 'statistics'],
      ['invalid email', { firstName: 'X', lastName: 'Y', email: 'nope@' }, 'email'],
      ['invalid phone', { firstName: 'X', lastName: 'Y', phoneNumber: '12' }, 'phoneNumber'],
      ['invalid dob', { firstName: 'X', lastName: 'Y', dob: '2021-02-30' }, 'dob'],
      ['dob with time', { firstName: 'X', lastName: 'Y', dob: '2021-02-03T00:00:00Z' }, 'dob'],
      ['future dob', { firstName: 'X', lastName: 'Y', dob: '2999-01-01' }, 'dob'],
      ['invalid gender', { firstName: 'X', lastName: 'Y', gender: 'male' }, 'gender'],
      [
        'non-boolean marketing',
        { firstName: 'X', lastName: 'Y', hasAgreedToMarketing: 'true' },
        'hasAgreedToMarketing',
      ],
      ['number name', { firstName: 5, lastName: 'Y' }, 'firstName'],
      ['invalid createdAt', { firstName: 'X', lastName: 'Y', createdAt: 'yesterday' }, 'createdAt'],
      ['future createdAt', { firstName: 'X', lastName: 'Y', createdAt: '2999-01-01T00:00:00Z' }, 'createdAt'],
      ['null firstName', { firstName: null, lastName: 'Y' }, 'firstName'],
    ];
    for (const [name, body, field] of invalidBodies) {
      it(`rejects ${name} with 400 naming ${field}, storing nothing`, async () => {
        const before = await storedCustomers();
        const res = await server.request('POST', `/organizations/${orgId}/customers`, { token: writer, body });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          code: 'bad_request',
          message: expect.any(String),
          instance: expect.any(String),
          details: expect.arrayContaining([expect.objectContaining({ field })]),
        });
        expect(await storedCustomers()).toEqual(before);
      });
    }

    it('rejects a body that is not a JSON object', async () => {
      const before = await storedCustomers();
      for (const rawBody of ['[]', '"x"', '{"firstName":', 'null']) {
        const res = await server.request('POST', `/organizations/${orgId}/customers`, {
          token: writer,
          rawBody,
          headers: { 'content-type': 'application/json' },
        });
        expect(res.status, rawBody).toBe(400);
        expect(res.body).toMatchObject({ code: 'bad_request' });
      }
      const form = await server.request('POST', `/organizations/${orgId}/customers`, {
        token: writer,
        rawBody: 'firstName=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(415);
      expect(form.body).toMatchObject({ code: 'unsupported_media_type' });
      expect(await storedCustomers()).toEqual(before);
    });

    it('rejects a body over 1 MiB with 413', async () => {
      const res = await server.request('POST', `/organizations/${orgId}/customers`, {
        token: writer,
        body: { firstName: 'x'.repeat(1024 * 1024 + 10), lastName: 'Y' },
      });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: 'payload_too_large' });
    });
  });

  describe('PATCH customers', () => {
    it('updates only the given fields, advances updatedAt, and can remove optional fields with null', async () => {
      const created = await server.createCustomer(
        orgId,
        { email: 'p@example.com', phoneNumber: '0411000111', gender: 'OTHER' },
        writer,
      );
      await new Promise((r) => setTimeout(r, 1100));
      const res = await server.request<Customer>('PATCH', `/organizations/${orgId}/customers/${created.id}`, {
        token: writer,
        body: { lastName: 'Changed', email: null, hasAgreedToMarketing: true },
      });
      expect(res.status).toBe(200);
      const { updatedAt, ...rest } = res.body;
      const { updatedAt: before, email: _removed, ...unchanged } = created;
      expect(rest).toEqual({ ...unchanged, lastName: 'Changed', hasAgreedToMarketing: true });
      expect(Date.parse(updatedAt!)).toBeGreaterThan(Date.parse(before!));
      const row = await server.store.db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        last_name: 'Changed',
        email: null,
        email_normalized: null,
        has_agreed_to_marketing: 1,
      });
      const search = await server.request<Customer[]>(
        'GET',
        `/organizations/${orgId}/customers?email=p%40example.com`,
        { token: reader },
      );
      expect(search.body).toEqual([]);
    });

    it('leaves updatedAt alone when nothing changes', async () => {
      const created = await server.createCustomer(orgId, { firstName: 'Same' }, writer);
      const row = await server.store.db
        .selectFrom('customers')
        .select('updated_at')
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      const res = await server.request<Customer>('PATCH', `/organizations/${orgId}/customers/${created.id}`, {
        token: writer,
        body: { firstName: 'Same' },
      });
      expect(res.status).toBe(200);
      const after = await server.store.db
        .selectFrom('customers')
        .select('updated_at')
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      expect(after.updated_at).toBe(row.updated_at);
    });

    it('rejects invalid patches with 400 and changes nothing', async () => {
      const created = await server.createCustomer(orgId, {}, writer);
      const before = await storedCustomers();
      for (const body of [
        { firstName: null },
        { firstName: '' },
        { email: 'bad' },
        { phoneNumber: 'x' },
        { dob: '1990-13-01' },
        { gender: 'X' },
        { id: 'other' },
        { createdAt: '2020-01-01T00:00:00Z' },
        { statistics: {} },
        { lastName: 'Fine', email: 'bad' },
      ]) {
        const res = await server.request('PATCH', `/organizations/${orgId}/customers/${created.id}`, {
          token: writer,
          body,
        });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body).toMatchObject({ code: 'bad_request', details: expect.any(Array) });
      }
      expect(await storedCustomers()).toEqual(before);
    });

    it('is a 404 for an unknown customer or one of another organization', async () => {
      const other = await server.createOrganization();
      const otherCustomer = await server.createCustomer(other.id);
      for (const id of ['01FCCGYZA9JPQ97HBSTKW0KT7P', otherCustomer.id]) {
        const res = await server.request('PATCH', `/organizations/${orgId}/customers/${id}`, {
          token: writer,
          body: { firstName: 'X' },
        });
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ code: 'not_found' });
      }
      const untouched = await server.store.db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', otherCustomer.id)
        .executeTakeFirstOrThrow();
      expect(untouched.first_name).toBe(otherCustomer.firstName);
    });
  });

  describe('commit order', () => {
    it('gives every write in an organization a strictly greater updatedAt, also under concurrency', async () => {
      const org = await server.createOrganization();
      const token = await server.createToken([org.id], ['customers:read', 'customers:write']);
      const customers = await Promise.all(Array.from({ length: 10 }, () => server.createCustomer(org.id, {}, token)));
      await Promise.all(
        customers.flatMap((c, i) =>
          [1, 2, 3].map((n) =>
            server.request('PATCH', `/organizations/${org.id}/customers/${c.id}`, {
              token,
              body: { firstName: `N${i}-${n}` },
            }),
          ),
        ),
      );
      const rows = await server.store.db
        .selectFrom('customers')
        .select(['updated_at'])
        .where('organization_id', '=', org.id)
        .execute();
      const stamps = rows.map((r) => r.updated_at);
      expect(new Set(stamps).size).toBe(stamps.length);
      const orgRow = await server.store.db
        .selectFrom('organizations')
        .select('clock')
        .where('id', '=', org.id)
        .executeTakeFirstOrThrow();
      expect(orgRow.clock).toBe(Math.max(...stamps));
    });
  });
});
