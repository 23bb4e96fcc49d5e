import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

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

/**
 * The per-bucket aggregates in one statement: a row per bucket, each figure a correlated subquery over one range of
 * an index that holds every column it reads (customers_created_idx, point_records_occurred_idx,
 * payments_completed_idx), so the work grows with the rows in the range, never with the organization.
 */
export async function sumBuckets(
  db: Kysely<Database>,
  organizationId: string,
  buckets: readonly BucketRange[],
): Promise<BucketTotals[]> {
  if (buckets.length === 0) return [];
  const result = await bucketTotalsQuery(organizationId, buckets).execute(db);
  return result.rows.map((row) => ({
    newCustomers: Number(row.new_customers),
    pointsEarned: Number(row.points_earned),
    pointsRedeemed: Number(row.points_redeemed),
    spend: Number(row.spend),
  }));
}

/** The statement of `sumBuckets` (exported for the planner tests). */
export function bucketTotalsQuery(organizationId: string, buckets: readonly BucketRange[]) {
  // Casts: PostgreSQL types VALUES parameters as text otherwise.
  const values = sql.join(
    buckets.map((b, i) => sql`(${sql.lit(i)}, cast(${b.start} as bigint), cast(${b.end} as bigint))`),
  );
  return sql<{
    i: number;
    new_customers: number | string;
    points_earned: number | string;
    points_redeemed: number | string;
    spend: number | string;
  }>`
    with b(i, s, e) as (values ${values})
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

/** Customers who agreed to marketing, and all of them: one range of customers_marketing_idx per value. */
export async function countMarketingOptIn(
  db: Kysely<Database>,
  organizationId: string,
): Promise<{ agreed: number; total: number }> {
  const rows = await db
    .selectFrom('customers')
    .select((eb) => ['has_agreed_to_marketing', eb.fn.countAll<number | string>().as('count')])
    .where('organization_id', '=', organizationId)
    .groupBy('has_agreed_to_marketing')
    .execute();
  let agreed = 0;
  let total = 0;
  for (const row of rows) {
    total += Number(row.count);
    if (Number(row.has_agreed_to_marketing) === 1) agreed += Number(row.count);
  }
  return { agreed, total };
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
