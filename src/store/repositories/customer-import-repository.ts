import type { Transaction } from 'kysely';
import type { Database } from '../schema.js';
import type { CustomerRow } from './customer-repository.js';

type Trx = Transaction<Database>;

// Well below both limits on bound parameters per statement (SQLite 32766, PostgreSQL 65535).
const LOOKUP_CHUNK = 900;
const WRITE_CHUNK = 500;

export async function findCustomersByIds(trx: Trx, organizationId: string, ids: readonly string[]): Promise<CustomerRow[]> {
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

export async function findCustomersByEmails(trx: Trx, organizationId: string, emailsNormalized: readonly string[]): Promise<CustomerRow[]> {
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

const UPDATABLE_COLUMNS = [
  'first_name',
  'last_name',
  'email',
  'email_normalized',
  'phone_number',
  'dob',
  'gender',
  'has_agreed_to_marketing',
  'created_at',
  'updated_at',
  'points_balance',
  'total_points_earned',
  'total_points_redeemed',
  'total_spend',
  'last_points_earned_at',
  'last_points_redeemed_at',
  'last_spent_at',
] as const satisfies readonly (keyof CustomerRow)[];

/**
 * Writes whole customer rows: inserts the new ones and overwrites the
 * existing ones (same organization and id), a few hundred rows a statement.
 */
export async function upsertCustomerRows(trx: Trx, rows: readonly CustomerRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
    await trx
      .insertInto('customers')
      .values(rows.slice(i, i + WRITE_CHUNK))
      .onConflict((oc) =>
        oc.columns(['organization_id', 'id']).doUpdateSet((eb) => Object.fromEntries(UPDATABLE_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
      )
      .execute();
  }
}
