import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { CustomerListsTable, Database } from '../schema.js';
import { param, type Store } from '../store.js';

export type CustomerListRow = Selectable<CustomerListsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export interface ListMemberRow {
  customer_id: string;
  added_at: number;
  first_name: string;
  last_name: string;
  email: string | null;
  phone_number: string | null;
}

export async function insertCustomerList(trx: Db, row: Insertable<CustomerListsTable>): Promise<void> {
  await trx.insertInto('customer_lists').values(row).execute();
}

export async function findCustomerListForUpdate(trx: Transaction<Database>, organizationId: string, id: string) {
  return trx
    .selectFrom('customer_lists')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function renameCustomerList(
  trx: Db,
  organizationId: string,
  id: string,
  name: string,
): Promise<CustomerListRow | undefined> {
  return trx
    .updateTable('customer_lists')
    .set({ name })
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes a list and all of its memberships. */
export async function deleteCustomerList(trx: Db, organizationId: string, id: string): Promise<void> {
  await trx
    .deleteFrom('customer_list_members')
    .where('organization_id', '=', organizationId)
    .where('list_id', '=', id)
    .execute();
  await trx.deleteFrom('customer_lists').where('organization_id', '=', organizationId).where('id', '=', id).execute();
}

export async function adjustMemberCount(trx: Db, organizationId: string, listId: string, delta: number): Promise<void> {
  await trx
    .updateTable('customer_lists')
    .set((eb) => ({ member_count: eb('member_count', '+', delta) }))
    .where('organization_id', '=', organizationId)
    .where('id', '=', listId)
    .execute();
}

/** Adds a membership unless it exists; true when a row was added. */
export async function insertMembership(
  trx: Db,
  organizationId: string,
  listId: string,
  customerId: string,
  addedAt: number,
): Promise<boolean> {
  const result = await trx
    .insertInto('customer_list_members')
    .values({ organization_id: organizationId, list_id: listId, customer_id: customerId, added_at: addedAt })
    .onConflict((oc) => oc.columns(['organization_id', 'list_id', 'customer_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Removes a membership; true when one existed. */
export async function deleteMembership(
  trx: Db,
  organizationId: string,
  listId: string,
  customerId: string,
): Promise<boolean> {
  const result = await trx
    .deleteFrom('customer_list_members')
    .where('organization_id', '=', organizationId)
    .where('list_id', '=', listId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Removes every membership of a customer and lowers the member counts of those lists to match. */
export async function deleteCustomerMemberships(trx: Db, organizationId: string, customerId: string): Promise<number> {
  const result = await trx
    .updateTable('customer_lists')
    .set((eb) => ({ member_count: eb('member_count', '-', 1) }))
    .where('organization_id', '=', organizationId)
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('customer_list_members')
        .select('list_id')
        .where('organization_id', '=', organizationId)
        .where('customer_id', '=', customerId),
    )
    .executeTakeFirst();
  await trx
    .deleteFrom('customer_list_members')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .execute();
  return Number(result.numUpdatedRows);
}

export function createCustomerListReads(store: Store) {
  const byId = store.prepare<CustomerListRow>(
    store.db
      .selectFrom('customer_lists')
      .selectAll()
      .where('organization_id', '=', param<string>('org'))
      .where('id', '=', param<string>('id')),
  );
  const page = store.prepare<CustomerListRow>(
    store.db
      .selectFrom('customer_lists')
      .selectAll()
      .where('organization_id', '=', param<string>('org'))
      .where('id', '>', param<string>('after'))
      .orderBy('id')
      .limit(param<number>('limit')),
  );
  const members = store.prepare<ListMemberRow>(
    store.db
      .selectFrom('customer_list_members as m')
      .innerJoin('customers as c', (join) =>
        join.onRef('c.organization_id', '=', 'm.organization_id').onRef('c.id', '=', 'm.customer_id'),
      )
      .select(['m.customer_id', 'm.added_at', 'c.first_name', 'c.last_name', 'c.email', 'c.phone_number'])
      .where('m.organization_id', '=', param<string>('org'))
      .where('m.list_id', '=', param<string>('list'))
      .where('m.customer_id', '>', param<string>('after'))
      .orderBy('m.customer_id')
      .limit(param<number>('limit')),
  );
  return {
    findById: (organizationId: string, id: string) => byId.first({ org: organizationId, id }),
    /** Lists by id (creation order) after `afterId` ('' for the first page). */
    listPage: (organizationId: string, afterId: string, limit: number) =>
      page.all({ org: organizationId, after: afterId, limit }),
    /** Members by customer id after `afterCustomerId` ('' for the first page). */
    listMembers: (organizationId: string, listId: string, afterCustomerId: string, limit: number) =>
      members.all({ org: organizationId, list: listId, after: afterCustomerId, limit }),
  };
}
export type CustomerListReads = ReturnType<typeof createCustomerListReads>;
