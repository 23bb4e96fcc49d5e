import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CustomerList, CustomerListMember } from '../src/contract/customer-lists.js';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import {
  createTenant,
  errorFields,
  expectError,
  expectErrorJson,
  readAllPages,
  readEvents,
  type FeedEvent,
} from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('segments', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  const lists = (orgId: string) => `/organizations/${orgId}/customer-lists`;

  async function createSegment(orgId: string, token: string, filter: Record<string, unknown>, name = 'Segment') {
    const response = await server.request<CustomerList>('POST', lists(orgId), { token, body: { name, filter } });
    expect(response.status, response.text).toBe(201);
    return response.body;
  }

  /** Polls the list until its build is done, as a client would. */
  async function readyList(orgId: string, token: string, listId: string): Promise<CustomerList> {
    for (;;) {
      const response = await server.request<CustomerList>('GET', `${lists(orgId)}/${listId}`, { token });
      expect(response.status, response.text).toBe(200);
      if (response.body.status === 'ready') return response.body;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const memberIds = async (orgId: string, token: string, listId: string) =>
    (await readAllPages<CustomerListMember>(server, `${lists(orgId)}/${listId}/members`, token))
      .map((m) => m.id)
      .sort();

  const filteredIds = async (orgId: string, token: string, query: string) =>
    (await readAllPages<Customer>(server, `/organizations/${orgId}/customers?${query}`, token)).map((c) => c.id).sort();

  const membershipIds = async (orgId: string, token: string, customerId: string) =>
    (
      await readAllPages<{ id: string }>(server, `/organizations/${orgId}/customers/${customerId}/memberships`, token)
    ).map((m) => m.id);

  const storedMemberCount = async (orgId: string, listId: string) =>
    Number(
      (
        await server.store.db
          .selectFrom('customer_list_members')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('organization_id', '=', orgId)
          .where('list_id', '=', listId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('builds a segment from its filter, shows filter and status, and agrees with the filtered customer list', async () => {
    const { orgId, read, write } = await createTenant(server);
    const people = [
      { firstName: 'José', lastName: 'Smith', hasAgreedToMarketing: true, gender: 'MALE' as const },
      { firstName: 'Joanna', lastName: "O'Brien", hasAgreedToMarketing: true, gender: 'FEMALE' as const },
      { firstName: 'Mary', lastName: 'Smithers-Jones', hasAgreedToMarketing: false, gender: 'FEMALE' as const },
      { firstName: '太郎', lastName: '山田', hasAgreedToMarketing: true, gender: 'OTHER' as const },
    ];
    for (const person of people) await server.createCustomer(orgId, person, write);
    const segment = await createSegment(orgId, write, { q: 'smi', hasAgreedToMarketing: true });
    expect(segment).toEqual({
      createdAt: expect.any(String),
      filter: { hasAgreedToMarketing: true, q: 'smi' },
      id: expect.any(String),
      memberCount: 0,
      name: 'Segment',
      status: 'building',
    });
    expect(Object.keys(segment)).toEqual(['createdAt', 'filter', 'id', 'memberCount', 'name', 'status']);
    const ready = await readyList(orgId, read, segment.id);
    expect(ready).toEqual({ ...segment, memberCount: 1, status: 'ready' });
    const expected = await filteredIds(orgId, read, 'q=smi&hasAgreedToMarketing=true');
    expect(expected).toHaveLength(1);
    expect(await memberIds(orgId, read, segment.id)).toEqual(expected);
    expect(await membershipIds(orgId, read, expected[0]!)).toEqual([segment.id]);
    const all = await readAllPages<CustomerList>(server, lists(orgId), read);
    expect(all).toEqual([ready]);
    const added = (await readEvents(server, orgId, read)).filter((e) => e.event === 'customer-list.member-added');
    expect(added.map((e) => (e.customer as { id: string }).id)).toEqual(expected);
  });

  it('follows every write in its transaction: points crossing the bound, marketing, renames, erasure', async () => {
    const { orgId, read, write } = await createTenant(server);
    const ann = await server.createCustomer(
      orgId,
      { firstName: 'Ann', lastName: 'Lee', hasAgreedToMarketing: true },
      write,
    );
    const bob = await server.createCustomer(orgId, { firstName: 'Bob', lastName: 'Stone' }, write);
    const rich = await createSegment(orgId, write, { pointsBalanceMin: 1000, hasAgreedToMarketing: true }, 'Rich');
    const named = await createSegment(orgId, write, { q: 'smi' }, 'Smiths');
    await readyList(orgId, read, rich.id);
    await readyList(orgId, read, named.id);
    expect(await memberIds(orgId, read, rich.id)).toEqual([]);

    const points = (id: string, reference: string, amount: number) =>
      server.request('PUT', `/organizations/${orgId}/customers/${id}/points/${reference}`, {
        token: write,
        body: { amount },
      });
    expect((await points(ann.id, 'p1', 999)).status).toBe(204);
    expect(await memberIds(orgId, read, rich.id)).toEqual([]);
    expect((await points(ann.id, 'p2', 1)).status).toBe(204);
    expect(await memberIds(orgId, read, rich.id)).toEqual([ann.id]);
    expect(
      (await server.request<CustomerList>('GET', `${lists(orgId)}/${rich.id}`, { token: read })).body.memberCount,
    ).toBe(1);

    const patch = (id: string, body: object) =>
      server.request('PATCH', `/organizations/${orgId}/customers/${id}`, { token: write, body });
    expect((await patch(ann.id, { hasAgreedToMarketing: false })).status).toBe(200);
    expect(await memberIds(orgId, read, rich.id)).toEqual([]);
    expect((await patch(ann.id, { hasAgreedToMarketing: true })).status).toBe(200);
    expect(await memberIds(orgId, read, rich.id)).toEqual([ann.id]);
    // Redeeming below the bound leaves the segment.
    expect((await points(ann.id, 'p3', -1)).status).toBe(204);
    expect(await memberIds(orgId, read, rich.id)).toEqual([]);
    expect(
      (await server.request('DELETE', `/organizations/${orgId}/customers/${ann.id}/points/p3`, { token: write }))
        .status,
    ).toBe(204);
    expect(await memberIds(orgId, read, rich.id)).toEqual([ann.id]);

    expect((await patch(bob.id, { lastName: 'Smith' })).status).toBe(200);
    expect(await memberIds(orgId, read, named.id)).toEqual([bob.id]);
    expect(await membershipIds(orgId, read, bob.id)).toEqual([named.id]);
    expect((await patch(bob.id, { lastName: 'Stone' })).status).toBe(200);
    expect(await memberIds(orgId, read, named.id)).toEqual([]);
    const carl = await server.createCustomer(orgId, { firstName: 'Carl', lastName: 'Smithson' }, write);
    expect(await memberIds(orgId, read, named.id)).toEqual([carl.id]);

    expect(
      (await server.request('DELETE', `/organizations/${orgId}/customers/${carl.id}`, { token: write })).status,
    ).toBe(204);
    expect(await memberIds(orgId, read, named.id)).toEqual([]);
    expect(
      (await server.request<CustomerList>('GET', `${lists(orgId)}/${named.id}`, { token: read })).body.memberCount,
    ).toBe(0);
    expect(await storedMemberCount(orgId, named.id)).toBe(0);

    // The feed tells the same story, event by event.
    const events = await readEvents(server, orgId, read);
    const story = events
      .filter((e: FeedEvent) => e.event.startsWith('customer-list.member-'))
      .map((e) => `${e.event.slice('customer-list.member-'.length)} ${(e.customerList as { name: string }).name}`);
    expect(story).toEqual([
      'added Rich',
      'removed Rich',
      'added Rich',
      'removed Rich',
      'added Rich',
      'added Smiths',
      'removed Smiths',
      'added Smiths',
    ]);
  });

  it('refuses manual member changes of a segment with 409 segment_membership, changing nothing', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customer = await server.createCustomer(orgId, { firstName: 'Dee', lastName: 'Fox' }, write);
    const other = await server.createCustomer(orgId, { firstName: 'Eve', lastName: 'Fox', gender: 'FEMALE' }, write);
    const segment = await createSegment(orgId, write, { gender: 'FEMALE' });
    await readyList(orgId, read, segment.id);
    const add = await server.request('PUT', `${lists(orgId)}/${segment.id}/members/${customer.id}`, { token: write });
    expectErrorJson(add, 409);
    expectError(add, 409, 'segment_membership');
    const remove = await server.request('DELETE', `${lists(orgId)}/${segment.id}/members/${other.id}`, {
      token: write,
    });
    expectError(remove, 409, 'segment_membership');
    expect(await memberIds(orgId, read, segment.id)).toEqual([other.id]);
  });

  it('validates the filter like the list endpoint: 400 naming filter.<parameter>, nothing stored', async () => {
    const { orgId, read, write } = await createTenant(server);
    const cases: [unknown, string][] = [
      [{ q: 'a' }, 'filter.q'],
      [{ pointsBalanceMin: 1.5 }, 'filter.pointsBalanceMin'],
      [{ pointsBalanceMin: '10' }, 'filter.pointsBalanceMin'],
      [{ gender: 'robot' }, 'filter.gender'],
      [{ createdAfter: 'yesterday' }, 'filter.createdAfter'],
      [{ hasAgreedToMarketing: 'yes' }, 'filter.hasAgreedToMarketing'],
      [{ listId: 'NOPE' }, 'filter.listId'],
      [{ color: 'red' }, 'filter'],
      [{ 'metadata.tier': 'x'.repeat(501) }, 'filter'],
      [{ q: 'nul\u0000byte' }, 'filter.q'],
      ['all', 'filter'],
      [null, 'filter'],
    ];
    for (const [filter, field] of cases) {
      const response = await server.request('POST', lists(orgId), { token: write, body: { name: 'Bad', filter } });
      const error = expectErrorJson(response, 400);
      expect(errorFields(error).join(' ') + error.message, JSON.stringify(filter)).toContain(field);
    }
    expect(await readAllPages(server, lists(orgId), read)).toEqual([]);
  });

  it('changes the filter with PUT and builds the segment again', async () => {
    const { orgId, read, write } = await createTenant(server);
    const a = await server.createCustomer(orgId, { firstName: 'Al', lastName: 'Gray', gender: 'MALE' }, write);
    const b = await server.createCustomer(orgId, { firstName: 'Bea', lastName: 'Gray', gender: 'FEMALE' }, write);
    const segment = await createSegment(orgId, write, { gender: 'MALE' });
    await readyList(orgId, read, segment.id);
    expect(await memberIds(orgId, read, segment.id)).toEqual([a.id]);
    const put = await server.request<CustomerList>('PUT', `${lists(orgId)}/${segment.id}`, {
      token: write,
      body: { name: 'Women', filter: { gender: 'FEMALE' } },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ name: 'Women', filter: { gender: 'FEMALE' }, status: 'building' });
    expect(await readyList(orgId, read, segment.id)).toMatchObject({ memberCount: 1, status: 'ready' });
    expect(await memberIds(orgId, read, segment.id)).toEqual([b.id]);
    // A rename keeps the filter and the members.
    const renamed = await server.request<CustomerList>('PUT', `${lists(orgId)}/${segment.id}`, {
      token: write,
      body: { name: 'Ladies' },
    });
    expect(renamed.body).toMatchObject({
      name: 'Ladies',
      filter: { gender: 'FEMALE' },
      status: 'ready',
      memberCount: 1,
    });
    // A manual list does not become a segment.
    const manual = await server.request<CustomerList>('POST', lists(orgId), { token: write, body: { name: 'Manual' } });
    expect(manual.body).not.toHaveProperty('filter');
    expect(manual.body).not.toHaveProperty('status');
    const refused = await server.request('PUT', `${lists(orgId)}/${manual.body.id}`, {
      token: write,
      body: { name: 'Manual', filter: { gender: 'MALE' } },
    });
    expectError(refused, 409, 'conflict');
  });

  it('one write moving a customer into and out of several segments at once keeps members, counts and feed exact', async () => {
    const { orgId, read, write } = await createTenant(server);
    const kim = await server.createCustomer(
      orgId,
      { firstName: 'Kim', lastName: 'Nguyễn', hasAgreedToMarketing: true, metadata: { tier: 'gold' } },
      write,
    );
    const lou = await server.createCustomer(
      orgId,
      {
        firstName: 'Lou',
        lastName: 'Nguyen',
        hasAgreedToMarketing: false,
        gender: 'FEMALE',
        metadata: { tier: 'gold' },
      },
      write,
    );
    // Rules on marketing, names (2-character and trigram `q`), metadata, gender, and one naming another segment.
    const rules: [string, Record<string, unknown>, string][] = [
      ['Marketing', { hasAgreedToMarketing: true }, 'hasAgreedToMarketing=true'],
      ['No marketing', { hasAgreedToMarketing: false }, 'hasAgreedToMarketing=false'],
      ['Nguyen', { q: 'nguyen' }, 'q=nguyen'],
      ['Ki', { q: 'ki' }, 'q=ki'],
      ['Gold', { 'metadata.tier': 'gold' }, 'metadata.tier=gold'],
      ['Silver women', { 'metadata.tier': 'silver', gender: 'FEMALE' }, 'metadata.tier=silver&gender=FEMALE'],
    ];
    const segments: { id: string; name: string; query: string }[] = [];
    for (const [name, filter, query] of rules) {
      segments.push({ ...(await createSegment(orgId, write, filter, name)), query });
    }
    const goldMarketing = await createSegment(orgId, write, { listId: segments[0]!.id, 'metadata.tier': 'gold' }, 'GM');
    segments.push({ ...goldMarketing, query: `listId=${segments[0]!.id}&metadata.tier=gold` });
    for (const segment of segments) await readyList(orgId, read, segment.id);

    const agree = async () => {
      for (const segment of segments) {
        const expected = await filteredIds(orgId, read, segment.query);
        expect(await memberIds(orgId, read, segment.id), segment.name).toEqual(expected);
        const list = (await server.request<CustomerList>('GET', `${lists(orgId)}/${segment.id}`, { token: read })).body;
        expect(list.memberCount, segment.name).toBe(expected.length);
        expect(await storedMemberCount(orgId, segment.id), segment.name).toBe(expected.length);
      }
    };
    await agree();
    const before = (await readEvents(server, orgId, read)).at(-1)!.sequence;
    const patch = async (id: string, body: object) => {
      const response = await server.request('PATCH', `/organizations/${orgId}/customers/${id}`, { token: write, body });
      expect(response.status, response.text).toBe(200);
      await agree();
    };
    // Out of Marketing, Nguyen, Ki, Gold and GM; into No marketing and Silver women: seven moves in one write.
    await patch(kim.id, {
      firstName: 'Pat',
      lastName: 'Smith',
      hasAgreedToMarketing: false,
      gender: 'FEMALE',
      metadata: { tier: 'silver' },
    });
    expect((await membershipIds(orgId, read, kim.id)).sort()).toEqual([segments[1]!.id, segments[5]!.id].sort());
    // And back, while Lou (in some of the same segments) stays where she is.
    await patch(kim.id, {
      firstName: 'Kim',
      lastName: 'Nguyễn',
      hasAgreedToMarketing: true,
      metadata: { tier: 'gold' },
    });
    await patch(lou.id, { hasAgreedToMarketing: true });

    const events = (await readEvents(server, orgId, read, before)).map((e) =>
      e.event.startsWith('customer-list.member-')
        ? `${e.event.slice('customer-list.member-'.length)} ${(e.customerList as { name: string }).name} ${(e.customer as { firstName: string }).firstName}`
        : e.event,
    );
    expect(events).toEqual([
      'customer.updated',
      'added No marketing Pat',
      'added Silver women Pat',
      'removed Marketing Pat',
      'removed Nguyen Pat',
      'removed Ki Pat',
      'removed Gold Pat',
      'removed GM Pat',
      'customer.updated',
      'added Marketing Kim',
      'added Nguyen Kim',
      'added Ki Kim',
      'added Gold Kim',
      'removed No marketing Kim',
      'removed Silver women Kim',
      'added GM Kim',
      'customer.updated',
      'added Marketing Lou',
      'removed No marketing Lou',
      'added GM Lou',
    ]);
  });

  it('segments naming a list follow its members, manual changes and segments alike', async () => {
    const { orgId, read, write } = await createTenant(server);
    const a = await server.createCustomer(
      orgId,
      { firstName: 'Al', lastName: 'Reed', hasAgreedToMarketing: true },
      write,
    );
    const b = await server.createCustomer(orgId, { firstName: 'Bo', lastName: 'Reed' }, write);
    const manual = (await server.request<CustomerList>('POST', lists(orgId), { token: write, body: { name: 'VIP' } }))
      .body;
    const vipMarketing = await createSegment(orgId, write, { listId: manual.id, hasAgreedToMarketing: true });
    const vipAll = await createSegment(orgId, write, { listId: vipMarketing.id });
    await readyList(orgId, read, vipMarketing.id);
    await readyList(orgId, read, vipAll.id);
    for (const id of [a.id, b.id]) {
      expect((await server.request('PUT', `${lists(orgId)}/${manual.id}/members/${id}`, { token: write })).status).toBe(
        204,
      );
    }
    expect(await memberIds(orgId, read, vipMarketing.id)).toEqual([a.id]);
    expect(await memberIds(orgId, read, vipAll.id)).toEqual([a.id]);
    expect(
      (await server.request('DELETE', `${lists(orgId)}/${manual.id}/members/${a.id}`, { token: write })).status,
    ).toBe(204);
    expect(await memberIds(orgId, read, vipMarketing.id)).toEqual([]);
    expect(await memberIds(orgId, read, vipAll.id)).toEqual([]);
    const cycle = await server.request('PUT', `${lists(orgId)}/${vipMarketing.id}`, {
      token: write,
      body: { name: 'Cycle', filter: { listId: vipAll.id } },
    });
    expect(errorFields(expectErrorJson(cycle, 400))).toEqual(['filter.listId']);
  });
});
