import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTextSearch } from '../src/domain/customers/customer-input.js';
import { insertCustomers, type NewCustomerRow } from '../src/store/repositories/customer-repository.js';
import { customerQueryPage, type CustomerQuery } from '../src/store/repositories/customer-query-repository.js';
import type { Store } from '../src/store/store.js';
import { describeEachBackend } from './helpers/backends.js';
import { explainSql, openStoreWithOrganizations } from './helpers/query-plans.js';

const ORGS = ['01JORG0000000000000000000A', '01JORG0000000000000000000B'];
const PER_ORG = 5000;
const SURNAMES = ['Smith', 'Nguyen', 'García', 'Müller', 'Rossi', 'Kowalski', 'Tanaka', "O'Neil", 'Dubois', 'Silva'];

/** Scattered mobile numbers, so a fragment of one is as selective as in real data. */
const phoneOf = (i: number) => `+614${String(10_000_000 + ((i * 7919) % 89_000_000))}`;

function customerRows(organizationId: string, count: number): NewCustomerRow[] {
  const start = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => ({
    organization_id: organizationId,
    id: `01JCUST${organizationId.slice(-1)}${String(i).padStart(18, '0')}`,
    first_name: i % 1000 === 0 ? 'Xu' : `Given${i}`,
    last_name: `${SURNAMES[i % SURNAMES.length]}${i}`,
    email: `person${i}@example${i % 50}.com`,
    email_normalized: `person${i}@example${i % 50}.com`,
    phone_number: phoneOf(i),
    dob: null,
    gender: null,
    has_agreed_to_marketing: null,
    created_at: start + i * 60_000,
    updated_at: start + i * 60_000,
    last_points_earned_at: null,
    last_points_redeemed_at: null,
    last_spent_at: null,
    metadata: null,
  }));
}

function explain(store: Store, query: CustomerQuery): Promise<string> {
  const compiled = customerQueryPage(store, query).compile();
  return explainSql(store, compiled.sql, compiled.parameters);
}

await describeEachBackend('q uses the search indexes, never a scan of the customers', (backend) => {
  let store: Store;
  let database: Awaited<ReturnType<typeof backend.createDatabase>>;

  beforeAll(async () => {
    ({ store, database } = await openStoreWithOrganizations(backend, ORGS));
    for (const id of ORGS) {
      await store.db.transaction().execute((trx) => insertCustomers(trx, customerRows(id, PER_ORG)));
    }
    await store.db.executeQuery(CompiledQuery.raw('analyze'));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  const query = (q: string, order: CustomerQuery['order'] = 'relevance'): CustomerQuery => ({
    organizationId: ORGS[0]!,
    search: parseTextSearch(q, 'AU'),
    filters: {},
    order,
    after: undefined,
    limit: 101,
  });

  function expectNoCustomerScan(plan: string) {
    if (store.kind === 'postgres') {
      expect(plan).not.toMatch(/Seq Scan on (customers|customer_search)/);
    } else {
      expect(plan).not.toMatch(/SCAN (c|s|customers|customer_search)\b(?! VIRTUAL)/);
    }
  }

  // Fragments as selective as real searches: a few customers each (a fragment most customers match is better
  // served by reading them all, and the planner rightly does).
  const national = `0${phoneOf(4321).slice(3)}`;
  for (const [label, q] of [
    ['a name fragment', 'arcía12'],
    ['an email fragment', 'son123@exam'],
  ] as const) {
    for (const order of ['relevance', 'created_at'] as const) {
      it(`${label}, ${order}: the trigram index`, async () => {
        const plan = await explain(store, query(q, order));
        if (store.kind === 'postgres') {
          expect(plan).toMatch(/Bitmap Index Scan on customer_search_(full_name|email)_trgm/);
        } else {
          expect(plan).toMatch(/SCAN customer_search_fts VIRTUAL TABLE INDEX/);
          expect(plan).toMatch(/SEARCH s USING INTEGER PRIMARY KEY/);
        }
        expect(plan).not.toMatch(/customer_search_suffixes/);
        expectNoCustomerScan(plan);
      });
    }
  }

  // A phone fragment: a range of the phone digits' suffixes (its digits), and the trigram indexes of the names and
  // emails for its text.
  for (const q of [`${national.slice(0, 4)} ${national.slice(4, 8)}`, national.slice(1, 8)]) {
    for (const order of ['relevance', 'created_at'] as const) {
      it(`a phone fragment ${q}, ${order}: the suffix index`, async () => {
        const plan = await explain(store, query(q, order));
        if (store.kind === 'postgres') {
          expect(plan).toMatch(/Index Only Scan using customer_search_suffixes_pkey on customer_search_suffixes/);
          expect(plan).toMatch(/Bitmap Index Scan on customer_search_(full_name|email)_trgm/);
          expect(plan).not.toMatch(/customer_search_phone_trgm/);
        } else {
          expect(plan).toMatch(/SEARCH p USING PRIMARY KEY \(organization_id=\? AND suffix>\? AND suffix<\?\)/);
          expect(plan).toMatch(/SCAN customer_search_fts VIRTUAL TABLE INDEX/);
        }
        expectNoCustomerScan(plan);
      });
    }
  }

  it('the statement kept per query shape returns what the query built with its values written in returns', async () => {
    const queries: CustomerQuery[] = [];
    const national = (i: number) => `0${phoneOf(i).slice(3)}`;
    const searches = [
      'xu',
      '04',
      '+6',
      'arcía1',
      'son12@exam',
      `${national(77).slice(0, 4)} ${national(77).slice(4, 7)}`,
      '4112',
      'ith1',
    ];
    const filters = [
      {},
      { createdFrom: Date.UTC(2024, 0, 2), createdUntil: Date.UTC(2024, 0, 3) },
      { email: 'person123@example23.com' },
    ];
    for (const q of [...searches, undefined]) {
      for (const f of filters) {
        for (const order of ['relevance', 'created_at', 'updated_at'] as const) {
          if (q === undefined && order === 'relevance') continue;
          queries.push({
            organizationId: ORGS[0]!,
            search: q === undefined ? undefined : parseTextSearch(q, 'AU'),
            filters: f,
            order,
            after: undefined,
            limit: 7,
          });
        }
      }
    }
    let compared = 0;
    for (const query of queries) {
      const run = async (how: 'statement' | 'built', after?: readonly [number, string]) =>
        (await store.db.executeQuery(customerQueryPage(store, { ...query, after }, how).compile())).rows as Record<
          string,
          unknown
        >[];
      const first = await run('statement');
      expect(first).toEqual(await run('built'));
      const last = first.at(-1);
      if (last === undefined) continue;
      compared++;
      const key = query.order === 'relevance' ? Number(last.search_rank) : Number(last[query.order]);
      const after = [key, String(last.id)] as const;
      expect(await run('statement', after)).toEqual(await run('built', after));
    }
    expect(compared).toBeGreaterThan(queries.length / 2);
  });

  it('a 2-character query: a range of the term index', async () => {
    const plan = await explain(store, query('xu'));
    if (store.kind === 'postgres') {
      expect(plan).toMatch(/Index (Only )?Scan using customer_search_terms_pkey on customer_search_terms/);
    } else {
      expect(plan).toMatch(
        /SEARCH customer_search_terms USING (COVERING )?INDEX \S+ \(organization_id=\? AND term>\? AND term<\?\)/,
      );
    }
    expectNoCustomerScan(plan);
  });
});
