import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { CustomersClient } from '../src/client/index.js';
import type { CustomerList, CustomerListMember } from '../src/contract/customer-lists.js';
import type { Customer } from '../src/contract/customers.js';
import { createServices } from '../src/services.js';
import { describeEachBackend } from './helpers/backends.js';
import { insertCustomersDirectly } from './helpers/bulk.js';
import { createTenant, readAllPages, readEvents, type FeedEvent } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('segment builds', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { SEGMENT_BUILD_BATCH_SIZE: '500', RATE_LIMIT_PER_MINUTE: '0' });
  });
  afterAll(async () => server?.close());

  const lists = (orgId: string) => `/organizations/${orgId}/customer-lists`;

  async function getList(orgId: string, token: string, listId: string): Promise<CustomerList> {
    const response = await server.request<CustomerList>('GET', `${lists(orgId)}/${listId}`, { token });
    expect(response.status, response.text).toBe(200);
    return response.body;
  }

  async function readyList(orgId: string, token: string, listId: string): Promise<CustomerList> {
    for (;;) {
      const list = await getList(orgId, token, listId);
      if (list.status === 'ready') return list;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const memberIds = async (orgId: string, token: string, listId: string) =>
    (await readAllPages<CustomerListMember>(server, `${lists(orgId)}/${listId}/members?limit=100`, token))
      .map((m) => m.id)
      .sort();

  const filteredIds = async (orgId: string, token: string, query: string) =>
    (await readAllPages<Customer>(server, `/organizations/${orgId}/customers?${query}`, token)).map((c) => c.id).sort();

  /** What a follower of the feed believes the members are: member-added/removed folded in order; erasure removes. */
  function followFeed(events: readonly FeedEvent[], listId: string): string[] {
    const members = new Set<string>();
    for (const event of events) {
      const list = event.customerList as { id: string } | undefined;
      const customer = event.customer as { id: string } | undefined;
      if (event.event === 'customer-list.member-added' && list?.id === listId) members.add(customer!.id);
      if (event.event === 'customer-list.member-removed' && list?.id === listId) members.delete(customer!.id);
      if (event.event === 'customer.deleted') members.delete((event.customer as { id: string }).id);
    }
    return [...members].sort();
  }

  it('createSegment through the SDK agrees with the SDK search over the same filter', async () => {
    const { orgId, write } = await createTenant(server);
    for (const [firstName, lastName, hasAgreedToMarketing] of [
      ['Zoë', 'Ng', true],
      ['Zoe', 'Ngata', false],
      ['Zora', 'Ng', true],
    ] as const) {
      await server.createCustomer(orgId, { firstName, lastName, hasAgreedToMarketing }, write);
    }
    const client = new CustomersClient({ baseUrl: server.baseUrl, token: write });
    const segment = await client.customerLists.createSegment(orgId, {
      name: 'Zoes',
      filter: { q: 'zoe', hasAgreedToMarketing: true },
    });
    expect(segment.status).toBe('building');
    while ((await client.customerLists.get(orgId, segment.id)).status === 'building') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const searched = (await client.customers.search(orgId, { q: 'zoe', hasAgreedToMarketing: true }).toArray())
      .map((c) => c.id)
      .sort();
    const members = (await client.customerLists.members(orgId, segment.id).toArray()).map((m) => m.id).sort();
    expect(searched).toHaveLength(1);
    expect(members).toEqual(searched);
  });

  it('feed follower and direct checks agree under concurrent writers', async () => {
    const { orgId, read, write } = await createTenant(server);
    const customers: Customer[] = [];
    for (let i = 0; i < 12; i++) {
      customers.push(await server.createCustomer(orgId, { firstName: `Writer${i}`, lastName: 'Test' }, write));
    }
    const segment = (
      await server.request<CustomerList>('POST', lists(orgId), {
        token: write,
        body: { name: 'Engaged', filter: { pointsBalanceMin: 50, hasAgreedToMarketing: true } },
      })
    ).body;
    let reference = 0;
    const writer = async (seed: number) => {
      for (let step = 0; step < 15; step++) {
        const customer = customers[(seed * 7 + step * 5) % customers.length]!;
        const path = `/organizations/${orgId}/customers/${customer.id}`;
        const response =
          (seed + step) % 3 === 0
            ? await server.request('PATCH', path, { token: write, body: { hasAgreedToMarketing: step % 2 === 0 } })
            : await server.request('PUT', `${path}/points/r${reference++}`, {
                token: write,
                body: { amount: step % 4 === 3 ? -20 : 30 },
              });
        expect([200, 204, 409]).toContain(response.status);
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    await readyList(orgId, read, segment.id);
    const direct = await filteredIds(orgId, read, 'pointsBalanceMin=50&hasAgreedToMarketing=true');
    expect(direct.length).toBeGreaterThan(0);
    expect(await memberIds(orgId, read, segment.id)).toEqual(direct);
    expect(followFeed(await readEvents(server, orgId, read), segment.id)).toEqual(direct);
    expect((await getList(orgId, read, segment.id)).memberCount).toBe(direct.length);
    for (const customer of customers) {
      const memberships = await readAllPages<{ id: string }>(
        server,
        `/organizations/${orgId}/customers/${customer.id}/memberships`,
        read,
      );
      expect(memberships.some((m) => m.id === segment.id)).toBe(direct.includes(customer.id));
    }
  });

  it('builds over 100,000 customers in batches while writes continue, exact when ready', async () => {
    const { orgId, read, write } = await createTenant(server);
    const rows = await insertCustomersDirectly(server.store, orgId, 100_000, { prefix: 'Bulk' });
    const segment = (
      await server.request<CustomerList>('POST', lists(orgId), {
        token: write,
        body: { name: 'Sevens', filter: { q: 'bulk7' } },
      })
    ).body;
    expect(segment.status).toBe('building');
    // Writes during the build, on customers both sides of its cursor: renames in and out, new customers, erasure.
    const byIndex = (i: number) => rows[i]!.id;
    const writes: Promise<unknown>[] = [];
    let statusDuringWrites: string | undefined;
    for (let i = 0; i < 40; i++) {
      const path = `/organizations/${orgId}/customers/${byIndex(i * 2_477)}`;
      writes.push(
        server.request('PATCH', path, { token: write, body: { firstName: i % 2 === 0 ? 'Bulk7x' : 'Other' } }),
      );
      if (i % 10 === 0) writes.push(server.createCustomer(orgId, { firstName: 'Bulk7new', lastName: `N${i}` }, write));
      if (i === 20) statusDuringWrites = (await getList(orgId, read, segment.id)).status;
    }
    writes.push(server.request('DELETE', `/organizations/${orgId}/customers/${byIndex(7)}`, { token: write }));
    await Promise.all(writes);
    expect(statusDuringWrites).toBe('building');
    const ready = await readyList(orgId, read, segment.id);
    const direct = await filteredIds(orgId, read, 'q=bulk7');
    expect(direct.length).toBeGreaterThan(11_000);
    expect(ready.memberCount).toBe(direct.length);
    expect(await memberIds(orgId, read, segment.id)).toEqual(direct);
    expect(followFeed(await readEvents(server, orgId, read), segment.id)).toEqual(direct);
  }, 600_000);

  it('resumes an interrupted build from its stored cursor in a new process, one builder at a time', async () => {
    const { orgId, read } = await createTenant(server);
    await insertCustomersDirectly(server.store, orgId, 20_000, { prefix: 'Resume' });
    // A process of its own (its own services and app over the same database), stopped mid-build.
    const first = createServices(server.store, { ...server.config, segmentBuildBatchSize: 100 });
    const firstApp = await buildApp({ config: server.config, services: first, logger: false });
    await firstApp.ready();
    const created = await first.customerLists.createCustomerList(orgId, { name: 'Ones', filter: { q: 'resume1' } });
    const stored = () =>
      server.store.db
        .selectFrom('customer_lists')
        .select(['build_after', 'build_owner', 'segment_status'])
        .where('organization_id', '=', orgId)
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
    while (((await stored()).build_after ?? '') === '') await new Promise((resolve) => setTimeout(resolve, 10));
    // A second process asking to build the same segment gets no lease while the first holds it.
    const second = createServices(server.store, server.config);
    const owner = (await stored()).build_owner;
    await second.segmentBuilds.build(orgId, created.id);
    expect((await stored()).build_owner).toBe(owner);
    await firstApp.close();
    const interrupted = await stored();
    expect(interrupted.segment_status).toBe('building');
    expect(interrupted.build_after).not.toBe('');
    expect(interrupted.build_owner).toBeNull();
    expect((await getList(orgId, read, created.id)).status).toBe('building');

    const secondApp = await buildApp({ config: server.config, services: second, logger: false });
    await secondApp.ready();
    try {
      await readyList(orgId, read, created.id);
    } finally {
      await secondApp.close();
    }
    const direct = await filteredIds(orgId, read, 'q=resume1');
    expect(direct.length).toBeGreaterThan(1_000);
    expect(await memberIds(orgId, read, created.id)).toEqual(direct);
    const added = (await readEvents(server, orgId, read)).filter(
      (e) => e.event === 'customer-list.member-added' && (e.customerList as { id: string }).id === created.id,
    );
    // Each member was added once: the resumed build did not evaluate from the start as if nothing were stored.
    expect(added).toHaveLength(direct.length);
  }, 300_000);
});
