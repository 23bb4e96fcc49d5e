import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<unknown>): Promise<void> {
  // An organization's venues (LOKE's Location). Optional address fields are NULL when absent.
  await db.schema
    .createTable('locations')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // The name lowered by the application, so `query=` matches case-insensitively the same way on both dialects.
    .addColumn('name_search', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('phone_number', 'text')
    .addColumn('street_address', 'text')
    .addColumn('street_address2', 'text')
    .addColumn('locality', 'text')
    .addColumn('region', 'text')
    .addColumn('postal_code', 'text')
    .addColumn('country', 'text')
    .addColumn('latitude', 'double precision')
    .addColumn('longitude', 'double precision')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('locations_pkey', ['organization_id', 'id'])
    .execute();
  await db.schema
    .createIndex('locations_slug_key')
    .on('locations')
    .columns(['organization_id', 'slug'])
    .unique()
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('locations').ifExists().execute();
}
