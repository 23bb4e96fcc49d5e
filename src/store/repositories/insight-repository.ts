import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';

export interface BucketRange {
  start: number;
  end: number;
}

export interface BucketTotals {
  newCustomers: number;
  pointsEarned: number;
  pointsRedeemed: number;
  spend: number;
}

/** The counters' granularity (migration 2026-12-04T0500-insight-counters): a quarter hour, in UTC. */
export const INSIGHT_SLOT_MS = 900_000;

const onSlotGrid = (ms: number) => ms % INSIGHT_SLOT_MS === 0;

/**
 * The per-bucket aggregates in one statement. From the quarter-hour counters when every bucket edge is on their grid
 * (every time zone in use today): a range of insight_counters' primary key per bucket, a few thousand rows whatever
 * the organization's size. Otherwise (a historical offset such as +00:19:32) from the rows themselves.
 */
export async function sumBuckets(
  store: Pick<Store, 'db' | 'kind'>,
  organizationId: string,
  buckets: readonly BucketRange[],
): Promise<BucketTotals[]> {
  if (buckets.length === 0) return [];
  const counted = buckets.every((b) => onSlotGrid(b.start) && onSlotGrid(b.end));
  const query = counted
    ? bucketCountersQuery(store.kind, organizationId, buckets)
    : bucketTotalsQuery(organizationId, buckets);
  const result = await query.execute(store.db);
  return result.rows.map((row) => ({
    newCustomers: Number(row.new_customers),
    pointsEarned: Number(row.points_earned),
    pointsRedeemed: Number(row.points_redeemed),
    spend: Number(row.spend),
  }));
}

interface BucketRow {
  i: number;
  new_customers: number | string;
  points_earned: number | string;
  points_redeemed: number | string;
  spend: number | string;
}

// Casts: PostgreSQL types VALUES parameters as text otherwise.
const bucketValues = (buckets: readonly BucketRange[]) =>
  sql.join(buckets.map((b, i) => sql`(${sql.lit(i)}, cast(${b.start} as bigint), cast(${b.end} as bigint))`));

const COUNTER_SUMS = sql`coalesce(sum(c.new_customers), 0) as new_customers,
      coalesce(sum(c.points_earned), 0) as points_earned,
      coalesce(sum(c.points_redeemed), 0) as points_redeemed,
      coalesce(sum(c.spend), 0) as spend`;

/**
 * The statement of `sumBuckets` over the counters (exported for the planner tests): one range of insight_counters'
 * primary key per bucket, whatever the planner's statistics say. PostgreSQL: a LATERAL aggregate per bucket, which
 * can only be run once per bucket with the bucket's bounds as the index condition (a plain join of the buckets to the
 * counters, planned without statistics on a freshly loaded table, estimated 425 counter rows for 84,960 and filtered
 * a materialized copy of them all once per bucket: 1.6 s instead of 40 ms). SQLite has no LATERAL; it never reorders
 * a LEFT JOIN's operands, so the buckets stay the outer loop and each looks up its range of the primary key.
 */
export function bucketCountersQuery(kind: Store['kind'], organizationId: string, buckets: readonly BucketRange[]) {
  if (kind === 'postgres') {
    return sql<BucketRow>`
      with b(i, s, e) as (values ${bucketValues(buckets)})
      select b.i, x.new_customers, x.points_earned, x.points_redeemed, x.spend
      from b cross join lateral (
        select ${COUNTER_SUMS} from insight_counters c
        where c.organization_id = ${organizationId} and c.slot >= b.s and c.slot < b.e
      ) x
      order by b.i`;
  }
  return sql<BucketRow>`
    with b(i, s, e) as (values ${bucketValues(buckets)})
    select b.i, ${COUNTER_SUMS}
    from b left join insight_counters c
      on c.organization_id = ${organizationId} and c.slot >= b.s and c.slot < b.e
    group by b.i
    order by b.i`;
}

/**
 * The statement of `sumBuckets` over the stored rows (exported for the planner and equivalence tests): a correlated
 * subquery per figure over one range of an index that holds every column it reads (customers_created_idx,
 * point_records_occurred_idx, payments_completed_idx).
 */
export function bucketTotalsQuery(organizationId: string, buckets: readonly BucketRange[]) {
  return sql<BucketRow>`
    with b(i, s, e) as (values ${bucketValues(buckets)})
    select b.i,
      (select count(*) from customers c
        where c.organization_id = ${organizationId} and c.created_at >= b.s and c.created_at < b.e) as new_customers,
      (select coalesce(sum(p.amount), 0) from point_records p
        where p.organization_id = ${organizationId} and p.occurred_at >= b.s and p.occurred_at < b.e
          and p.amount > 0) as points_earned,
      (select coalesce(-sum(p.amount), 0) from point_records p
        where p.organization_id = ${organizationId} and p.occurred_at >= b.s and p.occurred_at < b.e
          and p.amount < 0) as points_redeemed,
      (select coalesce(sum(y.charged_amount + y.external_amount - y.refunded_amount), 0) from payments y
        where y.organization_id = ${organizationId} and y.completed_at >= b.s and y.completed_at < b.e) as spend
    from b
    order by b.i`;
}

/** Customers who agreed to marketing, and all of them: the organization's row of insight_totals. */
export async function countMarketingOptIn(
  db: Kysely<Database>,
  organizationId: string,
): Promise<{ agreed: number; total: number }> {
  const row = await db
    .selectFrom('insight_totals')
    .select(['agreed', 'customers'])
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return { agreed: Number(row?.agreed ?? 0), total: Number(row?.customers ?? 0) };
}

export async function findTopLists(db: Kysely<Database>, organizationId: string, count: number) {
  return db
    .selectFrom('customer_lists')
    .select(['id', 'name', 'member_count'])
    .where('organization_id', '=', organizationId)
    .orderBy('member_count', 'desc')
    .orderBy('id')
    .limit(count)
    .execute();
}
