import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A customer's own attributes as JSON object text (keys sorted), NULL when there are none: existing customers
  // simply have none, so nothing is rewritten.
  await db.schema.alterTable('customers').addColumn('metadata', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('customers').dropColumn('metadata').execute();
}
