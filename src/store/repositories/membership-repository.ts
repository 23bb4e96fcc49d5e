import type { Insertable, Kysely, Transaction } from 'kysely';
import type { CustomerListMembersTable, CustomerListsTable, Database } from '../schema.js';
import { param, type Store } from '../store.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface MembershipRow {
  id: string;
  name: string;
}

export async function insertCustomerLists(db: Db, rows: Insertable<CustomerListsTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('customer_lists').values(rows).execute();
}

export async function insertListMembers(db: Db, rows: Insertable<CustomerListMembersTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insertInto('customer_list_members')
      .values(rows.slice(i, i + 1000))
      .execute();
  }
}

export function createMembershipReads(store: Store) {
  const page = store.prepare<MembershipRow>(
    store.db
      .selectFrom('customer_list_members as m')
      .innerJoin('customer_lists as l', (join) =>
        join.onRef('l.organization_id', '=', 'm.organization_id').onRef('l.id', '=', 'm.list_id'),
      )
      .select(['l.id as id', 'l.name as name'])
      .where('m.organization_id', '=', param<string>('org'))
      .where('m.customer_id', '=', param<string>('customer'))
      .where('m.list_id', '>', param<string>('after'))
      .orderBy('m.list_id')
      .limit(param<number>('limit')),
  );
  return {
    /** Lists the customer belongs to, by list id, after `afterListId` ('' for the first page). */
    listMemberships: (organizationId: string, customerId: string, afterListId: string, limit: number) =>
      page.all({ org: organizationId, customer: customerId, after: afterListId, limit }),
  };
}
export type MembershipReads = ReturnType<typeof createMembershipReads>;
