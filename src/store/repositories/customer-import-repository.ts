import { sql, type Kysely, type Transaction } from 'kysely';
import { CUSTOMER_FIELDS, CUSTOMER_STATISTICS, type CustomerFieldDefinition } from '../../contract/customer-fields.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import type { CustomerRow } from './customer-repository.js';
import { writeCustomerSearchIndex } from './customer-search-repository.js';

type Trx = Transaction<Database>;

// Well below both limits on bound parameters per statement (SQLite 32766, PostgreSQL 65535).
const LOOKUP_CHUNK = 900;

export async function findCustomersByIds(
  trx: Trx,
  organizationId: string,
  ids: readonly string[],
): Promise<CustomerRow[]> {
  const rows: CustomerRow[] = [];
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    rows.push(
      ...(await trx
        .selectFrom('customers')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('id', 'in', ids.slice(i, i + LOOKUP_CHUNK))
        .execute()),
    );
  }
  return rows;
}

export async function findCustomersByEmails(
  trx: Trx,
  organizationId: string,
  emailsNormalized: readonly string[],
): Promise<CustomerRow[]> {
  const rows: CustomerRow[] = [];
  for (let i = 0; i < emailsNormalized.length; i += LOOKUP_CHUNK) {
    rows.push(
      ...(await trx
        .selectFrom('customers')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('email_normalized', 'in', emailsNormalized.slice(i, i + LOOKUP_CHUNK))
        .execute()),
    );
  }
  return rows;
}

/** Every column but the key: the field columns (contract/customer-fields.ts) and the statistics. */
const UPDATABLE_COLUMNS = [
  ...Object.values(CUSTOMER_FIELDS).flatMap((field: CustomerFieldDefinition) =>
    field.searchColumn ? [field.column, field.searchColumn] : [field.column],
  ),
  ...Object.values(CUSTOMER_STATISTICS).map((statistic) => statistic.column),
].filter((column) => column !== 'id') as (keyof CustomerRow)[];

/**
 * Writes whole customer rows with their search index: `created` are new customers (plain inserts: the store's bulk
 * insert, COPY on PostgreSQL; the caller holds the organization's lock, so no other write adds them meanwhile),
 * `changed` overwrite existing ones (same organization and id), and of those `searchChanged` (the ones whose name,
 * email or phone number changed) get their search rows rewritten.
 */
export async function writeCustomerRows(
  trx: Trx,
  store: Store,
  created: readonly CustomerRow[],
  changed: readonly CustomerRow[],
  searchChanged: readonly CustomerRow[],
): Promise<void> {
  await store.insertMany(trx, 'customers', created);
  await store.insertMany(trx, 'customers', changed, { conflict: ['organization_id', 'id'], update: UPDATABLE_COLUMNS });
  await writeCustomerSearchIndex(trx, created, { fresh: true, store });
  await writeCustomerSearchIndex(trx, searchChanged, { fresh: false, store });
}

/** Every metadata key any customer of the organization has, sorted: the `metadata.<key>` columns of a CSV export. */
export async function findMetadataKeys(db: Kysely<Database>, store: Store, organizationId: string): Promise<string[]> {
  const { rows } =
    store.kind === 'postgres'
      ? await sql<{ key: string }>`select distinct jsonb_object_keys(metadata::jsonb) as key from customers
          where organization_id = ${organizationId} and metadata is not null`.execute(db)
      : await sql<{ key: string }>`select distinct j.key as key from customers, json_each(customers.metadata) j
          where customers.organization_id = ${organizationId} and customers.metadata is not null`.execute(db);
  return rows.map((row) => row.key).sort();
}

/** The tables a customer import writes to. */
export const IMPORTED_TABLES = [
  'customers',
  'customer_search',
  'customer_search_terms',
  'customer_search_suffixes',
  'events',
  'event_customers',
  // Filled by the customers' insert triggers (migration 2026-12-04T0500-insight-counters).
  'insight_counters',
] as const;

/**
 * Refreshes the planner's statistics of the given tables (PostgreSQL `ANALYZE`, a sample of each table; SQLite
 * `ANALYZE`, bounded by the connection's analysis_limit), so that queries right after a bulk load plan with the
 * tables' new sizes instead of waiting for autovacuum or the periodic `PRAGMA optimize`.
 */
export async function analyzeTables(db: Kysely<Database>, store: Store, tables: readonly string[]): Promise<void> {
  if (store.kind === 'postgres') {
    await sql`analyze ${sql.join(tables.map((table) => sql.table(table)))}`.execute(db);
    return;
  }
  for (const table of tables) await sql`analyze ${sql.table(table)}`.execute(db);
}
