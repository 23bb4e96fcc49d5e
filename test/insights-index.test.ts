import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  bucketCountersQuery,
  bucketTotalsQuery,
  countMarketingOptIn,
  INSIGHT_SLOT_MS,
  sumBuckets,
} from '../src/store/repositories/insight-repository.js';
import { insertPointRecords } from '../src/store/repositories/ledger-repository.js';
import { insertPaymentRows } from '../src/store/repositories/payment-repository.js';
import type { Store } from '../src/store/store.js';
import { describeEachBackend } from './helpers/backends.js';
import { insertCustomersDirectly } from './helpers/bulk.js';
import { paymentRow } from './helpers/factories.js';
import { explainSql, openStoreWithOrganizations } from './helpers/query-plans.js';

const ORGS = ['01JORG0000000000000000000A', '01JORG0000000000000000000B'];
const PER_ORG = 3000;
const START = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

await describeEachBackend('insights and the points history use their indexes', (backend) => {
  let store: Store;
  let database: Awaited<ReturnType<typeof backend.createDatabase>>;

  beforeAll(async () => {
    ({ store, database } = await openStoreWithOrganizations(backend, ORGS));
    for (const org of ORGS) {
      const customers = await insertCustomersDirectly(store, org, PER_ORG, { startAt: START });
      await insertPointRecords(
        store.db,
        customers.map((c, i) => ({
          organization_id: org,
          customer_id: c.id,
          reference: `r${i}`,
          amount: i % 3 === 0 ? -5 : 10,
          notes: null,
          occurred_at: START + i * 60_000,
        })),
      );
      await insertPaymentRows(
        store.db,
        customers.map((c, i) => paymentRow(org, `pay-${i}`, START + i * 60_000, { customer_id: c.id })),
      );
    }
    await store.db.executeQuery(CompiledQuery.raw(store.kind === 'postgres' ? 'vacuum analyze' : 'analyze'));
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('sums each bucket with a range of a covering index per figure: no table scan, no sort', async () => {
    const buckets = Array.from({ length: 7 }, (_, i) => ({ start: START + i * DAY, end: START + (i + 1) * DAY }));
    const compiled = bucketTotalsQuery(ORGS[0]!, buckets).compile(store.db);
    const plan = await explainSql(store, compiled.sql, compiled.parameters);
    for (const index of ['customers_created_idx', 'point_records_occurred_idx', 'payments_completed_idx']) {
      if (store.kind === 'postgres') expect(plan).toMatch(new RegExp(`Index Only Scan using ${index}`));
      else expect(plan).toMatch(new RegExp(`USING COVERING INDEX ${index} `));
    }
    expect(plan).not.toMatch(/Seq Scan on (customers|point_records|payments)|SCAN (c|p|y)\b/);
  });

  it('counts the marketing opt-in share from its index', async () => {
    const query = store.db
      .selectFrom('customers')
      .select((eb) => ['has_agreed_to_marketing', eb.fn.countAll().as('count')])
      .where('organization_id', '=', ORGS[0]!)
      .groupBy('has_agreed_to_marketing')
      .compile();
    const plan = await explainSql(store, query.sql, query.parameters);
    if (store.kind === 'postgres') expect(plan).toMatch(/Index Only Scan using customers_marketing_idx/);
    else expect(plan).toMatch(/USING COVERING INDEX customers_marketing_idx/);
    const counts = await countMarketingOptIn(store.db, ORGS[0]!);
    expect(counts.total).toBe(PER_ORG);
  });

  it("pages a customer's points history along point_records_customer_occurred_idx", async () => {
    const query = store.db
      .selectFrom('point_records')
      .selectAll()
      .where('organization_id', '=', ORGS[0]!)
      .where('customer_id', '=', 'x')
      .orderBy('occurred_at', 'desc')
      .orderBy('reference', 'desc')
      .limit(101)
      .compile();
    const plan = await explainSql(store, query.sql, query.parameters);
    expect(plan).toMatch(/point_records_customer_occurred_idx/);
    expect(plan).not.toMatch(/Sort|TEMP B-TREE/);
  });
});

const SLOTS = 5000; // 52 days of quarter hours per organization

await describeEachBackend('the insights sum the counters per bucket without planner statistics', (backend) => {
  let store: Store;
  let database: Awaited<ReturnType<typeof backend.createDatabase>>;

  beforeAll(async () => {
    ({ store, database } = await openStoreWithOrganizations(backend, ORGS));
    // A fresh bulk load before autovacuum has come by: no statistics on insight_counters, and none will arrive.
    if (store.kind === 'postgres')
      await sql`alter table insight_counters set (autovacuum_enabled = false)`.execute(store.db);
    for (const org of ORGS) {
      for (let first = 0; first < SLOTS; first += 1000) {
        const rows = Array.from({ length: Math.min(1000, SLOTS - first) }, (_, k) => ({
          organization_id: org,
          slot: START + (first + k) * INSIGHT_SLOT_MS,
          new_customers: 1,
          points_earned: 10,
          points_redeemed: 5,
          spend: 100,
        }));
        await store.db.insertInto('insight_counters').values(rows).execute();
      }
    }
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('has no statistics on insight_counters', async () => {
    const count =
      store.kind === 'postgres'
        ? sql<{ n: number }>`select count(*)::int as n from pg_stats where tablename = 'insight_counters'`
        : sql<{ n: number }>`select count(*) as n from sqlite_schema where name = 'sqlite_stat1'`;
    const { rows } = await count.execute(store.db);
    if (store.kind === 'sqlite' && rows[0]!.n > 0) {
      const stats = await sql<{
        n: number;
      }>`select count(*) as n from sqlite_stat1 where tbl = 'insight_counters'`.execute(store.db);
      expect(stats.rows[0]!.n).toBe(0);
    } else expect(rows[0]!.n).toBe(0);
  });

  it('reads one range of the primary key per bucket (no scan, no materialized copy of the counters)', async () => {
    const buckets = Array.from({ length: 8 }, (_, i) => ({
      start: START + i * 7 * DAY,
      end: START + (i + 1) * 7 * DAY,
    }));
    const compiled = bucketCountersQuery(store.kind, ORGS[0]!, buckets).compile(store.db);
    const plan = await explainSql(store, compiled.sql, compiled.parameters);
    if (store.kind === 'postgres') {
      // The bucket's bounds are the index condition, so the scan runs once per bucket over that bucket's counters.
      expect(plan).toMatch(
        /Index Scan (using|on) insight_counters_pkey[^\n]*\n\s*Index Cond: \(\(organization_id = .+\) AND \(slot >= "\*VALUES\*"\.column2\) AND \(slot < "\*VALUES\*"\.column3\)\)/,
      );
      expect(plan).not.toMatch(/Materialize|Join Filter|Seq Scan|Hash/);
    } else {
      expect(plan).toMatch(/SEARCH c USING PRIMARY KEY \(organization_id=\? AND slot>\? AND slot<\?\)/);
      expect(plan).not.toMatch(/SCAN c\b/);
    }
  });

  it('sums every bucket, an empty one as zeros', async () => {
    const week = 7 * DAY;
    const buckets = [
      { start: START - week, end: START }, // before the first counter
      { start: START, end: START + week },
      { start: START + week, end: START + 2 * week },
    ];
    const totals = await sumBuckets(store, ORGS[1]!, buckets);
    const perWeek = week / INSIGHT_SLOT_MS;
    expect(totals).toEqual([
      { newCustomers: 0, pointsEarned: 0, pointsRedeemed: 0, spend: 0 },
      { newCustomers: perWeek, pointsEarned: 10 * perWeek, pointsRedeemed: 5 * perWeek, spend: 100 * perWeek },
      { newCustomers: perWeek, pointsEarned: 10 * perWeek, pointsRedeemed: 5 * perWeek, spend: 100 * perWeek },
    ]);
  });
});
