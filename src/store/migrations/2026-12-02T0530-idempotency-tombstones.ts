import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<unknown>): Promise<void> {
  // What is left of an Idempotency-Key whose customer was erased: the key's SHA-256 and how long it lives, so a
  // retry is refused (409) instead of re-creating the person. No body, response or customer id: no personal data.
  await db.schema
    .createTable('idempotency_tombstones')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_tombstones_pkey', ['organization_id', 'key_hash'])
    .execute();
  await db.schema
    .createIndex('idempotency_tombstones_expiry_idx')
    .on('idempotency_tombstones')
    .columns(['organization_id', 'expires_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('idempotency_tombstones').execute();
}
