import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { insertCustomerRows } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * The seed's "Syncing customers on a schedule" example, adapted only to read
 * the page array correctly (`push(...page)`) and to use our base URL and token.
 */
async function getUpdatedCustomers(baseUrl: string, token: string, organizationId: string, updatedAt: Date | null) {
  const customers: Customer[] = [];
  let path: string | null = `/organizations/${organizationId}/customers?sort=updated`;

  do {
    const url: URL = new URL(path, baseUrl);
    const response: Response = await fetch(url, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new Error('Network response was not OK');
    path = response.headers.get('X-Next-Page');

    customers.push(...((await response.json()) as Customer[]));

    const lastCustomer = customers[customers.length - 1];
    if (!lastCustomer || (updatedAt && new Date(lastCustomer.updatedAt!) < updatedAt)) {
      // don't continue, even if more pages
      path = null;
    }
  } while (path);

  return { customers, updatedAt: customers[0]?.updatedAt ? new Date(customers[0].updatedAt) : updatedAt };
}

await describeEachBackend('the seed sync recipe', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('gets everything on the first run, then exactly the updated customers', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read', 'customers:write']);
    const rows = await insertCustomerRows(server.store, org.id, 2500, {
      updatedAt: (i) => Date.now() - 86_400_000 + i * 1000,
    });

    const first = await getUpdatedCustomers(server.baseUrl, token, org.id, null);
    expect(first.customers.map((c) => c.id).sort()).toEqual(rows.map((r) => r.id).sort());

    // Updates land in a later second than the watermark, so "newer than the watermark" is exactly "updated".
    await new Promise((r) => setTimeout(r, 1100));
    const toUpdate = [rows[3]!, rows[1500]!, rows[42]!, rows[2499]!, rows[0]!];
    for (const row of toUpdate) {
      const res = await server.request('PATCH', `/organizations/${org.id}/customers/${row.id}`, {
        token,
        body: { firstName: 'Updated' },
      });
      expect(res.status).toBe(200);
    }

    const second = await getUpdatedCustomers(server.baseUrl, token, org.id, first.updatedAt);
    const newer = second.customers.filter((c) => new Date(c.updatedAt!) >= first.updatedAt!);
    expect(newer.map((c) => c.id).sort()).toEqual(toUpdate.map((r) => r.id).sort());
    expect(newer.every((c) => c.firstName === 'Updated')).toBe(true);
    // One page was enough: the recipe stopped instead of walking all 2,500.
    expect(second.customers.length).toBe(1000);
    expect(second.updatedAt!.getTime()).toBeGreaterThan(first.updatedAt!.getTime());
  });

  it('misses no update while writers run concurrently with repeated syncs', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read', 'customers:write']);
    const customers = await Promise.all(Array.from({ length: 20 }, () => server.createCustomer(org.id, {}, token)));
    const latestSeen = new Map<string, Customer>();
    const record = (list: Customer[]) => {
      for (const c of list) {
        const prev = latestSeen.get(c.id);
        if (!prev || Date.parse(c.updatedAt!) >= Date.parse(prev.updatedAt!)) latestSeen.set(c.id, c);
      }
    };

    let writing = true;
    const writers = (async () => {
      for (let round = 0; round < 15; round++) {
        await Promise.all(
          customers.map((c, i) =>
            (i + round) % 3 === 0
              ? server.request('PATCH', `/organizations/${org.id}/customers/${c.id}`, {
                  token,
                  body: { lastName: `R${round}` },
                })
              : Promise.resolve(),
          ),
        );
      }
      writing = false;
    })();
    let watermark: Date | null = null;
    let runs = 0;
    while (writing || runs === 0) {
      const run = await getUpdatedCustomers(server.baseUrl, token, org.id, watermark);
      record(run.customers);
      watermark = run.updatedAt;
      runs++;
    }
    await writers;
    record((await getUpdatedCustomers(server.baseUrl, token, org.id, watermark)).customers);

    const stored = await server.store.db
      .selectFrom('customers')
      .select(['id', 'last_name'])
      .where('organization_id', '=', org.id)
      .execute();
    for (const row of stored) expect(latestSeen.get(row.id)?.lastName, row.id).toBe(row.last_name);
    expect(runs).toBeGreaterThan(1);
  });
});
