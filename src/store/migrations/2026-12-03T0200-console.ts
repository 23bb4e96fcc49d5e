import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// What the operator console reads: a customer's points history newest first, the insights' per-bucket aggregates,
// and import jobs any API process can report on. Only indexes and new tables: stored rows are not rewritten.
export async function up(db: Kysely<unknown>): Promise<void> {
  // GET .../customers/{id}/points: keyset paging by (occurred_at, reference), most recent first.
  await db.schema
    .createIndex('point_records_customer_occurred_idx')
    .on('point_records')
    .columns(['organization_id', 'customer_id', 'occurred_at', 'reference'])
    .execute();
  // Insights: points earned and redeemed per bucket, a range scan that never visits the table (amount is in it).
  await db.schema
    .createIndex('point_records_occurred_idx')
    .on('point_records')
    .columns(['organization_id', 'occurred_at', 'amount'])
    .execute();
  // Insights: spend per bucket (paid less refunded) by completion time, also without visiting the table.
  await db.schema
    .createIndex('payments_completed_idx')
    .on('payments')
    .columns(['organization_id', 'completed_at', 'charged_amount', 'external_amount', 'refunded_amount'])
    .execute();
  // Insights: the marketing opt-in share counts one index range per value instead of reading every customer row.
  await db.schema
    .createIndex('customers_marketing_idx')
    .on('customers')
    .columns(['organization_id', 'has_agreed_to_marketing'])
    .execute();

  await db.schema
    .createTable('import_jobs')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    // running, completed or failed.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('rows_read', 'bigint', (c) => c.notNull())
    .addColumn('rows_imported', 'bigint', (c) => c.notNull())
    .addColumn('rows_rejected', 'bigint', (c) => c.notNull())
    // Why a failed import stopped (a malformed file, the database gone), for people.
    .addColumn('error', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    // Written with every progress update: a running job whose process died stops moving, and readers can tell.
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_jobs_pkey', ['organization_id', 'id'])
    .execute();
  await db.schema
    .createTable('import_rejects')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('import_id', 'text', (c) => c.notNull())
    // 0-based order in which the rows were rejected.
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('line', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_rejects_pkey', ['organization_id', 'import_id', 'position'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('import_rejects').execute();
  await db.schema.dropTable('import_jobs').execute();
  for (const index of [
    'customers_marketing_idx',
    'payments_completed_idx',
    'point_records_occurred_idx',
    'point_records_customer_occurred_idx',
  ])
    await db.schema.dropIndex(index).execute();
}
