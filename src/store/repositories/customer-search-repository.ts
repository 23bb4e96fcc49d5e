import type { Kysely, Transaction } from 'kysely';
import {
  customerSearchRow,
  customerSearchTerms,
  type CustomerSearchRow,
  type CustomerSearchSource,
} from '../customer-search-text.js';
import type { CustomerSearchTermsTable, Database } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

// Rows per statement: well below SQLite's 32766 bound parameters (6 a search row, 3 a term).
const ROWS_PER_STATEMENT = 500;
const TERMS_PER_STATEMENT = 3000;

/** Column names the search columns are written under, for the upsert of a changed customer. */
const SEARCH_COLUMNS = ['full_name', 'last_name', 'email', 'phone'] as const;

/**
 * Writes the search form of the given customers (their current name, email and phone number), in the caller's
 * transaction so that a search sees every committed write. `fresh`: the customers are new, nothing to replace.
 */
export async function writeCustomerSearch(
  trx: Db,
  customers: readonly CustomerSearchSource[],
  options: { fresh: boolean },
): Promise<void> {
  if (customers.length === 0) return;
  const rows = customers.map(customerSearchRow);
  if (!options.fresh) await deleteTerms(trx, rows);
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    let insert = trx.insertInto('customer_search').values(chunk);
    if (!options.fresh) {
      insert = insert.onConflict((oc) =>
        oc
          .columns(['organization_id', 'customer_id'])
          .doUpdateSet((eb) =>
            Object.fromEntries(SEARCH_COLUMNS.map((column) => [column, eb.ref(`excluded.${column}`)])),
          ),
      );
    }
    await insert.execute();
  }
  const terms = rows.flatMap((row) =>
    customerSearchTerms(row).map((term) => ({
      organization_id: row.organization_id,
      term,
      customer_id: row.customer_id,
    })),
  );
  // In the primary key's order (organization, term, customer): each statement walks the index forward instead of
  // jumping about it (the terms of consecutive customers are scattered over the whole index).
  if (terms.length > 1) terms.sort(compareTermKeys);
  for (let i = 0; i < terms.length; i += TERMS_PER_STATEMENT) {
    await trx
      .insertInto('customer_search_terms')
      .values(terms.slice(i, i + TERMS_PER_STATEMENT))
      .execute();
  }
}

const binaryOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
function compareTermKeys(a: CustomerSearchTermsTable, b: CustomerSearchTermsTable): number {
  return (
    binaryOrder(a.organization_id, b.organization_id) ||
    binaryOrder(a.term, b.term) ||
    binaryOrder(a.customer_id, b.customer_id)
  );
}

async function deleteTerms(trx: Db, rows: readonly CustomerSearchRow[]) {
  const byOrganization = new Map<string, string[]>();
  for (const row of rows) {
    let ids = byOrganization.get(row.organization_id);
    if (!ids) byOrganization.set(row.organization_id, (ids = []));
    ids.push(row.customer_id);
  }
  for (const [organizationId, ids] of byOrganization) {
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
