import type { Insertable, Kysely, Transaction } from 'kysely';
import {
  customerSearchRow,
  customerSearchTerms,
  phoneSuffixes,
  type CustomerSearchRow,
  type CustomerSearchSource,
} from '../customer-search-text.js';
import type { Database } from '../schema.js';
import type { Store, UpsertOptions } from '../store.js';

type Db = Kysely<Database> | Transaction<Database>;

// Rows per statement: well below SQLite's 32766 bound parameters (6 a search row, 3 a term).
const ROWS_PER_STATEMENT = 500;
const TERMS_PER_STATEMENT = 3000;
const SUFFIXES_PER_STATEMENT = 3000;

/** Column names the search columns are written under, for the upsert of a changed customer. */
const SEARCH_COLUMNS = ['full_name', 'last_name', 'email', 'phone'] as const;

/**
 * Writes the search form of the given customers (their current name, email and phone number) and every index over
 * it, in the caller's transaction so that a search sees every committed write. `fresh`: the customers are new,
 * nothing to replace. Every customer write goes through this (or `deleteCustomerSearch`).
 */
export async function writeCustomerSearchIndex(
  trx: Db,
  customers: readonly CustomerSearchSource[],
  options: SearchWriteOptions,
): Promise<void> {
  if (customers.length === 0) return;
  const rows = customers.map(customerSearchRow);
  // The phone suffixes stored now, read before the search rows are replaced: they are derived from them.
  const before = options.fresh ? new Map<string, string | null>() : await storedPhones(trx, rows);
  await writeSearchRows(trx, rows, options);
  await writePhoneSuffixes(trx, rows, before, inserterFor(trx, options));
}

interface SearchWriteOptions {
  fresh: boolean;
  /**
   * Writes the rows through the store's bulk insert (`Store.insertMany`: cached multi-row statements on SQLite, COPY
   * on PostgreSQL) instead of Kysely's insert: for an import's batches, in `trx`, which must be a transaction.
   */
  store?: Store;
}

type SearchTable = 'customer_search' | 'customer_search_terms' | 'customer_search_suffixes';
type Inserter = <T extends SearchTable>(
  table: T,
  rows: readonly Insertable<Database[T]>[],
  upsert?: UpsertOptions<T>,
) => Promise<void>;

const PER_STATEMENT: Record<SearchTable, number> = {
  customer_search: ROWS_PER_STATEMENT,
  customer_search_terms: TERMS_PER_STATEMENT,
  customer_search_suffixes: SUFFIXES_PER_STATEMENT,
};

function inserterFor(trx: Db, options: SearchWriteOptions): Inserter {
  const { store } = options;
  if (store) return (table, rows, upsert) => store.insertMany(trx as Transaction<Database>, table, rows, upsert);
  return async (table, rows, upsert) => {
    for (let i = 0; i < rows.length; i += PER_STATEMENT[table]) {
      // Kysely's types cannot follow a table parameter through values() and onConflict(); the columns are the table's.
      let insert = (trx as Kysely<Database>)
        .insertInto(table as 'customer_search')
        .values(rows.slice(i, i + PER_STATEMENT[table]) as Insertable<Database['customer_search']>[]);
      if (upsert) {
        insert = insert.onConflict((oc) =>
          oc
            .columns(upsert.conflict as ['organization_id'])
            .doUpdateSet((eb) =>
              Object.fromEntries(
                upsert.update.map((column) => [
                  column,
                  eb.ref(`excluded.${column as (typeof SEARCH_COLUMNS)[number]}`),
                ]),
              ),
            ),
        );
      }
      await insert.execute();
    }
  };
}

/**
 * The search rows and the 2-character terms only: what migration 2026-12-02T0645 backfills with, so it must never
 * write a table created by a later migration (live writes use `writeCustomerSearchIndex`).
 */
export async function writeCustomerSearch(
  trx: Db,
  customers: readonly CustomerSearchSource[],
  options: { fresh: boolean },
): Promise<void> {
  if (customers.length === 0) return;
  await writeSearchRows(trx, customers.map(customerSearchRow), options);
}

async function writeSearchRows(trx: Db, rows: readonly CustomerSearchRow[], options: SearchWriteOptions) {
  const insert = inserterFor(trx, options);
  if (!options.fresh) await deleteTerms(trx, rows);
  await insert(
    'customer_search',
    rows,
    options.fresh ? undefined : { conflict: ['organization_id', 'customer_id'], update: [...SEARCH_COLUMNS] },
  );
  const terms = rows.flatMap((row) =>
    customerSearchTerms(row).map((term) => ({
      organization_id: row.organization_id,
      term,
      customer_id: row.customer_id,
    })),
  );
  // In the primary key's order (organization, term, customer): each statement walks the index forward instead of
  // jumping about it (the terms of consecutive customers are scattered over the whole index).
  if (terms.length > 1) terms.sort(keyOrder('term'));
  await insert('customer_search_terms', terms);
}

const binaryOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The primary key order (organization, term or suffix, customer) of the term and suffix tables' rows. */
function keyOrder<K extends 'term' | 'suffix'>(middle: K) {
  type Row = { organization_id: string; customer_id: string } & Record<K, string>;
  return (a: Row, b: Row): number =>
    binaryOrder(a.organization_id, b.organization_id) ||
    binaryOrder(a[middle], b[middle]) ||
    binaryOrder(a.customer_id, b.customer_id);
}

/** `customer_search.phone` of the given customers, by organization and id (`organization_id customer_id`). */
async function storedPhones(trx: Db, rows: readonly CustomerSearchRow[]) {
  const phones = new Map<string, string | null>();
  for (const [organizationId, ids] of idsByOrganization(rows.map((row) => [row.organization_id, row.customer_id]))) {
    for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('customer_search')
        .select(['customer_id', 'phone'])
        .where('organization_id', '=', organizationId)
        .where('customer_id', 'in', ids.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
      for (const row of rows) phones.set(`${organizationId} ${row.customer_id}`, row.phone);
    }
  }
  return phones;
}

/**
 * Brings the suffix rows of the customers in line with their phone digits now: deletes the suffixes they no longer
 * have (those of `before`, the stored search rows' phones) and inserts the new ones. An unchanged phone writes nothing.
 */
async function writePhoneSuffixes(
  trx: Db,
  rows: readonly CustomerSearchRow[],
  before: ReadonlyMap<string, string | null>,
  insert: Inserter,
) {
  const inserted: { organization_id: string; suffix: string; customer_id: string }[] = [];
  for (const row of rows) {
    const old = new Set(phoneSuffixes(before.get(`${row.organization_id} ${row.customer_id}`) ?? null));
    const now = phoneSuffixes(row.phone);
    for (const suffix of now) {
      if (old.delete(suffix)) continue;
      inserted.push({ organization_id: row.organization_id, suffix, customer_id: row.customer_id });
    }
    await deleteSuffixes(trx, row.organization_id, row.customer_id, [...old]);
  }
  // In key order, like the terms: a bulk write's statements walk the index forward.
  if (inserted.length > 1) inserted.sort(keyOrder('suffix'));
  await insert('customer_search_suffixes', inserted);
}

/** Deletes the given suffix rows of a customer, by their key (the table has no index by customer). */
async function deleteSuffixes(trx: Db, organizationId: string, customerId: string, suffixes: readonly string[]) {
  if (suffixes.length === 0) return;
  await trx
    .deleteFrom('customer_search_suffixes')
    .where('organization_id', '=', organizationId)
    .where('suffix', 'in', suffixes)
    .where('customer_id', '=', customerId)
    .execute();
}

function idsByOrganization(keys: Iterable<readonly [organizationId: string, customerId: string]>) {
  const byOrganization = new Map<string, string[]>();
  for (const [organizationId, customerId] of keys) {
    let ids = byOrganization.get(organizationId);
    if (!ids) byOrganization.set(organizationId, (ids = []));
    ids.push(customerId);
  }
  return byOrganization;
}

async function deleteTerms(trx: Db, rows: readonly CustomerSearchRow[]) {
  for (const [organizationId, ids] of idsByOrganization(rows.map((row) => [row.organization_id, row.customer_id]))) {
    for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
      await trx
        .deleteFrom('customer_search_terms')
        .where('organization_id', '=', organizationId)
        .where('customer_id', 'in', ids.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
    }
  }
}

export async function deleteCustomerSearch(trx: Db, organizationId: string, customerId: string): Promise<void> {
  const stored = await trx
    .selectFrom('customer_search')
    .select('phone')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  await deleteSuffixes(trx, organizationId, customerId, phoneSuffixes(stored?.phone ?? null));
  await trx
    .deleteFrom('customer_search_terms')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .execute();
  await trx
    .deleteFrom('customer_search')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .execute();
}
