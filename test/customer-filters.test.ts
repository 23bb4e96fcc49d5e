import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { newId } from '../src/domain/ids.js';
import { foldText } from '../src/store/customer-search-text.js';
import { insertCustomers, type NewCustomerRow } from '../src/store/repositories/customer-repository.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, errorFields, expectErrorJson, readAllPages } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const COUNT = 80;
const FIRST = ['José', 'Zoë', 'Jean-Luc', 'Ann', 'Bob'];
const LAST = ['Smith', 'Smithers', 'Nguyen', 'García', 'Müller', "O'Brien"];
const GENDERS = ['MALE', 'FEMALE', 'OTHER', null] as const;
const TIERS = ['gold', 'silver', 'bronze'];
const BASE = Date.UTC(2024, 0, 1);
// Name fragments of 3+ letters, none of which occurs in the generated emails (`p12@ex.org`).
const FRAGMENTS = ['smi', 'ther', 'guy', 'garc', 'mull', "o'b", 'jose', 'zoe', 'luc', 'ann smi'];

/** Customers with every filtered attribute varied, written straight to the database (search rows included). */
function rows(organizationId: string): NewCustomerRow[] {
  return Array.from({ length: COUNT }, (_, i) => {
    // Whole seconds, one apart: the order by time is the same whether read in ms or as the API shows it.
    const created = BASE + i * 86_400_000 + (i % 7) * 1000;
    const tier = i % 4 === 3 ? undefined : TIERS[i % 3];
    return {
      organization_id: organizationId,
      id: newId(created),
      first_name: FIRST[i % FIRST.length]!,
      last_name: LAST[(i * 7) % LAST.length]!,
      email: i % 5 === 0 ? null : `p${i}@ex.org`,
      email_normalized: i % 5 === 0 ? null : `p${i}@ex.org`,
      phone_number: i % 3 === 0 ? null : `+614${String(10_000_000 + i * 1234)}`,
      dob: null,
      gender: GENDERS[i % 4]!,
      has_agreed_to_marketing: i % 3 === 0 ? null : i % 2,
      created_at: created,
      updated_at: created + ((i * 37) % 50) * 86_400_000,
      points_balance: ((i * 53) % 200) - 50,
      total_points_earned: 0,
      total_points_redeemed: 0,
      total_spend: (i * 977) % 10_000,
      last_points_earned_at: null,
      last_points_redeemed_at: null,
      last_spent_at: null,
      metadata: tier === undefined ? null : JSON.stringify(i % 2 ? { tier } : { region: 'north', tier }),
    };
  });
}

type Filter = Record<string, string>;

/** The filter as a plain in-memory predicate over exported customers: what the API must return. */
function expected(customers: Customer[], filter: Filter, members: Set<string>): Customer[] {
  return customers.filter((c) => {
    const stats = c.statistics ?? {};
    for (const [name, value] of Object.entries(filter)) {
      const at = Date.parse(value);
      const ok =
        name === 'q'
          ? foldText(`${c.firstName} ${c.lastName}`).includes(foldText(value))
          : name === 'hasAgreedToMarketing'
            ? c.hasAgreedToMarketing === (value === 'true')
            : name === 'createdAfter'
              ? Date.parse(c.createdAt!) > at
              : name === 'createdBefore'
                ? Date.parse(c.createdAt!) < at
                : name === 'updatedAfter'
                  ? Date.parse(c.updatedAt!) > at
                  : name === 'updatedBefore'
                    ? Date.parse(c.updatedAt!) < at
                    : name === 'pointsBalanceMin'
                      ? (stats.pointsBalance ?? 0) >= Number(value)
                      : name === 'pointsBalanceMax'
                        ? (stats.pointsBalance ?? 0) <= Number(value)
                        : name === 'totalSpendMin'
                          ? (stats.totalSpend ?? 0) >= Number(value)
                          : name === 'totalSpendMax'
                            ? (stats.totalSpend ?? 0) <= Number(value)
                            : name === 'gender'
                              ? c.gender === value
                              : name === 'listId'
                                ? members.has(c.id)
                                : name.startsWith('metadata.')
                                  ? c.metadata?.[name.slice('metadata.'.length)] === value
                                  : true;
      if (!ok) return false;
    }
    return true;
  });
}

await describeEachBackend('customer list filters', (backend) => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let exported: Customer[];
  let listId: string;
  const members = new Set<string>();
  beforeAll(async () => {
    server = await startTestServer(backend);
    tenant = await createTenant(server);
    await server.store.db.transaction().execute((trx) => insertCustomers(trx, rows(tenant.orgId)));
    exported = [];
    for await (const page of server.services.customerImport.exportCustomers(tenant.orgId)) exported.push(...page);
    const list = await server.request<{ id: string }>('POST', `/organizations/${tenant.orgId}/customer-lists`, {
      token: tenant.write,
      body: { name: 'Some' },
    });
    expect(list.status, list.text).toBe(201);
    listId = list.body.id;
    for (const customer of exported.filter((_, i) => i % 3 === 1)) {
      const added = await server.request(
        'PUT',
        `/organizations/${tenant.orgId}/customer-lists/${listId}/members/${customer.id}`,
        {
          token: tenant.write,
        },
      );
      expect(added.status, added.text).toBeLessThan(300);
      members.add(customer.id);
    }
  }, 120_000);
  afterAll(async () => server?.close());

  const query = (filter: Filter) =>
    Object.entries(filter)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');

  it('random filters over random customers return exactly what an in-memory filter over an export returns', async () => {
    const time = fc
      .integer({ min: -5, max: COUNT + 60 })
      .map((day) => new Date(BASE + day * 86_400_000 + 3500).toISOString());
    const filterArb = fc.record(
      {
        q: fc.constantFrom(...FRAGMENTS),
        hasAgreedToMarketing: fc.constantFrom('true', 'false'),
        createdAfter: time,
        createdBefore: time,
        updatedAfter: time,
        updatedBefore: time,
        pointsBalanceMin: fc.integer({ min: -60, max: 160 }).map(String),
        pointsBalanceMax: fc.integer({ min: -60, max: 160 }).map(String),
        totalSpendMin: fc.integer({ min: 0, max: 10_000 }).map(String),
        totalSpendMax: fc.integer({ min: 0, max: 10_000 }).map(String),
        gender: fc.constantFrom('MALE', 'FEMALE', 'OTHER'),
        listId: fc.constant('LIST'),
        'metadata.tier': fc.constantFrom(...TIERS, 'none'),
        'metadata.region': fc.constant('north'),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        filterArb,
        fc.constantFrom(undefined, 'created', 'updated'),
        fc.integer({ min: 3, max: 40 }),
        async (raw, sort, limit) => {
          const filter: Filter = Object.fromEntries(
            Object.entries(raw).map(([k, v]) => [k, k === 'listId' ? listId : v]),
          );
          const path = `/organizations/${tenant.orgId}/customers?${query(filter)}${sort ? `&sort=${sort}` : ''}&limit=${limit}`;
          const got = await readAllPages<Customer>(server, path, tenant.read);
          const want = expected(exported, filter, members);
          expect(new Set(got.map((c) => c.id)).size).toBe(got.length);
          if (filter.q === undefined || sort !== undefined) {
            const key = sort === 'updated' ? 'updatedAt' : 'createdAt';
            want.sort((a, b) => Date.parse(b[key]!) - Date.parse(a[key]!) || (a.id < b.id ? 1 : -1));
            expect(got.map((c) => c.id)).toEqual(want.map((c) => c.id));
          } else {
            expect(got.map((c) => c.id).sort()).toEqual(want.map((c) => c.id).sort());
          }
          expect(got).toEqual(got.map((c) => exported.find((e) => e.id === c.id)));
        },
      ),
      { numRuns: 40 },
    );
  }, 240_000);

  it('filters by metadata really filter', async () => {
    const gold = await readAllPages<Customer>(
      server,
      `/organizations/${tenant.orgId}/customers?metadata.tier=gold`,
      tenant.read,
    );
    expect(gold.length).toBeGreaterThan(0);
    expect(gold.length).toBeLessThan(COUNT);
    expect(gold.every((c) => c.metadata?.tier === 'gold')).toBe(true);
    const none = await readAllPages<Customer>(
      server,
      `/organizations/${tenant.orgId}/customers?metadata.tier=gold&metadata.region=south`,
      tenant.read,
    );
    expect(none).toEqual([]);
  });

  it('refuses invalid filter values with a 400 naming the parameter', async () => {
    for (const [name, value] of [
      ['hasAgreedToMarketing', 'yes'],
      ['createdAfter', 'yesterday'],
      ['createdBefore', '2024-13-01T00:00:00Z'],
      ['updatedAfter', '2024-01-01'],
      ['updatedBefore', ''],
      ['pointsBalanceMin', '1.5'],
      ['pointsBalanceMax', 'ten'],
      ['totalSpendMin', '1e3'],
      ['totalSpendMax', '--1'],
      ['gender', 'male'],
      ['listId', 'not a list!'],
      [`metadata.${'k'.repeat(41)}`, 'v'],
      ['metadata.tier', 'v'.repeat(501)],
    ] as const) {
      const response = await server.request(
        'GET',
        `/organizations/${tenant.orgId}/customers?${encodeURIComponent(name)}=${encodeURIComponent(value)}`,
        { token: tenant.read },
      );
      expect(errorFields(expectErrorJson(response, 400)), `${name}=${value}`).toEqual([name]);
    }
    const twice = await server.request('GET', `/organizations/${tenant.orgId}/customers?gender=MALE&gender=FEMALE`, {
      token: tenant.read,
    });
    expectErrorJson(twice, 400);
  });
});
