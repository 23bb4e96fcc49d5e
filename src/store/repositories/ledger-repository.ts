import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Insertable,
  type Kysely,
  type Selectable,
  type Transaction,
  type UpdateObject,
} from 'kysely';
import type { Database, PointRecordsTable } from '../schema.js';
import { param, type Store } from '../store.js';
import type { CustomerRow } from './customer-repository.js';

export type PointRecordRow = Selectable<PointRecordsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export async function insertPointRecords(db: Db, rows: Insertable<PointRecordsTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('point_records')
      .values(rows.slice(i, i + 1000))
      .execute();
}

/**
 * Inserts one points entry unless the customer already has one under its reference; false when the reference is
 * taken (one statement instead of a look-up and an insert).
 */
export async function insertPointRecordUnlessTaken(db: Db, row: Insertable<PointRecordsTable>): Promise<boolean> {
  const result = await db
    .insertInto('point_records')
    .values(row)
    .onConflict((oc) => oc.columns(['organization_id', 'customer_id', 'reference']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Removes one points entry and returns what it was; undefined when there is none under the reference. */
export async function takeLedgerRecord(db: Db, organizationId: string, customerId: string, reference: string) {
  return db
    .deleteFrom('point_records')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .where('reference', '=', reference)
    .returning(['amount', 'occurred_at'])
    .executeTakeFirst();
}

/** The customer's points entry under the reference, if any. */
export async function findLedgerRecord(trx: Db, organizationId: string, customerId: string, reference: string) {
  return trx
    .selectFrom('point_records')
    .select(['reference', 'amount', 'occurred_at'])
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .where('reference', '=', reference)
    .executeTakeFirst();
}

/** Removes every points entry of a customer (erasure; their payments stay, detached). */
export async function deleteCustomerLedgers(trx: Db, organizationId: string, customerId: string): Promise<void> {
  await trx
    .deleteFrom('point_records')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .execute();
}

/**
 * A change of a customer's statistics: amounts to add, times that happened, and times that may have stopped being
 * the latest of their kind (the entry at that time was reversed or wholly refunded).
 */
export interface StatisticsDelta {
  pointsBalance: number;
  pointsEarned: number;
  pointsRedeemed: number;
  spend: number;
  earnedAt?: number | undefined;
  redeemedAt?: number | undefined;
  spentAt?: number | undefined;
  /** An earning at this time was reversed: if it was the latest, the latest is what the ledger still holds. */
  earnedGoneAt?: number | undefined;
  redeemedGoneAt?: number | undefined;
  /** A payment completed at this time no longer counts (wholly refunded). */
  spentGoneAt?: number | undefined;
}

type CustomerColumns = ExpressionBuilder<Database, 'customers'>;

function added(
  eb: CustomerColumns,
  column: 'points_balance' | 'total_points_earned' | 'total_points_redeemed' | 'total_spend',
  amount: number,
) {
  return eb(column, '+', amount);
}

/** The later of the stored time and `at` (null-safe, the same on both dialects). */
function latest(
  eb: CustomerColumns,
  column: 'last_points_earned_at' | 'last_points_redeemed_at' | 'last_spent_at',
  at: number,
) {
  return eb
    .case()
    .when(eb.or([eb(column, 'is', null), eb(column, '<', at)]))
    .then(eb.val(at))
    .else(eb.ref(column))
    .end();
}

/** The stored time, or when the entry at `goneAt` was the latest, the latest that `remaining` still finds. */
function unlessGone(
  eb: CustomerColumns,
  column: 'last_points_earned_at' | 'last_points_redeemed_at' | 'last_spent_at',
  goneAt: number,
  remaining: Expression<number | null>,
) {
  return eb.case().when(column, '=', goneAt).then(remaining).else(eb.ref(column)).end();
}

/**
 * Applies a change to a customer's statistics in one statement, relative to what is stored (O(1): counts are added,
 * times compared), with a new updatedAt; returns the customer as updated. Only when the latest entry of a kind went
 * away does it look at the customer's remaining entries of that kind (a max over their ledger rows).
 */
export async function applyStatisticsDelta(
  trx: Db,
  organizationId: string,
  customerId: string,
  delta: StatisticsDelta,
  now: number,
): Promise<CustomerRow | undefined> {
  return trx
    .updateTable('customers')
    .set((eb) => {
      const points = (sign: '>' | '<') =>
        eb
          .selectFrom('point_records as r')
          .select((r) => r.fn.max<number | null>('r.occurred_at').as('at'))
          .whereRef('r.organization_id', '=', 'customers.organization_id')
          .whereRef('r.customer_id', '=', 'customers.id')
          .where('r.amount', sign, 0)
          .$asScalar();
      const spent = eb
        .selectFrom('payments as p')
        .select((p) => p.fn.max<number | null>('p.completed_at').as('at'))
        .whereRef('p.organization_id', '=', 'customers.organization_id')
        .whereRef('p.customer_id', '=', 'customers.id')
        .where((p) =>
          p.or([
            p('p.refunded_at', 'is', null),
            p('p.refunded_amount', '<', p(p.ref('p.charged_amount'), '+', p.ref('p.external_amount'))),
          ]),
        )
        .$asScalar();
      const patch: UpdateObject<Database, 'customers'> = { updated_at: now };
      if (delta.pointsBalance !== 0) patch.points_balance = added(eb, 'points_balance', delta.pointsBalance);
      if (delta.pointsEarned !== 0) patch.total_points_earned = added(eb, 'total_points_earned', delta.pointsEarned);
      if (delta.pointsRedeemed !== 0)
        patch.total_points_redeemed = added(eb, 'total_points_redeemed', delta.pointsRedeemed);
      if (delta.spend !== 0) patch.total_spend = added(eb, 'total_spend', delta.spend);
      if (delta.earnedAt !== undefined)
        patch.last_points_earned_at = latest(eb, 'last_points_earned_at', delta.earnedAt);
      if (delta.redeemedAt !== undefined)
        patch.last_points_redeemed_at = latest(eb, 'last_points_redeemed_at', delta.redeemedAt);
      if (delta.spentAt !== undefined) patch.last_spent_at = latest(eb, 'last_spent_at', delta.spentAt);
      if (delta.earnedGoneAt !== undefined)
        patch.last_points_earned_at = unlessGone(eb, 'last_points_earned_at', delta.earnedGoneAt, points('>'));
      if (delta.redeemedGoneAt !== undefined)
        patch.last_points_redeemed_at = unlessGone(eb, 'last_points_redeemed_at', delta.redeemedGoneAt, points('<'));
      if (delta.spentGoneAt !== undefined)
        patch.last_spent_at = unlessGone(eb, 'last_spent_at', delta.spentGoneAt, spent);
      return patch;
    })
    .where('organization_id', '=', organizationId)
    .where('id', '=', customerId)
    .returningAll()
    .executeTakeFirst();
}

export interface PointsPageQuery {
  organizationId: string;
  customerId: string;
  afterAt: number;
  afterReference: string;
  limit: number;
}

/** The points history read path, compiled once per store. */
export function createLedgerReads(store: Store) {
  const page = store.prepare<PointRecordRow>(
    store.db
      .selectFrom('point_records')
      .selectAll()
      .where('organization_id', '=', param<string>('org'))
      .where('customer_id', '=', param<string>('customer'))
      .where(
        sql<boolean>`(${sql.ref('occurred_at')}, ${sql.ref('reference')}) < (${param<number>('afterAt')}, ${param<string>('afterReference')})`,
      )
      .orderBy('occurred_at', 'desc')
      .orderBy('reference', 'desc')
      .limit(param<number>('limit')),
  );
  return {
    /** Up to `limit` entries of the customer's ledger after the given key, most recent first. */
    listPage: (q: PointsPageQuery) =>
      page.all({
        org: q.organizationId,
        customer: q.customerId,
        afterAt: q.afterAt,
        afterReference: q.afterReference,
        limit: q.limit,
      }),
  };
}
