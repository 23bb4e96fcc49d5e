import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { CustomersTable, Database } from '../schema.js';
import { param, type PreparedQuery, type Store } from '../store.js';
import { deleteCustomerSearch, writeCustomerSearchIndex } from './customer-search-repository.js';

export type CustomerRow = Selectable<CustomersTable>;
export type NewCustomerRow = Insertable<CustomersTable>;
export type CustomerRowPatch = Updateable<CustomersTable>;
type Db = Kysely<Database> | Transaction<Database>;

export type CustomerSortColumn = 'created_at' | 'updated_at';
export type CustomerFilter = 'none' | 'email' | 'phone';

/** Sorts before every real key: the starting point of a first page. */
export const FIRST_PAGE_KEY = { at: Number.MAX_SAFE_INTEGER, id: '\u{10FFFF}' } as const;

/** The columns the search form is made of: a write touching one of them rewrites it. */
const SEARCHED_COLUMNS = ['first_name', 'last_name', 'email', 'phone_number'] as const;

function searchSource(row: NewCustomerRow) {
  return { ...row, email: row.email ?? null, phone_number: row.phone_number ?? null };
}

export async function insertCustomer(trx: Db, row: NewCustomerRow): Promise<void> {
  await trx.insertInto('customers').values(row).execute();
  await writeCustomerSearchIndex(trx, [searchSource(row)], { fresh: true });
}

export async function insertCustomers(trx: Db, rows: NewCustomerRow[]): Promise<void> {
  // SQLite allows 32766 bound parameters per statement; 19 columns a row.
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await trx.insertInto('customers').values(chunk).execute();
    await writeCustomerSearchIndex(trx, chunk.map(searchSource), { fresh: true });
  }
}

export async function deleteCustomerRow(trx: Db, organizationId: string, id: string): Promise<void> {
  await deleteCustomerSearch(trx, organizationId, id);
  await trx.deleteFrom('customers').where('organization_id', '=', organizationId).where('id', '=', id).execute();
}

export async function findCustomerForUpdate(trx: Transaction<Database>, organizationId: string, id: string) {
  return trx
    .selectFrom('customers')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function updateCustomer(
  trx: Db,
  organizationId: string,
  id: string,
  patch: CustomerRowPatch,
): Promise<CustomerRow | undefined> {
  const row = await trx
    .updateTable('customers')
    .set(patch)
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (row && SEARCHED_COLUMNS.some((column) => column in patch)) {
    await writeCustomerSearchIndex(trx, [row], { fresh: false });
  }
  return row;
}

export interface CustomerPageQuery {
  organizationId: string;
  sort: CustomerSortColumn;
  filter: CustomerFilter;
  /** The normalized email or E.164 phone number, for the matching filter. */
  value: string;
  afterAt: number;
  afterId: string;
  limit: number;
}

export type CustomerVersionRow = Pick<CustomerRow, 'id' | 'created_at' | 'updated_at'>;

/** The hot read paths, compiled once per store. */
export function createCustomerReads(store: Store) {
  const byId = store.prepare<CustomerRow>(
    store.db
      .selectFrom('customers')
      .selectAll()
      .where('organization_id', '=', param<string>('org'))
      .where('id', '=', param<string>('id')),
  );

  const pages = new Map<string, PreparedQuery<CustomerRow>>();
  for (const sort of ['created_at', 'updated_at'] as const) {
    for (const filter of ['none', 'email', 'phone'] as const) {
      let query = store.db
        .selectFrom('customers')
        .selectAll()
        .where('organization_id', '=', param<string>('org'))
        .where(
          sql<boolean>`(${sql.ref(sort)}, ${sql.ref('id')}) < (${param<number>('afterAt')}, ${param<string>('afterId')})`,
        );
      if (filter === 'email') query = query.where('email_normalized', '=', param<string>('value'));
      if (filter === 'phone') query = query.where('phone_number', '=', param<string>('value'));
      pages.set(
        `${sort}:${filter}`,
        store.prepare<CustomerRow>(query.orderBy(sort, 'desc').orderBy('id', 'desc').limit(param<number>('limit'))),
      );
    }
  }

  // The same unfiltered pages, only the columns that say which version of which customer each row is.
  const keys = new Map<CustomerSortColumn, PreparedQuery<CustomerVersionRow>>();
  for (const sort of ['created_at', 'updated_at'] as const) {
    keys.set(
      sort,
      store.prepare<CustomerVersionRow>(
        store.db
          .selectFrom('customers')
          .select(['id', 'created_at', 'updated_at'])
          .where('organization_id', '=', param<string>('org'))
          .where(
            sql<boolean>`(${sql.ref(sort)}, ${sql.ref('id')}) < (${param<number>('afterAt')}, ${param<string>('afterId')})`,
          )
          .orderBy(sort, 'desc')
          .orderBy('id', 'desc')
          .limit(param<number>('limit')),
      ),
    );
  }

  return {
    findById: (organizationId: string, id: string) => byId.first({ org: organizationId, id }),
    /** The id and version of each customer `listPage` would return without a filter. */
    listPageVersions(q: Omit<CustomerPageQuery, 'filter' | 'value'>): Promise<CustomerVersionRow[]> {
      return keys.get(q.sort)!.all({ org: q.organizationId, afterAt: q.afterAt, afterId: q.afterId, limit: q.limit });
    },
    /** Up to `limit` customers after the given key, most recent first. */
    listPage(q: CustomerPageQuery): Promise<CustomerRow[]> {
      const query = pages.get(`${q.sort}:${q.filter}`)!;
      return query.all({
        org: q.organizationId,
        afterAt: q.afterAt,
        afterId: q.afterId,
        value: q.value,
        limit: q.limit,
      });
    },
  };
}
export type CustomerReads = ReturnType<typeof createCustomerReads>;
