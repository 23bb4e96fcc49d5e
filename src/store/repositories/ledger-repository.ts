import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, PointRecordsTable } from '../schema.js';
import { param, type Store } from '../store.js';

export type PointRecordRow = Selectable<PointRecordsTable>;
type Db = Kysely<Database> | Transaction<Database>;
type LedgerTable = 'point_records';

export interface PointTotals {
  earned: number;
  redeemed: number;
  lastEarnedAt: number | null;
  lastRedeemedAt: number | null;
}

export async function insertPointRecords(db: Db, rows: Insertable<PointRecordsTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('point_records')
      .values(rows.slice(i, i + 1000))
      .execute();
}

export async function findLedgerRecord(
  trx: Db,
  table: LedgerTable,
  organizationId: string,
  customerId: string,
  reference: string,
) {
  return trx
    .selectFrom(table)
    .select(['reference', 'amount', 'occurred_at'])
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .where('reference', '=', reference)
    .executeTakeFirst();
}

export async function deleteLedgerRecord(
  trx: Db,
  table: LedgerTable,
  organizationId: string,
  customerId: string,
  reference: string,
): Promise<boolean> {
  const result = await trx
    .deleteFrom(table)
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .where('reference', '=', reference)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Removes every points entry of a customer (erasure; their payments stay, detached). */
export async function deleteCustomerLedgers(trx: Db, organizationId: string, customerId: string): Promise<void> {
  await trx
    .deleteFrom('point_records')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .execute();
}

/** The points statistics the customer's ledger implies. */
export async function sumPoints(trx: Db, organizationId: string, customerId: string): Promise<PointTotals> {
  const row = await trx
    .selectFrom('point_records')
    .select((eb) => [
      eb.fn
        .sum<number | string | null>(eb.case().when('amount', '>', 0).then(eb.ref('amount')).else(0).end())
        .as('earned'),
      eb.fn
        .sum<number | string | null>(
          eb
            .case()
            .when('amount', '<', 0)
            .then(eb.neg(eb.ref('amount')))
            .else(0)
            .end(),
        )
        .as('redeemed'),
      eb.fn
        .max<number | string | null>(eb.case().when('amount', '>', 0).then(eb.ref('occurred_at')).end())
        .as('last_earned_at'),
      eb.fn
        .max<number | string | null>(eb.case().when('amount', '<', 0).then(eb.ref('occurred_at')).end())
        .as('last_redeemed_at'),
    ])
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .executeTakeFirstOrThrow();
  return {
    earned: Number(row.earned ?? 0),
    redeemed: Number(row.redeemed ?? 0),
    lastEarnedAt: row.last_earned_at === null ? null : Number(row.last_earned_at),
    lastRedeemedAt: row.last_redeemed_at === null ? null : Number(row.last_redeemed_at),
  };
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
