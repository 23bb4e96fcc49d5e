import { newId } from '../../src/domain/ids.js';
import { insertCustomers, type NewCustomerRow } from '../../src/store/repositories/customer-repository.js';
import { insertOrganization } from '../../src/store/repositories/organization-repository.js';
import type { Store } from '../../src/store/store.js';

/**
 * Inserts `count` customers straight through the repository (thousands in
 * a second, where one POST each would take minutes), with distinct
 * timestamps one second apart going back from `startAt`, oldest last.
 */
export async function insertCustomersDirectly(
  store: Store,
  organizationId: string,
  count: number,
  options: { startAt?: number; prefix?: string; from?: number } = {},
): Promise<NewCustomerRow[]> {
  const startAt = options.startAt ?? Date.UTC(2021, 0, 1);
  const rows: NewCustomerRow[] = [];
  // `from`: the index of the first, so several calls make the rows of one call (names, emails, times) piece by piece.
  for (let i = options.from ?? 0; i < (options.from ?? 0) + count; i++) {
    const at = startAt - i * 1000;
    rows.push({
      organization_id: organizationId,
      id: newId(at),
      first_name: `${options.prefix ?? 'Bulk'}${i}`,
      last_name: 'Customer',
      email: `${options.prefix ?? 'bulk'}${i}@example.com`.toLowerCase(),
      email_normalized: `${options.prefix ?? 'bulk'}${i}@example.com`.toLowerCase(),
      phone_number: null,
      dob: null,
      gender: null,
      has_agreed_to_marketing: null,
      created_at: at,
      updated_at: at,
      last_points_earned_at: null,
      last_points_redeemed_at: null,
      last_spent_at: null,
    });
  }
  await store.db.transaction().execute((trx) => insertCustomers(trx, rows));
  return rows;
}

/** Creates customer lists with the customer as a member of each, straight in the database. */
export async function insertMemberships(
  store: Store,
  organizationId: string,
  customerId: string,
  lists: number,
): Promise<string[]> {
  const ids: string[] = [];
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < lists; i++) {
      const id = newId();
      ids.push(id);
      await trx
        .insertInto('customer_lists')
        .values({ organization_id: organizationId, id, name: `List ${i}`, created_at: Date.now(), member_count: 1 })
        .execute();
      await trx
        .insertInto('customer_list_members')
        .values({ organization_id: organizationId, list_id: id, customer_id: customerId, added_at: Date.now() })
        .execute();
    }
  });
  return ids;
}

/** Inserts an organization straight through the repository (AUD, UTC, its clocks at zero), for direct-row setups. */
export async function insertOrganizationDirectly(store: Store, id: string, name = id): Promise<void> {
  await insertOrganization(store.db, {
    id,
    name,
    currency: 'AUD',
    timezone: 'UTC',
    created_at: 0,
    clock: 0,
    event_sequence: 0,
  });
}
