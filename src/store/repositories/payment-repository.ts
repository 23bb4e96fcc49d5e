import {
  sql,
  type ExpressionBuilder,
  type Insertable,
  type Kysely,
  type Selectable,
  type Transaction,
  type Updateable,
} from 'kysely';
import type { Database, PaymentItemsTable, PaymentsTable } from '../schema.js';
import type { CustomerRow } from './customer-repository.js';
import { param, type PreparedQuery, type Store } from '../store.js';

export type PaymentRecordRow = Selectable<PaymentsTable>;
export type PaymentItemRow = Selectable<PaymentItemsTable>;
type Db = Kysely<Database> | Transaction<Database>;

/** A payment with the CustomerTiny columns of its customer (null when it has none). */
export type PaymentRow = PaymentRecordRow & {
  customer_email: string | null;
  customer_first_name: string | null;
  customer_last_name: string | null;
  customer_phone_number: string | null;
};

export type PaymentSortColumn = 'created_at' | 'updated_at';
export type PaymentFilter = 'none' | 'location' | 'customer' | 'both';

const SELECT_WITH_CUSTOMER = [
  'p.organization_id',
  'p.id',
  'p.location_id',
  'p.customer_id',
  'p.spend_reference',
  'p.billing_type',
  'p.currency',
  'p.charged_amount',
  'p.credit_amount',
  'p.discount_amount',
  'p.external_amount',
  'p.fee_amount',
  'p.tip_amount',
  'p.refunded_amount',
  'p.completed_at',
  'p.refunded_at',
  'p.created_at',
  'p.updated_at',
  'p.request_hash',
  'c.email as customer_email',
  'c.first_name as customer_first_name',
  'c.last_name as customer_last_name',
  'c.phone_number as customer_phone_number',
] as const;

function withCustomer(db: Db) {
  return db
    .selectFrom('payments as p')
    .leftJoin('customers as c', (join) =>
      join.onRef('c.organization_id', '=', 'p.organization_id').onRef('c.id', '=', 'p.customer_id'),
    )
    .select(SELECT_WITH_CUSTOMER);
}

export async function insertPaymentRows(db: Db, rows: Insertable<PaymentsTable>[]): Promise<void> {
  // 19 columns a row: well under SQLite's 32766 bound parameters.
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('payments')
      .values(rows.slice(i, i + 500))
      .execute();
}

export async function insertPaymentItems(db: Db, rows: Insertable<PaymentItemsTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('payment_items')
      .values(rows.slice(i, i + 1000))
      .execute();
}

/** Inserts many payments and their items the fastest way the dialect allows (imports, demo data). */
export async function insertPaymentsInBulk(
  trx: Transaction<Database>,
  store: Store,
  rows: Insertable<PaymentsTable>[],
  items: Insertable<PaymentItemsTable>[],
): Promise<void> {
  if (rows.length > 0) await store.insertMany(trx, 'payments', rows);
  if (items.length > 0) await store.insertMany(trx, 'payment_items', items);
}

/** The payment with its customer's tiny columns, read inside the write's transaction. */
export async function findPayment(db: Db, organizationId: string, id: string): Promise<PaymentRow | undefined> {
  return withCustomer(db).where('p.organization_id', '=', organizationId).where('p.id', '=', id).executeTakeFirst();
}

export async function findPaymentsByIds(db: Db, organizationId: string, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('payments')
    .select(['id', 'request_hash'])
    .where('organization_id', '=', organizationId)
    .where('id', 'in', ids)
    .execute();
}

export async function findPaymentIdBySpendReference(
  db: Db,
  organizationId: string,
  customerId: string,
  reference: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('payments')
    .select('id')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .where('spend_reference', '=', reference)
    .executeTakeFirst();
  return row?.id;
}

export async function updatePayment(
  db: Db,
  organizationId: string,
  id: string,
  patch: Updateable<PaymentsTable>,
): Promise<void> {
  await db
    .updateTable('payments')
    .set(patch)
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .execute();
}

/** Items of the given payments, in each payment's order. */
export async function findPaymentItems(
  db: Db,
  organizationId: string,
  paymentIds: readonly string[],
): Promise<PaymentItemRow[]> {
  if (paymentIds.length === 0) return [];
  return db
    .selectFrom('payment_items')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('payment_id', 'in', paymentIds)
    .orderBy('payment_id')
    .orderBy('position')
    .execute();
}

/** The spend rule, once: paid (charged + external) less refunded; the latest completion not wholly refunded. */
function spendSelections(eb: ExpressionBuilder<Database, 'payments'>) {
  const paid = eb('charged_amount', '+', eb.ref('external_amount'));
  return [
    eb.fn.sum<number | string | null>(eb(paid, '-', eb.ref('refunded_amount'))).as('total'),
    eb.fn
      .max<number | string | null>(
        eb
          .case()
          .when(eb.or([eb('refunded_at', 'is', null), eb('refunded_amount', '<', paid)]))
          .then(eb.ref('completed_at'))
          .end(),
      )
      .as('last_spent_at'),
  ] as const;
}

export async function findLocationsByIds(db: Db, organizationId: string, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('locations')
    .select(['id', 'name'])
    .where('organization_id', '=', organizationId)
    .where('id', 'in', ids)
    .execute();
}

/**
 * Bulk writers (imports): sets the spend statistics of each customer to what all their payments imply (the rule of
 * `spendSelections`: paid less refunded, the latest completion not wholly refunded), with a new updatedAt; returns the customers as updated.
 */
export async function updateSpendStatistics(
  trx: Transaction<Database>,
  organizationId: string,
  customerIds: readonly string[],
  now: number,
): Promise<CustomerRow[]> {
  const updated: CustomerRow[] = [];
  for (let i = 0; i < customerIds.length; i += 500) {
    const sums = await trx
      .selectFrom('payments')
      .select((eb) => [eb.ref('customer_id').as('customer_id'), ...spendSelections(eb)])
      .where('organization_id', '=', organizationId)
      .where('customer_id', 'in', customerIds.slice(i, i + 500))
      .groupBy('customer_id')
      .execute();
    for (const sum of sums) {
      const row = await trx
        .updateTable('customers')
        .set({
          total_spend: Number(sum.total),
          last_spent_at: sum.last_spent_at === null ? null : Number(sum.last_spent_at),
          updated_at: now,
        })
        .where('organization_id', '=', organizationId)
        .where('id', '=', sum.customer_id!)
        .returningAll()
        .executeTakeFirst();
      if (row) updated.push(row);
    }
  }
  return updated;
}

/** Erasure: the customer's payments stay (accounting) without them; `updatedAt` moves so syncs see the change. */
export async function detachCustomerPayments(
  db: Db,
  organizationId: string,
  customerId: string,
  now: number,
): Promise<string[]> {
  const rows = await db
    .updateTable('payments')
    .set({ customer_id: null, spend_reference: null, updated_at: now })
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export interface PaymentPageQuery {
  organizationId: string;
  sort: PaymentSortColumn;
  locationId: string | undefined;
  customerId: string | undefined;
  afterAt: number;
  afterId: string;
  limit: number;
}

/** The read paths, compiled once per store. */
export function createPaymentReads(store: Store) {
  const byId = store.prepare<PaymentRow>(
    withCustomer(store.db)
      .where('p.organization_id', '=', param<string>('org'))
      .where('p.id', '=', param<string>('id')),
  );
  const pages = new Map<string, PreparedQuery<PaymentRow>>();
  for (const sort of ['created_at', 'updated_at'] as const) {
    for (const filter of ['none', 'location', 'customer', 'both'] as const) {
      let query = withCustomer(store.db)
        .where('p.organization_id', '=', param<string>('org'))
        .where(
          sql<boolean>`(${sql.ref(`p.${sort}`)}, ${sql.ref('p.id')}) < (${param<number>('afterAt')}, ${param<string>('afterId')})`,
        );
      if (filter === 'location' || filter === 'both')
        query = query.where('p.location_id', '=', param<string>('location'));
      if (filter === 'customer' || filter === 'both')
        query = query.where('p.customer_id', '=', param<string>('customer'));
      pages.set(
        `${sort}:${filter}`,
        store.prepare<PaymentRow>(
          query.orderBy(`p.${sort}`, 'desc').orderBy('p.id', 'desc').limit(param<number>('limit')),
        ),
      );
    }
  }
  return {
    findById: (organizationId: string, id: string) => byId.first({ org: organizationId, id }),
    /** Up to `limit` payments after the given key, most recent first. */
    listPage(q: PaymentPageQuery): Promise<PaymentRow[]> {
      const filter: PaymentFilter =
        q.locationId !== undefined
          ? q.customerId !== undefined
            ? 'both'
            : 'location'
          : q.customerId !== undefined
            ? 'customer'
            : 'none';
      return pages.get(`${q.sort}:${filter}`)!.all({
        org: q.organizationId,
        afterAt: q.afterAt,
        afterId: q.afterId,
        location: q.locationId ?? '',
        customer: q.customerId ?? '',
        limit: q.limit,
      });
    },
    items: (organizationId: string, paymentIds: readonly string[]) =>
      findPaymentItems(store.db, organizationId, paymentIds),
  };
}
export type PaymentReads = ReturnType<typeof createPaymentReads>;
