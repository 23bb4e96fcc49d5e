import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CustomerList, CustomerListMember } from '../src/contract/customer-lists.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, expectError, lastSequence, readAllPages, readEvents } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('customer lists', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  const base = (orgId: string) => `/organizations/${orgId}/customer-lists`;

  async function createList(orgId: string, token: string, name = 'Loyal Customers'): Promise<CustomerList> {
    const response = await server.request<CustomerList>('POST', base(orgId), { token, body: { name } });
    expect(response.status, response.text).toBe(201);
    return response.body;
  }

  async function storedLists(orgId: string) {
    return server.store.db
      .selectFrom('customer_lists')
      .selectAll()
      .where('organization_id', '=', orgId)
      .orderBy('id')
      .execute();
  }

  async function storedMembers(orgId: string, listId: string) {
    return server.store.db
      .selectFrom('customer_list_members')
      .select('customer_id')
      .where('organization_id', '=', orgId)
      .where('list_id', '=', listId)
      .orderBy('customer_id')
      .execute();
  }

  it('creates, reads, renames and lists lists in the LOKE shape', async () => {
    const { org, orgId, read, write } = await createTenant(server);
    const created = await createList(orgId, write, '  VIP  ');
    expect(created).toEqual({
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      memberCount: 0,
      name: 'VIP',
    });
    expect(Object.keys(created)).toEqual(['createdAt', 'id', 'memberCount', 'name']);

    const got = await server.request<CustomerList>('GET', `${base(orgId)}/${created.id}`, { token: read });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);

    const renamed = await server.request<CustomerList>('PUT', `${base(orgId)}/${created.id}`, {
      token: write,
      body: { name: 'Very Important' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ ...created, name: 'Very Important' });
    expect((await storedLists(orgId))[0]!.name).toBe('Very Important');
    // Renaming to the same name is a no-op: no event.
    const same = await server.request<CustomerList>('PUT', `${base(orgId)}/${created.id}`, {
      token: write,
      body: { name: 'Very Important' },
    });
    expect(same.status).toBe(200);

    const events = await readEvents(server, orgId, read);
    expect(events.map((e) => [e.event, e.customerList])).toEqual([
      ['customer-list.created', { id: created.id, name: 'VIP' }],
      ['customer-list.updated', { id: created.id, name: 'Very Important' }],
    ]);
    expect(events[0]!.organization).toEqual({ id: orgId, name: org.name });
  });

  it('pages lists by 100 (limit extension) in creation order with X-Next-Page', async () => {
    const { orgId, read, write } = await createTenant(server);
    const lists: CustomerList[] = [];
    for (let i = 0; i < 5; i++) lists.push(await createList(orgId, write, `List ${i}`));
    const first = await server.request<CustomerList[]>('GET', `${base(orgId)}?limit=2`, { token: read });
    expect(first.status).toBe(200);
    expect(first.body).toEqual(lists.slice(0, 2));
    expect(first.headers.get('x-next-page')).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/organizations\/.+\/customer-lists\?limit=2&after=/,
    );
    expect(await readAllPages(server, `${base(orgId)}?limit=2`, read)).toEqual(lists);
    const whole = await server.request<CustomerList[]>('GET', base(orgId), { token: read });
    expect(whole.body).toEqual(lists);
    expect(whole.headers.get('x-next-page')).toBeNull();
    expectError(await server.request('GET', `${base(orgId)}?limit=101`, { token: read }), 400, 'bad_request');
    expectError(await server.request('GET', `${base(orgId)}?after=garbage`, { token: read }), 400, 'bad_request');
  });

  it('rejects invalid bodies and unknown lists without changing anything', async () => {
    const { orgId, read, write } = await createTenant(server);
    const list = await createList(orgId, write, 'Keep');
    const before = await storedLists(orgId);
    const sequence = await lastSequence(server, orgId, read);
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(201) },
      { name: 5 },
      { name: 'ok', memberCount: 3 },
    ]) {
      expectError(await server.request('POST', base(orgId), { token: write, body }), 400, 'bad_request');
      expectError(await server.request('PUT', `${base(orgId)}/${list.id}`, { token: write, body }), 400, 'bad_request');
    }
    const missing = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    expectError(await server.request('GET', `${base(orgId)}/${missing}`, { token: read }), 404, 'not_found');
    expectError(
      await server.request('PUT', `${base(orgId)}/${missing}`, { token: write, body: { name: 'x' } }),
      404,
      'not_found',
    );
    expectError(await server.request('DELETE', `${base(orgId)}/${missing}`, { token: write }), 404, 'not_found');
    expectError(await server.request('GET', `${base(orgId)}/${missing}/members`, { token: read }), 404, 'not_found');
    expect(await storedLists(orgId)).toEqual(before);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
  });

  it('adds members idempotently, lists them, removes them, and the memberships endpoint follows at once', async () => {
    const { org, orgId, read, write } = await createTenant(server);
    const list = await createList(orgId, write, 'Coffee Lovers');
    const ann = await server.createCustomer(
      orgId,
      { firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com', phoneNumber: '0411 222 333' },
      write,
    );
    const bob = await server.createCustomer(orgId, { firstName: 'Bob', lastName: 'Ng' }, write);
    const member = (customerId: string) => `${base(orgId)}/${list.id}/members/${customerId}`;

    const added = await server.request('PUT', member(ann.id), { token: write });
    expect(added.status).toBe(204);
    expect(added.text).toBe('');
    expect((await server.request('PUT', member(ann.id), { token: write })).status).toBe(204);
    expect((await server.request('PUT', member(bob.id), { token: write })).status).toBe(204);

    const got = await server.request<CustomerList>('GET', `${base(orgId)}/${list.id}`, { token: read });
    expect(got.body.memberCount).toBe(2);
    const members = await server.request<CustomerListMember[]>('GET', `${base(orgId)}/${list.id}/members`, {
      token: read,
    });
    expect(members.status).toBe(200);
    const byId = [ann, bob].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(members.body.map((m) => m.id)).toEqual(byId.map((c) => c.id));
    expect(members.body.find((m) => m.id === ann.id)).toEqual({
      addedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      email: 'ann@example.com',
      firstName: 'Ann',
      id: ann.id,
      lastName: 'Lee',
      phoneNumber: '+61411222333',
    });
    expect(members.body.find((m) => m.id === bob.id)).toEqual({
      addedAt: expect.any(String),
      firstName: 'Bob',
      id: bob.id,
      lastName: 'Ng',
    });

    const memberships = await server.request('GET', `/organizations/${orgId}/customers/${ann.id}/memberships`, {
      token: read,
    });
    expect(memberships.body).toEqual([{ id: list.id, name: 'Coffee Lovers' }]);

    const removed = await server.request('DELETE', member(ann.id), { token: write });
    expect(removed.status).toBe(204);
    expect(
      (await server.request('GET', `/organizations/${orgId}/customers/${ann.id}/memberships`, { token: read })).body,
    ).toEqual([]);
    expect(
      (await server.request<CustomerList>('GET', `${base(orgId)}/${list.id}`, { token: read })).body.memberCount,
    ).toBe(1);
    expect((await storedMembers(orgId, list.id)).map((r) => r.customer_id)).toEqual([bob.id]);

    const sequence = await lastSequence(server, orgId, read);
    expectError(await server.request('DELETE', member(ann.id), { token: write }), 404, 'not_found');
    expect(
      (await server.request<CustomerList>('GET', `${base(orgId)}/${list.id}`, { token: read })).body.memberCount,
    ).toBe(1);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);

    const events = (await readEvents(server, orgId, read)).filter((e) => e.event.startsWith('customer-list.member'));
    expect(
      events.map((e) => ({
        event: e.event,
        customerList: e.customerList,
        customer: e.customer,
        organization: e.organization,
      })),
    ).toEqual([
      {
        event: 'customer-list.member-added',
        customerList: { id: list.id, name: 'Coffee Lovers' },
        customer: {
          email: 'ann@example.com',
          firstName: 'Ann',
          id: ann.id,
          lastName: 'Lee',
          phoneNumber: '+61411222333',
        },
        organization: { id: orgId, name: org.name },
      },
      {
        event: 'customer-list.member-added',
        customerList: { id: list.id, name: 'Coffee Lovers' },
        customer: { firstName: 'Bob', id: bob.id, lastName: 'Ng' },
        organization: { id: orgId, name: org.name },
      },
      {
        event: 'customer-list.member-removed',
        customerList: { id: list.id, name: 'Coffee Lovers' },
        customer: {
          email: 'ann@example.com',
          firstName: 'Ann',
          id: ann.id,
          lastName: 'Lee',
          phoneNumber: '+61411222333',
        },
        organization: { id: orgId, name: org.name },
      },
    ]);
  });

  it('pages members with X-Next-Page', async () => {
    const { orgId, read, write } = await createTenant(server);
    const list = await createList(orgId, write);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await server.createCustomer(orgId, {}, write);
      ids.push(c.id);
      await server.request('PUT', `${base(orgId)}/${list.id}/members/${c.id}`, { token: write });
    }
    const all = await readAllPages<CustomerListMember>(server, `${base(orgId)}/${list.id}/members?limit=2`, read);
    expect(all.map((m) => m.id)).toEqual(ids.sort());
    const first = await server.request('GET', `${base(orgId)}/${list.id}/members?limit=2`, { token: read });
    const cursor = new URL(first.headers.get('x-next-page')!).searchParams.get('after')!;
    // A members cursor is tied to its list.
    const other = await createList(orgId, write, 'Other');
    expectError(
      await server.request('GET', `${base(orgId)}/${other.id}/members?after=${cursor}`, { token: read }),
      400,
      'bad_request',
    );
  });

  it('refuses members of unknown lists or customers, and customers of another organization', async () => {
    const { orgId, read, write } = await createTenant(server);
    const list = await createList(orgId, write);
    const customer = await server.createCustomer(orgId, {}, write);
    const other = await createTenant(server);
    const foreign = await server.createCustomer(other.orgId, {}, other.write);
    const missing = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    const sequence = await lastSequence(server, orgId, read);
    expectError(
      await server.request('PUT', `${base(orgId)}/${missing}/members/${customer.id}`, { token: write }),
      404,
      'not_found',
    );
    expectError(
      await server.request('PUT', `${base(orgId)}/${list.id}/members/${missing}`, { token: write }),
      404,
      'not_found',
    );
    expectError(
      await server.request('PUT', `${base(orgId)}/${list.id}/members/${foreign.id}`, { token: write }),
      404,
      'not_found',
    );
    expectError(
      await server.request('DELETE', `${base(orgId)}/${missing}/members/${customer.id}`, { token: write }),
      404,
      'not_found',
    );
    expectError(
      await server.request('DELETE', `${base(orgId)}/${list.id}/members/${missing}`, { token: write }),
      404,
      'not_found',
    );
    expect(await storedMembers(orgId, list.id)).toEqual([]);
    expect((await storedLists(orgId))[0]!.member_count).toBe(0);
    expect(await lastSequence(server, orgId, read)).toBe(sequence);
  });

  it('deleting a list removes it and its memberships', async () => {
    const { orgId, read, write } = await createTenant(server);
    const list = await createList(orgId, write, 'Doomed');
    const keep = await createList(orgId, write, 'Kept');
    const customer = await server.createCustomer(orgId, {}, write);
    await server.request('PUT', `${base(orgId)}/${list.id}/members/${customer.id}`, { token: write });
    await server.request('PUT', `${base(orgId)}/${keep.id}/members/${customer.id}`, { token: write });
    const deleted = await server.request('DELETE', `${base(orgId)}/${list.id}`, { token: write });
    expect(deleted.status).toBe(204);
    expectError(await server.request('GET', `${base(orgId)}/${list.id}`, { token: read }), 404, 'not_found');
    expectError(await server.request('DELETE', `${base(orgId)}/${list.id}`, { token: write }), 404, 'not_found');
    expect(await storedMembers(orgId, list.id)).toEqual([]);
    expect(
      (await server.request('GET', `/organizations/${orgId}/customers/${customer.id}/memberships`, { token: read }))
        .body,
    ).toEqual([{ id: keep.id, name: 'Kept' }]);
    const events = await readEvents(server, orgId, read);
    expect(events.at(-1)).toEqual(
      expect.objectContaining({ event: 'customer-list.deleted', customerList: { id: list.id, name: 'Doomed' } }),
    );
  });

  it('needs customers:write for writes and customers:read for reads', async () => {
    const { orgId, read, write } = await createTenant(server);
    const list = await createList(orgId, write);
    const customer = await server.createCustomer(orgId, {}, write);
    const writeOnly = await server.createToken([orgId], ['customers:write']);
    const outsider = await createTenant(server);
    const before = await storedLists(orgId);
    const writes: [string, string, unknown?][] = [
      ['POST', base(orgId), { name: 'x' }],
      ['PUT', `${base(orgId)}/${list.id}`, { name: 'x' }],
      ['DELETE', `${base(orgId)}/${list.id}`],
      ['PUT', `${base(orgId)}/${list.id}/members/${customer.id}`],
      ['DELETE', `${base(orgId)}/${list.id}/members/${customer.id}`],
    ];
    for (const [method, path, body] of writes) {
      expectError(await server.request(method, path, { token: read, body }), 403, 'forbidden');
      expectError(await server.request(method, path, { body }), 401, 'unauthorized');
      expectError(await server.request(method, path, { token: outsider.write, body }), 404, 'not_found');
    }
    for (const path of [base(orgId), `${base(orgId)}/${list.id}`, `${base(orgId)}/${list.id}/members`]) {
      expectError(await server.request('GET', path, { token: writeOnly }), 403, 'forbidden');
      expectError(await server.request('GET', path), 401, 'unauthorized');
      expectError(await server.request('GET', path, { token: outsider.read }), 404, 'not_found');
    }
    expect(await storedLists(orgId)).toEqual(before);
  });

  it('keeps memberCount exact under concurrent adds and removes', async () => {
    const { orgId, read, write } = await createTenant(server);
    const list = await createList(orgId, write);
    const customers = await Promise.all(Array.from({ length: 24 }, () => server.createCustomer(orgId, {}, write)));
    const member = (id: string) => `${base(orgId)}/${list.id}/members/${id}`;
    // Every customer added three times at once.
    const adds = await Promise.all(
      customers.flatMap((c) => [1, 2, 3].map(() => server.request('PUT', member(c.id), { token: write }))),
    );
    expect(adds.every((r) => r.status === 204)).toBe(true);
    expect(
      (await server.request<CustomerList>('GET', `${base(orgId)}/${list.id}`, { token: read })).body.memberCount,
    ).toBe(24);

    // Half removed twice at once (one 204, one 404 each) while the others are re-added.
    const removed = customers.slice(0, 12);
    const results = await Promise.all([
      ...removed.flatMap((c) => [
        server.request('DELETE', member(c.id), { token: write }),
        server.request('DELETE', member(c.id), { token: write }),
      ]),
      ...customers.slice(12).map((c) => server.request('PUT', member(c.id), { token: write })),
    ]);
    const removals = results
      .slice(0, 24)
      .map((r) => r.status)
      .sort();
    expect(removals).toEqual([...Array<number>(12).fill(204), ...Array<number>(12).fill(404)]);
    const stored = await storedMembers(orgId, list.id);
    expect(stored.map((r) => r.customer_id)).toEqual(
      customers
        .slice(12)
        .map((c) => c.id)
        .sort(),
    );
    expect(
      (await server.request<CustomerList>('GET', `${base(orgId)}/${list.id}`, { token: read })).body.memberCount,
    ).toBe(12);
    const events = await readEvents(server, orgId, read);
    expect(events.filter((e) => e.event === 'customer-list.member-added')).toHaveLength(24);
    expect(events.filter((e) => e.event === 'customer-list.member-removed')).toHaveLength(12);
  });
});
