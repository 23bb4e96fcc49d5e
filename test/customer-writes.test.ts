import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import type { CustomerList } from '../src/contract/customer-lists.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, expectError, lastSequence, readEvents } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('customer writes: idempotency, ETag, erasure', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  const customersPath = (orgId: string) => `/organizations/${orgId}/customers`;

  async function countCustomers(orgId: string): Promise<number> {
    const rows = await server.store.db
      .selectFrom('customers')
      .select('id')
      .where('organization_id', '=', orgId)
      .execute();
    return rows.length;
  }

  describe('Idempotency-Key on POST customers', () => {
    it('returns the first 201 response for a retry with the same key and body, creating one customer', async () => {
      const { orgId, read, write } = await createTenant(server);
      const body = { firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com' };
      const first = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body,
        headers: { 'idempotency-key': 'create-ann-1' },
      });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      // Same body with other key order is the same request.
      const retry = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { email: 'ann@example.com', lastName: 'Lee', firstName: 'Ann' },
        headers: { 'idempotency-key': 'create-ann-1' },
      });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await countCustomers(orgId)).toBe(1);
      expect((await readEvents(server, orgId, read)).map((e) => e.event)).toEqual(['customer.created']);

      // Concurrent retries of a new key still create exactly one customer.
      const racing = await Promise.all(
        Array.from({ length: 8 }, () =>
          server.request<Customer>('POST', customersPath(orgId), {
            token: write,
            body: { firstName: 'Bo', lastName: 'Ng' },
            headers: { 'idempotency-key': 'race' },
          }),
        ),
      );
      expect(racing.every((r) => r.status === 201 && r.body.id === racing[0]!.body.id)).toBe(true);
      expect(await countCustomers(orgId)).toBe(2);
    });

    it('answers 409 for the same key with another body, and keys are per organization', async () => {
      const { orgId, read, write } = await createTenant(server);
      const first = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { firstName: 'A', lastName: 'B' },
        headers: { 'idempotency-key': 'k' },
      });
      expect(first.status).toBe(201);
      const sequence = await lastSequence(server, orgId, read);
      expectError(
        await server.request('POST', customersPath(orgId), {
          token: write,
          body: { firstName: 'A', lastName: 'C' },
          headers: { 'idempotency-key': 'k' },
        }),
        409,
        'conflict',
      );
      expect(await countCustomers(orgId)).toBe(1);
      expect(await lastSequence(server, orgId, read)).toBe(sequence);

      const other = await createTenant(server);
      const elsewhere = await server.request<Customer>('POST', customersPath(other.orgId), {
        token: other.write,
        body: { firstName: 'A', lastName: 'B' },
        headers: { 'idempotency-key': 'k' },
      });
      expect(elsewhere.status).toBe(201);
      expect(elsewhere.body.id).not.toBe(first.body.id);
    });

    it('rejects a malformed key and does not store keys of failed requests', async () => {
      const { orgId, write } = await createTenant(server);
      expectError(
        await server.request('POST', customersPath(orgId), {
          token: write,
          body: { firstName: 'A', lastName: 'B' },
          headers: { 'idempotency-key': 'x'.repeat(256) },
        }),
        400,
        'bad_request',
      );
      expectError(
        await server.request('POST', customersPath(orgId), {
          token: write,
          body: { firstName: '', lastName: 'B' },
          headers: { 'idempotency-key': 'k2' },
        }),
        400,
        'bad_request',
      );
      expect(await countCustomers(orgId)).toBe(0);
      expect(
        await server.store.db
          .selectFrom('idempotency_keys')
          .select('key')
          .where('organization_id', '=', orgId)
          .execute(),
      ).toEqual([]);
      // After the failure, the key is free for a good request.
      expect(
        (
          await server.request('POST', customersPath(orgId), {
            token: write,
            body: { firstName: 'A', lastName: 'B' },
            headers: { 'idempotency-key': 'k2' },
          })
        ).status,
      ).toBe(201);
    });

    it('forgets keys once they expire', async () => {
      const { orgId, write } = await createTenant(server);
      const first = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { firstName: 'A', lastName: 'B' },
        headers: { 'idempotency-key': 'old' },
      });
      await server.store.db
        .updateTable('idempotency_keys')
        .set({ expires_at: Date.now() - 1 })
        .where('organization_id', '=', orgId)
        .execute();
      const again = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { firstName: 'A', lastName: 'B' },
        headers: { 'idempotency-key': 'old' },
      });
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(first.body.id);
      expect(await countCustomers(orgId)).toBe(2);
      const keys = await server.store.db
        .selectFrom('idempotency_keys')
        .select(['key', 'customer_id'])
        .where('organization_id', '=', orgId)
        .execute();
      expect(keys).toEqual([{ key: 'old', customer_id: again.body.id }]);
    });
  });

  describe('ETag and If-Match', () => {
    it('serves an ETag on GET, POST and PATCH that changes with the customer', async () => {
      const { orgId, read, write } = await createTenant(server);
      const created = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { firstName: 'A', lastName: 'B' },
      });
      const etag = created.headers.get('etag')!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const got = await server.request('GET', `${customersPath(orgId)}/${created.body.id}`, { token: read });
      expect(got.headers.get('etag')).toBe(etag);
      const patched = await server.request('PATCH', `${customersPath(orgId)}/${created.body.id}`, {
        token: write,
        body: { firstName: 'Z' },
        headers: { 'if-match': etag },
      });
      expect(patched.status).toBe(200);
      const newTag = patched.headers.get('etag')!;
      expect(newTag).not.toBe(etag);
      expect(
        (await server.request('GET', `${customersPath(orgId)}/${created.body.id}`, { token: read })).headers.get(
          'etag',
        ),
      ).toBe(newTag);
      // RFC 9110 strong comparison: a weak form of the current tag never matches; the tag in a list and * do.
      expect(
        (
          await server.request('PATCH', `${customersPath(orgId)}/${created.body.id}`, {
            token: write,
            body: { lastName: 'W' },
            headers: { 'if-match': `W/${newTag}` },
          })
        ).status,
      ).toBe(412);
      expect(
        (
          await server.request('PATCH', `${customersPath(orgId)}/${created.body.id}`, {
            token: write,
            body: { lastName: 'Y' },
            headers: { 'if-match': `"nope", ${newTag}` },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await server.request('PATCH', `${customersPath(orgId)}/${created.body.id}`, {
            token: write,
            body: { lastName: 'X' },
            headers: { 'if-match': '*' },
          })
        ).status,
      ).toBe(200);
    });

    it('answers 412 precondition_failed to a stale If-Match and changes nothing', async () => {
      const { orgId, read, write } = await createTenant(server);
      const created = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { firstName: 'A', lastName: 'B' },
      });
      const stale = created.headers.get('etag')!;
      await server.request('PATCH', `${customersPath(orgId)}/${created.body.id}`, {
        token: write,
        body: { firstName: 'C' },
      });
      const current = await server.request<Customer>('GET', `${customersPath(orgId)}/${created.body.id}`, {
        token: read,
      });
      const sequence = await lastSequence(server, orgId, read);
      expectError(
        await server.request('PATCH', `${customersPath(orgId)}/${created.body.id}`, {
          token: write,
          body: { firstName: 'D' },
          headers: { 'if-match': stale },
        }),
        412,
        'precondition_failed',
      );
      const after = await server.request<Customer>('GET', `${customersPath(orgId)}/${created.body.id}`, {
        token: read,
      });
      expect(after.body).toEqual(current.body);
      expect(after.headers.get('etag')).toBe(current.headers.get('etag'));
      expect(await lastSequence(server, orgId, read)).toBe(sequence);
      // A statistics change also moves the ETag on.
      const tag = after.headers.get('etag')!;
      await server.request('PUT', `${customersPath(orgId)}/${created.body.id}/points/p1`, {
        token: write,
        body: { amount: 5 },
      });
      expectError(
        await server.request('PATCH', `${customersPath(orgId)}/${created.body.id}`, {
          token: write,
          body: { firstName: 'D' },
          headers: { 'if-match': tag },
        }),
        412,
        'precondition_failed',
      );
      // Unknown customer: 404 even with If-Match: *.
      expectError(
        await server.request('PATCH', `${customersPath(orgId)}/01HZZZZZZZZZZZZZZZZZZZZZZZ`, {
          token: write,
          body: { firstName: 'D' },
          headers: { 'if-match': '*' },
        }),
        404,
        'not_found',
      );
    });
  });

  describe('erasure', () => {
    async function allStoredText(): Promise<string> {
      const tables =
        server.store.kind === 'sqlite'
          ? (
              await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(server.store.db)
            ).rows.map((r) => r.name)
          : (
              await sql<{
                name: string;
              }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(
                server.store.db,
              )
            ).rows.map((r) => r.name);
      expect(tables).toEqual(
        expect.arrayContaining(['customers', 'events', 'point_records', 'customer_list_members', 'idempotency_keys']),
      );
      const dumps = await Promise.all(
        tables.map(async (table) =>
          JSON.stringify((await sql`select * from ${sql.table(table)}`.execute(server.store.db)).rows),
        ),
      );
      return dumps.join('\n');
    }

    it('deletes the customer everywhere, scrubs their personal data from the whole database, and leaves a tombstone', async () => {
      const { org, orgId, read, write } = await createTenant(server);
      const unique = `zq${Date.now().toString(36)}${server.backend}`;
      const pii = {
        firstName: `Firstname${unique}`,
        lastName: `Lastname${unique}`,
        email: `${unique}@erasure.example.com`,
        phoneNumber: '+61491570156',
      };
      const created = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { ...pii, dob: '1990-01-02' },
        headers: { 'idempotency-key': `erase-${unique}` },
      });
      const customer = created.body;
      const keep = await server.createCustomer(orgId, { firstName: 'Keep', lastName: 'Me' }, write);
      await server.request('PATCH', `${customersPath(orgId)}/${customer.id}`, {
        token: write,
        body: { lastName: `Changed${unique}` },
      });
      await server.request('PATCH', `${customersPath(orgId)}/${customer.id}`, {
        token: write,
        body: { gender: 'FEMALE' },
      });
      await server.request('PUT', `${customersPath(orgId)}/${customer.id}/points/p1`, {
        token: write,
        body: { amount: 50, notes: `note for ${pii.email}` },
      });
      await server.request('PUT', `${customersPath(orgId)}/${customer.id}/spend/s1`, {
        token: write,
        body: { amount: 900 },
      });
      const list = (
        await server.request<CustomerList>('POST', `/organizations/${orgId}/customer-lists`, {
          token: write,
          body: { name: 'VIP' },
        })
      ).body;
      await server.request('PUT', `/organizations/${orgId}/customer-lists/${list.id}/members/${customer.id}`, {
        token: write,
      });
      await server.request('PUT', `/organizations/${orgId}/customer-lists/${list.id}/members/${keep.id}`, {
        token: write,
      });
      expect(await allStoredText()).toContain(pii.email);

      const erased = await server.request('DELETE', `${customersPath(orgId)}/${customer.id}`, { token: write });
      expect(erased.status).toBe(204);
      expect(erased.text).toBe('');

      // Gone from every read and search.
      expectError(
        await server.request('GET', `${customersPath(orgId)}/${customer.id}`, { token: read }),
        404,
        'not_found',
      );
      expectError(
        await server.request('GET', `${customersPath(orgId)}/${customer.id}/memberships`, { token: read }),
        404,
        'not_found',
      );
      expect(
        (
          await server.request<Customer[]>('GET', `${customersPath(orgId)}?email=${encodeURIComponent(pii.email)}`, {
            token: read,
          })
        ).body,
      ).toEqual([]);
      expect(
        (
          await server.request<Customer[]>(
            'GET',
            `${customersPath(orgId)}?phoneNumber=${encodeURIComponent(pii.phoneNumber)}`,
            { token: read },
          )
        ).body,
      ).toEqual([]);
      expect(
        (await server.request<Customer[]>('GET', customersPath(orgId), { token: read })).body.map((c) => c.id),
      ).toEqual([keep.id]);
      const listNow = await server.request<CustomerList>('GET', `/organizations/${orgId}/customer-lists/${list.id}`, {
        token: read,
      });
      expect(listNow.body.memberCount).toBe(1);
      const members = await server.request<{ id: string }[]>(
        'GET',
        `/organizations/${orgId}/customer-lists/${list.id}/members`,
        { token: read },
      );
      expect(members.body.map((m) => m.id)).toEqual([keep.id]);
      for (const [method, path, body] of [
        ['PATCH', `${customersPath(orgId)}/${customer.id}`, { firstName: 'X' }],
        ['DELETE', `${customersPath(orgId)}/${customer.id}`, undefined],
        ['PUT', `${customersPath(orgId)}/${customer.id}/points/p2`, { amount: 1 }],
        ['DELETE', `${customersPath(orgId)}/${customer.id}/points/p1`, undefined],
        ['PUT', `/organizations/${orgId}/customer-lists/${list.id}/members/${customer.id}`, undefined],
      ] as const) {
        expectError(await server.request(method, path, { token: write, body }), 404, 'not_found');
      }
      // The idempotency record went with the customer, leaving a tombstone of the key's hash: a retry of the
      // original request (or any reuse of the key) is a 409 saying so, never a replay of erased data nor a new person.
      const customersBefore = await countCustomers(orgId);
      const sequenceBefore = await lastSequence(server, orgId, read);
      for (const body of [
        { ...pii, dob: '1990-01-02' },
        { firstName: 'New', lastName: 'One' },
      ]) {
        const retried = await server.request('POST', customersPath(orgId), {
          token: write,
          body,
          headers: { 'idempotency-key': `erase-${unique}` },
        });
        expectError(retried, 409, 'conflict');
        expect((retried.body as { message: string }).message).toMatch(/created with this Idempotency-Key was erased/);
      }
      expect(await countCustomers(orgId)).toBe(customersBefore);
      expect(await lastSequence(server, orgId, read)).toBe(sequenceBefore);
      const fresh = await server.request<Customer>('POST', customersPath(orgId), {
        token: write,
        body: { firstName: 'New', lastName: 'One' },
        headers: { 'idempotency-key': `erase-${unique}-new` },
      });
      expect(fresh.status).toBe(201);
      await server.request('DELETE', `${customersPath(orgId)}/${fresh.body.id}`, { token: write });
      const tombstones = await server.store.db
        .selectFrom('idempotency_tombstones')
        .selectAll()
        .where('organization_id', '=', orgId)
        .execute();
      expect(tombstones).toHaveLength(2);
      expect(tombstones.every((t) => /^[0-9a-f]{64}$/.test(t.key_hash))).toBe(true);

      // Nothing of the personal data is left in any table.
      const stored = await allStoredText();
      for (const value of [pii.firstName, pii.lastName, pii.email, pii.email.toLowerCase(), pii.phoneNumber, unique]) {
        expect(stored).not.toContain(value);
      }
      expect(stored).not.toContain('1990-01-02');

      // The feed keeps the history with the customer reduced to its id, and ends with the tombstone.
      const events = await readEvents(server, orgId, read);
      const about = events.filter((e) => (e.customer as { id?: string } | undefined)?.id === customer.id);
      expect(about.map((e) => e.event)).toEqual([
        'customer.created',
        'customer.updated',
        'customer.updated',
        'customer.updated-statistics',
        'customer.updated-statistics',
        'customer-list.member-added',
        'customer.deleted',
      ]);
      for (const event of about) expect(event.customer).toEqual({ id: customer.id });
      expect(about.at(-1)).toEqual({
        id: expect.any(String),
        sequence: expect.any(Number),
        occurredAt: expect.any(String),
        event: 'customer.deleted',
        customer: { id: customer.id },
        organization: { id: orgId, name: org.name },
      });
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));

      if (server.store.kind === 'sqlite') {
        // Not even in freed pages of the file: secure_delete zeroes them.
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(server.store.db);
        const file = server.databaseUrl.replace(/^sqlite:/, '');
        const bytes = fs.readFileSync(file).toString('latin1');
        for (const value of [pii.email, pii.firstName, pii.lastName, pii.phoneNumber])
          expect(bytes).not.toContain(value);
      }
    });

    it('accepts a DELETE that carries Content-Type: application/json and no body, as many clients send', async () => {
      const { orgId, write } = await createTenant(server);
      const customer = await server.createCustomer(orgId, {}, write);
      const erased = await server.request('DELETE', `${customersPath(orgId)}/${customer.id}`, {
        token: write,
        headers: { 'content-type': 'application/json' },
      });
      expect(erased.status).toBe(204);
      expect(await countCustomers(orgId)).toBe(0);
      // A route that needs a body still refuses an empty one.
      expectError(
        await server.request('POST', customersPath(orgId), {
          token: write,
          headers: { 'content-type': 'application/json' },
          rawBody: '',
        }),
        400,
        'bad_request',
      );
      expect(await countCustomers(orgId)).toBe(0);
    });

    it('needs customers:write, and refuses unknown customers with 404 without changes', async () => {
      const { orgId, read, write } = await createTenant(server);
      const customer = await server.createCustomer(orgId, {}, write);
      const outsider = await createTenant(server);
      const sequence = await lastSequence(server, orgId, read);
      expectError(
        await server.request('DELETE', `${customersPath(orgId)}/${customer.id}`, { token: read }),
        403,
        'forbidden',
      );
      expectError(await server.request('DELETE', `${customersPath(orgId)}/${customer.id}`), 401, 'unauthorized');
      expectError(
        await server.request('DELETE', `${customersPath(orgId)}/${customer.id}`, { token: outsider.write }),
        404,
        'not_found',
      );
      expectError(
        await server.request('DELETE', `${customersPath(orgId)}/01HZZZZZZZZZZZZZZZZZZZZZZZ`, { token: write }),
        404,
        'not_found',
      );
      expect(await countCustomers(orgId)).toBe(1);
      expect(await lastSequence(server, orgId, read)).toBe(sequence);
    });
  });
});

// The seed's create and update (POST, PATCH), apart from the extensions above.
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
