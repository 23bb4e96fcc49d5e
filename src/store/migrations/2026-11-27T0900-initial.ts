import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Every table leads with organization_id so it can be a distribution key.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('clock', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('event_sequence', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('organization_ids', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('customers')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_normalized', 'text')
    .addColumn('phone_number', 'text')
    .addColumn('dob', 'text')
    .addColumn('gender', 'text')
    .addColumn('has_agreed_to_marketing', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('points_balance', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total_points_earned', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total_points_redeemed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total_spend', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_points_earned_at', 'bigint')
    .addColumn('last_points_redeemed_at', 'bigint')
    .addColumn('last_spent_at', 'bigint')
    .addPrimaryKeyConstraint('customers_pkey', ['organization_id', 'id'])
    .execute();
  await db.schema
    .createIndex('customers_created_idx')
    .on('customers')
    .columns(['organization_id', 'created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('customers_updated_idx')
    .on('customers')
    .columns(['organization_id', 'updated_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('customers_email_idx')
    .on('customers')
    .columns(['organization_id', 'email_normalized'])
    .where(sql.ref('email_normalized'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('customers_phone_idx')
    .on('customers')
    .columns(['organization_id', 'phone_number'])
    .where(sql.ref('phone_number'), 'is not', null)
    .execute();

  await db.schema
    .createTable('customer_lists')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('member_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('customer_lists_pkey', ['organization_id', 'id'])
    .execute();

  await db.schema
    .createTable('customer_list_members')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('list_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_list_members_pkey', ['organization_id', 'list_id', 'customer_id'])
    .execute();
  await db.schema
    .createIndex('customer_list_members_customer_idx')
    .on('customer_list_members')
    .columns(['organization_id', 'customer_id', 'list_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['customer_list_members', 'customer_lists', 'customers', 'api_tokens', 'organizations']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
