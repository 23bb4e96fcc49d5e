import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The durable, per-organization change feed; webhooks deliver from it.
  // `payload` is the JSON body as delivered ({event, ...}); id, sequence and occurredAt live in columns.
  await db.schema
    .createTable('events')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('sequence', 'bigint', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('events_pkey', ['organization_id', 'sequence'])
    .execute();

  // Which events mention which customer, so erasure can scrub them without scanning the log.
  await db.schema
    .createTable('event_customers')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('sequence', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_customers_pkey', ['organization_id', 'customer_id', 'sequence'])
    .execute();

  await db.schema
    .createTable('point_records')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('point_records_pkey', ['organization_id', 'customer_id', 'reference'])
    .execute();

  await db.schema
    .createTable('spend_records')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('spend_records_pkey', ['organization_id', 'customer_id', 'reference'])
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['organization_id', 'key'])
    .execute();
  await db.schema
    .createIndex('idempotency_keys_expiry_idx')
    .on('idempotency_keys')
    .columns(['organization_id', 'expires_at'])
    .execute();
  await db.schema
    .createIndex('idempotency_keys_customer_idx')
    .on('idempotency_keys')
    .columns(['organization_id', 'customer_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['idempotency_keys', 'spend_records', 'point_records', 'event_customers', 'events']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
