import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer, CustomerListTiny, CustomerStatistics } from '../src/contract/customers.js';
import type { CustomerList, CustomerListMember } from '../src/contract/customer-lists.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, readAllPages, readEvents, type FeedEvent } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** RFC 3339 to the second, as customers and lists show their timestamps. */
const toSeconds = (iso: string) => `${iso.slice(0, 19)}Z`;

interface Model {
  customers: Map<string, Customer>;
  lists: Map<string, { list: CustomerList; members: Map<string, string> }>;
}

/** Rebuilds the organization's state from its event feed alone. */
function replay(events: FeedEvent[]): Model {
  const model: Model = { customers: new Map(), lists: new Map() };
  for (const event of events) {
    const customer = event.customer as Customer | undefined;
    const customerList = event.customerList as { id: string; name: string } | undefined;
    switch (event.event) {
      case 'customer.created':
      case 'customer.updated':
        model.customers.set(customer!.id, customer!);
        break;
      case 'customer.updated-statistics': {
        const current = model.customers.get(customer!.id)!;
        // A customer event's occurredAt is the customer's new updatedAt.
        model.customers.set(customer!.id, {
          ...current,
          statistics: event.statistics as CustomerStatistics,
          updatedAt: toSeconds(event.occurredAt),
        });
        break;
      }
      case 'customer.deleted':
        model.customers.delete(customer!.id);
        for (const entry of model.lists.values()) entry.members.delete(customer!.id);
        break;
      case 'customer-list.created':
        model.lists.set(customerList!.id, {
          list: {
            createdAt: toSeconds(event.occurredAt),
            id: customerList!.id,
            memberCount: 0,
            name: customerList!.name,
          },
          members: new Map(),
        });
        break;
      case 'customer-list.updated':
        model.lists.get(customerList!.id)!.list.name = customerList!.name;
        break;
      case 'customer-list.deleted':
        model.lists.delete(customerList!.id);
        break;
      case 'customer-list.member-added':
        model.lists.get(customerList!.id)!.members.set(customer!.id, toSeconds(event.occurredAt));
        break;
      case 'customer-list.member-removed':
        model.lists.get(customerList!.id)!.members.delete(customer!.id);
        break;
      case 'payment.completed':
      case 'payment.refunded':
        // The spend they make is in the customer.updated-statistics event that follows in the same transaction.
        break;
      default:
        throw new Error(`unexpected event ${event.event}`);
    }
  }
  return model;
}

function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)],
  };
}

await describeEachBackend('event feed replay', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('replaying the feed after a random concurrent workload rebuilds exactly what the read endpoints show', async () => {
    const { orgId, read, write } = await createTenant(server);
    const random = createRandom(backend.name === 'sqlite' ? 7 : 11);
    const customers: string[] = [];
    const lists: string[] = [];
    let reference = 0;
    const c = `/organizations/${orgId}/customers`;
    const l = `/organizations/${orgId}/customer-lists`;

    // A follower that tails the feed while the workload runs must end with the same events as a full read.
    let done = false;
    const followed: FeedEvent[] = [];
    const follower = (async () => {
      for (;;) {
        const finished = done;
        followed.push(...(await readEvents(server, orgId, read, followed.at(-1)?.sequence ?? 0)));
        if (finished) return;
      }
    })();

    for (let i = 0; i < 3; i++) customers.push((await server.createCustomer(orgId, {}, write)).id);
    lists.push((await server.request<CustomerList>('POST', l, { token: write, body: { name: 'Start' } })).body.id);
    // Every kind of change at least once, whatever the random rounds do.
    const [first, second, third] = customers as [string, string, string];
    await server.request('PATCH', `${c}/${first}`, { token: write, body: { lastName: 'Patched' } });
    await server.request('PUT', `${c}/${first}/points/start`, { token: write, body: { amount: 10 } });
    await server.request('PUT', `${l}/${lists[0]}/members/${first}`, { token: write });
    await server.request('PUT', `${l}/${lists[0]}/members/${second}`, { token: write });
    await server.request('PUT', `${l}/${lists[0]}/members/${third}`, { token: write });
    await server.request('DELETE', `${l}/${lists[0]}/members/${second}`, { token: write });
    await server.request('DELETE', `${c}/${third}`, { token: write });
    customers.splice(2, 1);

    for (let round = 0; round < 12; round++) {
      const batch = Array.from({ length: 8 }, async () => {
        const customer = random.pick(customers);
        const list = random.pick(lists);
        switch (random.int(0, 11)) {
          case 0: {
            const response = await server.request<Customer>('POST', c, {
              token: write,
              body: { firstName: `F${random.int(0, 999)}`, lastName: 'L', email: `u${random.int(0, 1e9)}@example.com` },
            });
            customers.push(response.body.id);
            return;
          }
          case 1:
            await server.request('PATCH', `${c}/${customer}`, {
              token: write,
              body: { firstName: `P${random.int(0, 999)}`, phoneNumber: random.int(0, 1) ? '0411 222 333' : null },
            });
            return;
          case 2:
          case 3:
            await server.request('PUT', `${c}/${customer}/points/r${++reference}`, {
              token: write,
              body: { amount: random.int(-50, 200) || 1 },
            });
            return;
          case 4:
            await server.request('PUT', `${c}/${customer}/spend/s${++reference}`, {
              token: write,
              body: { amount: random.int(1, 5000) },
            });
            return;
          case 5:
            await server.request('DELETE', `${c}/${customer}/points/r${random.int(1, Math.max(reference, 1))}`, {
              token: write,
            });
            return;
          case 6:
          case 7:
            if (list) await server.request('PUT', `${l}/${list}/members/${customer}`, { token: write });
            return;
          case 8:
            if (list) await server.request('DELETE', `${l}/${list}/members/${customer}`, { token: write });
            return;
          case 9: {
            const response = await server.request<CustomerList>('POST', l, {
              token: write,
              body: { name: `List ${random.int(0, 99)}` },
            });
            lists.push(response.body.id);
            return;
          }
          case 10:
            if (list && random.int(0, 2) === 0) await server.request('DELETE', `${l}/${list}`, { token: write });
            else if (list)
              await server.request('PUT', `${l}/${list}`, {
                token: write,
                body: { name: `Renamed ${random.int(0, 99)}` },
              });
            return;
          default:
            if (
              customers.length > 2 &&
              (await server.request('DELETE', `${c}/${customer}`, { token: write })).status === 204
            ) {
              customers.splice(customers.indexOf(customer!), 1);
            }
        }
      });
      await Promise.all(batch);
    }
    done = true;
    await follower;

    const events = await readEvents(server, orgId, read);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    // Erasure scrubbed some payloads since the follower read them; the events themselves are the same.
    const identity = (e: FeedEvent) => [e.sequence, e.id, e.event, e.occurredAt];
    expect(followed.map(identity)).toEqual(events.map(identity));
    const kinds = new Set(events.map((e) => e.event));
    for (const kind of [
      'customer.created',
      'customer.updated',
      'customer.updated-statistics',
      'customer.deleted',
      'customer-list.member-added',
      'customer-list.member-removed',
    ]) {
      expect(kinds.has(kind), kind).toBe(true);
    }
    const model = replay(events);

    const shown = await readAllPages<Customer>(server, `${c}?limit=7`, read);
    expect(shown.length).toBeGreaterThan(0);
    expect(new Map(shown.map((x) => [x.id, x]))).toEqual(model.customers);

    const shownLists = await readAllPages<CustomerList>(server, `${l}?limit=3`, read);
    const modelLists = [...model.lists.values()].map(({ list, members }) => ({ ...list, memberCount: members.size }));
    expect(shownLists).toEqual(modelLists.sort((a, b) => (a.id < b.id ? -1 : 1)));
    for (const list of shownLists) {
      const members = await readAllPages<CustomerListMember>(server, `${l}/${list.id}/members`, read);
      const expected = model.lists.get(list.id)!.members;
      expect(members.map((m) => [m.id, m.addedAt])).toEqual(
        [...expected.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      for (const member of members) {
        const customer = model.customers.get(member.id)!;
        expect(member).toEqual(expect.objectContaining({ firstName: customer.firstName, lastName: customer.lastName }));
      }
    }
    for (const customer of shown) {
      const memberships = await readAllPages<CustomerListTiny>(server, `${c}/${customer.id}/memberships`, read);
      const expected = [...model.lists.values()]
        .filter((x) => x.members.has(customer.id))
        .map((x) => ({ id: x.list.id, name: x.list.name }));
      expect(memberships).toEqual(expected.sort((a, b) => (a.id < b.id ? -1 : 1)));
    }
  });
});
