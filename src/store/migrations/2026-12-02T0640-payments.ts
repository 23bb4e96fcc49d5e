import { sql, type Kysely } from 'kysely';
import { monotonicFactory } from 'ulidx';

// Frozen: never edit a migration that has shipped; add a new one.
// Payments (LOKE's Payment) become the one source of a customer's spend: the spend ledger's records are turned into
// payments and its table dropped. The shapes this migration reads and writes, as they are at this point in time:
interface Tables {
  organizations: { id: string; currency: string; clock: number };
  customers: {
    organization_id: string;
    id: string;
    created_at: number;
    total_spend: number;
    last_spent_at: number | null;
  };
  spend_records: {
    organization_id: string;
    customer_id: string;
    reference: string;
    amount: number;
    occurred_at: number;
  };
  payments: {
    organization_id: string;
    id: string;
    location_id: string | null;
    customer_id: string | null;
    spend_reference: string | null;
    billing_type: string;
    currency: string;
    charged_amount: number;
    credit_amount: number;
    discount_amount: number;
    external_amount: number;
    fee_amount: number;
    tip_amount: number;
    refunded_amount: number;
    completed_at: number;
    refunded_at: number | null;
    created_at: number;
    updated_at: number;
    request_hash: string;
  };
}
type Payment = Tables['payments'];

/** billingType of payments made from spend records (and of the spend alias). */
const SPEND_BILLING_TYPE = 'external';
/** billingType of the payment that carries spend an import wrote straight into totalSpend, with no record behind it. */
const OPENING_BALANCE_BILLING_TYPE = 'opening-balance';

export async function up(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped as unknown as Kysely<Tables>;
  await db.schema
    .createTable('payments')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    // The caller's id (PUT /payments/{id}); ULIDs for those made here and by the spend alias.
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text')
    // NULL for a payment without a customer, and after the customer's erasure (the payment stays, for accounting).
    .addColumn('customer_id', 'text')
    // The reference of the spend alias (PUT /customers/{id}/spend/{reference}), unique per customer.
    .addColumn('spend_reference', 'text')
    .addColumn('billing_type', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('charged_amount', 'bigint', (c) => c.notNull())
    .addColumn('credit_amount', 'bigint', (c) => c.notNull())
    .addColumn('discount_amount', 'bigint', (c) => c.notNull())
    .addColumn('external_amount', 'bigint', (c) => c.notNull())
    .addColumn('fee_amount', 'bigint', (c) => c.notNull())
    .addColumn('tip_amount', 'bigint', (c) => c.notNull())
    .addColumn('refunded_amount', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint', (c) => c.notNull())
    .addColumn('refunded_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // SHA-256 of the recording request's body: the same body again is a no-op, another one a 409.
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('payments_pkey', ['organization_id', 'id'])
    .execute();
  // Keyset paging, most recent first, for both sorts, alone or filtered by location or customer; the customer
  // indexes also serve the statistics' sums.
  for (const sort of ['created_at', 'updated_at'] as const) {
    const tag = sort === 'created_at' ? 'created' : 'updated';
    await db.schema
      .createIndex(`payments_${tag}_idx`)
      .on('payments')
      .columns(['organization_id', sort, 'id'])
      .execute();
    await db.schema
      .createIndex(`payments_location_${tag}_idx`)
      .on('payments')
      .columns(['organization_id', 'location_id', sort, 'id'])
      .execute();
    await db.schema
      .createIndex(`payments_customer_${tag}_idx`)
      .on('payments')
      .columns(['organization_id', 'customer_id', sort, 'id'])
      .execute();
  }
  await db.schema
    .createIndex('payments_spend_reference_key')
    .on('payments')
    .columns(['organization_id', 'customer_id', 'spend_reference'])
    .unique()
    .execute();

  // Items in their order; options (with their choices) as JSON text, read and written whole with the item.
  await db.schema
    .createTable('payment_items')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('payment_items_pkey', ['organization_id', 'payment_id', 'position'])
    .execute();

  await convertSpendRecords(db);
  await db.schema.dropTable('spend_records').execute();
}

function spendPayment(
  organization: Tables['organizations'],
  customerId: string,
  amount: number,
  completedAt: number,
  billingType: string,
  spendReference: string | null,
  newId: (at: number) => string,
): Payment {
  // Never after the organization's clock, so later writes still sort after these in updatedAt order.
  const at = Math.min(completedAt, Number(organization.clock));
  return {
    organization_id: organization.id,
    id: newId(completedAt),
    location_id: null,
    customer_id: customerId,
    spend_reference: spendReference,
    billing_type: billingType,
    currency: organization.currency,
    charged_amount: 0,
    credit_amount: 0,
    discount_amount: 0,
    external_amount: amount,
    fee_amount: 0,
    tip_amount: 0,
    refunded_amount: 0,
    completed_at: completedAt,
    refunded_at: null,
    created_at: completedAt,
    updated_at: at,
    request_hash: '',
  };
}

async function insertPayments(db: Kysely<Tables>, rows: Payment[]) {
  // 19 columns a row; well under SQLite's 32766 bound parameters.
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('payments')
      .values(rows.slice(i, i + 500))
      .execute();
}

/**
 * Every spend record becomes a completed payment paid outside LOKE (externalAmount) under the same reference. Spend
 * an import wrote straight into totalSpend, with no record behind it, becomes one opening-balance payment of the
 * difference, so each customer's statistics stay what they were and equal what their payments imply.
 */
async function convertSpendRecords(db: Kysely<Tables>): Promise<void> {
  const newId = monotonicFactory();
  const organizations = new Map(
    (await db.selectFrom('organizations').select(['id', 'currency', 'clock']).execute()).map((o) => [o.id, o]),
  );
  let after = { organization_id: '', customer_id: '', reference: '' };
  for (;;) {
    const records = await db
      .selectFrom('spend_records')
      .selectAll()
      .where(
        sql<boolean>`(organization_id, customer_id, reference) > (${after.organization_id}, ${after.customer_id}, ${after.reference})`,
      )
      .orderBy('organization_id')
      .orderBy('customer_id')
      .orderBy('reference')
      .limit(5000)
      .execute();
    if (records.length === 0) break;
    const rows: Payment[] = [];
    for (const record of records) {
      const organization = organizations.get(record.organization_id);
      if (!organization) continue;
      rows.push(
        spendPayment(
          organization,
          record.customer_id,
          Number(record.amount),
          Number(record.occurred_at),
          SPEND_BILLING_TYPE,
          record.reference,
          newId,
        ),
      );
    }
    await insertPayments(db, rows);
    after = records[records.length - 1]!;
  }

  const recorded = db
    .selectFrom('payments')
    .select((eb) => [
      'organization_id',
      'customer_id',
      eb.fn.sum<number | string>('external_amount').as('total'),
      eb.fn.max<number | string>('completed_at').as('last'),
    ])
    .groupBy(['organization_id', 'customer_id'])
    .as('p');
  const unbacked = await db
    .selectFrom('customers as c')
    .leftJoin(recorded, (join) =>
      join.onRef('p.organization_id', '=', 'c.organization_id').onRef('p.customer_id', '=', 'c.id'),
    )
    .select(['c.organization_id', 'c.id', 'c.created_at', 'c.total_spend', 'c.last_spent_at', 'p.total', 'p.last'])
    .where(sql<boolean>`c.total_spend > coalesce(p.total, 0)`)
    .execute();
  const openings: Payment[] = [];
  for (const customer of unbacked) {
    const organization = organizations.get(customer.organization_id);
    if (!organization) continue;
    const last = customer.last === null ? null : Number(customer.last);
    const completedAt = Number(customer.last_spent_at ?? last ?? customer.created_at);
    openings.push(
      spendPayment(
        organization,
        customer.id,
        Number(customer.total_spend) - Number(customer.total ?? 0),
        completedAt,
        OPENING_BALANCE_BILLING_TYPE,
        null,
        newId,
      ),
    );
  }
  await insertPayments(db, openings);

  // From here the statistics are what the payments imply (they already are, unless an import had set them lower).
  await sql`
    update customers set
      total_spend = coalesce(
        (select sum(p.external_amount) from payments p
          where p.organization_id = customers.organization_id and p.customer_id = customers.id),
        0),
      last_spent_at = (select max(p.completed_at) from payments p
        where p.organization_id = customers.organization_id and p.customer_id = customers.id)
    where total_spend <> 0 or last_spent_at is not null or exists (select 1 from payments p
      where p.organization_id = customers.organization_id and p.customer_id = customers.id)
  `.execute(db);
}

export async function down(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped as unknown as Kysely<Tables>;
  await db.schema.dropTable('payment_items').ifExists().execute();
  await db.schema.dropTable('payments').ifExists().execute();
}
