import { CompiledQuery, sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { CustomerListsTable, Database } from '../schema.js';
import { param, shapedStatement, type QueryParams, type Store } from '../store.js';

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

/** Moves several lists' member counts at once (one statement): by list id, how many members it gained (or lost). */
export async function adjustMemberCounts(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  deltas: ReadonlyMap<string, number>,
): Promise<void> {
  const moved = [...deltas].filter(([, delta]) => delta !== 0);
  if (moved.length === 0) return;
  const statement = shapedStatement(store, `member counts ${moved.length}`, () =>
    store.db
      .updateTable('customer_lists')
      .set((eb) => ({
        member_count: eb(
          'member_count',
          '+',
          sql<number>`case ${sql.join(
            moved.map((_, i) => sql`when id = ${param(`list${i}`)} then cast(${param(`delta${i}`)} as integer)`),
            sql` `,
          )} else 0 end`,
        ),
      }))
      .where('organization_id', '=', param<string>('org'))
      .where(
        'id',
        'in',
        moved.map((_, i) => param<string>(`list${i}`)),
      ),
  );
  const params: QueryParams = { org: organizationId };
  moved.forEach(([listId, delta], i) => {
    params[`list${i}`] = listId;
    params[`delta${i}`] = delta;
  });
  await trx.executeQuery(CompiledQuery.raw(statement.sql, statement.bind(params)));
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

/** The organization's segments (lists with a filter), in the write's transaction. */
export async function findSegments(trx: Db, organizationId: string): Promise<CustomerListRow[]> {
  return trx
    .selectFrom('customer_lists')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('filter', 'is not', null)
    .orderBy('id')
    .execute();
}

/** Removes these (list, customer) memberships: one statement per 250 pairs, whatever the lists. */
export async function deleteMemberships(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  pairs: readonly { list_id: string; customer_id: string }[],
): Promise<void> {
  for (let i = 0; i < pairs.length; i += 250) {
    const chunk = pairs.slice(i, i + 250);
    const statement = shapedStatement(store, `delete memberships ${chunk.length}`, () =>
      store.db
        .deleteFrom('customer_list_members')
        .where('organization_id', '=', param<string>('org'))
        .where((eb) =>
          eb.or(
            chunk.map((_, p) =>
              eb.and([
                eb('list_id', '=', param<string>(`list${p}`)),
                eb('customer_id', '=', param<string>(`customer${p}`)),
              ]),
            ),
          ),
        ),
    );
    const params: QueryParams = { org: organizationId };
    chunk.forEach((pair, p) => {
      params[`list${p}`] = pair.list_id;
      params[`customer${p}`] = pair.customer_id;
    });
    await trx.executeQuery(CompiledQuery.raw(statement.sql, statement.bind(params)));
  }
}

/** The ids of the organization's customers after `afterId`, ascending: the next batch of a segment's build. */
export async function findCustomerIdsAfter(
  trx: Db,
  organizationId: string,
  afterId: string,
  limit: number,
): Promise<string[]> {
  const rows = await trx
    .selectFrom('customers')
    .select('id')
    .where('organization_id', '=', organizationId)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/** Sets a segment's filter and starts its build over (from the first customer). */
export async function restartSegmentBuild(
  trx: Db,
  organizationId: string,
  id: string,
  patch: { name?: string; filter?: string },
): Promise<CustomerListRow | undefined> {
  return trx
    .updateTable('customer_lists')
    .set({ ...patch, segment_status: 'building', build_after: '', build_owner: null, build_lease_until: null })
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Segments whose filter names one of these lists (`listId`): their membership follows that list's. */
export async function findSegmentsNamingLists(
  trx: Db,
  organizationId: string,
  listIds: readonly string[],
): Promise<CustomerListRow[]> {
  const segments = await findSegments(trx, organizationId);
  return segments.filter((segment) => {
    const listId = (JSON.parse(segment.filter!) as { listId?: unknown }).listId;
    return typeof listId === 'string' && listIds.includes(listId);
  });
}

/**
 * Takes (or renews) the lease of a segment's build for `owner` until `until`, unless another owner holds an
 * unexpired one; the segment row when taken.
 */
export async function leaseSegmentBuild(
  db: Db,
  organizationId: string,
  id: string,
  owner: string,
  now: number,
  until: number,
): Promise<CustomerListRow | undefined> {
  return db
    .updateTable('customer_lists')
    .set({ build_owner: owner, build_lease_until: until })
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .where('segment_status', '=', 'building')
    .where((eb) =>
      eb.or([eb('build_owner', 'is', null), eb('build_owner', '=', owner), eb('build_lease_until', '<', now)]),
    )
    .returningAll()
    .executeTakeFirst();
}

/** Records a build batch: the cursor moves on, and the segment is ready when nothing is left. */
export async function advanceSegmentBuild(
  trx: Db,
  organizationId: string,
  id: string,
  through: string | undefined,
): Promise<void> {
  await trx
    .updateTable('customer_lists')
    .set(
      through === undefined
        ? { segment_status: 'ready', build_after: null, build_owner: null, build_lease_until: null }
        : { build_after: through },
    )
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .execute();
}

/** Gives up the leases `owner` holds, so another process can take those builds over at once. */
export async function releaseSegmentBuilds(db: Db, owner: string): Promise<void> {
  await db
    .updateTable('customer_lists')
    .set({ build_owner: null, build_lease_until: null })
    .where('build_owner', '=', owner)
    .execute();
}

/** Segments being built whose lease is free or expired: builds to take over (after a restart, or a crash). */
export async function findUnleasedSegmentBuilds(
  db: Db,
  now: number,
): Promise<{ organization_id: string; id: string }[]> {
  return db
    .selectFrom('customer_lists')
    .select(['organization_id', 'id'])
    .where('segment_status', '=', 'building')
    .where((eb) => eb.or([eb('build_lease_until', 'is', null), eb('build_lease_until', '<', now)]))
    .execute();
}
