import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { Database, LocationsTable } from '../schema.js';
import { param, type Store } from '../store.js';
import { containsPattern } from '../like.js';

export type LocationRow = Selectable<LocationsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export async function insertLocation(db: Db, row: Insertable<LocationsTable>): Promise<void> {
  await db.insertInto('locations').values(row).execute();
}

export async function insertLocations(db: Db, rows: Insertable<LocationsTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('locations')
      .values(rows.slice(i, i + 500))
      .execute();
}

export async function updateLocation(
  db: Db,
  organizationId: string,
  id: string,
  patch: Updateable<LocationsTable>,
): Promise<LocationRow | undefined> {
  return db
    .updateTable('locations')
    .set(patch)
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function findLocation(db: Db, organizationId: string, id: string): Promise<LocationRow | undefined> {
  return db
    .selectFrom('locations')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The location holding `slug` in the organization, if any. */
export async function findLocationBySlug(db: Db, organizationId: string, slug: string) {
  return db
    .selectFrom('locations')
    .select('id')
    .where('organization_id', '=', organizationId)
    .where('slug', '=', slug)
    .executeTakeFirst();
}

export function createLocationReads(store: Store) {
  const byId = store.prepare<LocationRow>(
    store.db
      .selectFrom('locations')
      .selectAll()
      .where('organization_id', '=', param<string>('org'))
      .where('id', '=', param<string>('id')),
  );
  const page = (search: boolean) =>
    store.prepare<LocationRow>(
      store.db
        .selectFrom('locations')
        .selectAll()
        .where('organization_id', '=', param<string>('org'))
        .where('id', '>', param<string>('after'))
        .$if(search, (q) =>
          q.where(sql<boolean>`${sql.ref('name_search')} like ${param<string>('pattern')} escape '\\'`),
        )
        .orderBy('id')
        .limit(param<number>('limit')),
    );
  const all = page(false);
  const searched = page(true);
  return {
    findById: (organizationId: string, id: string) => byId.first({ org: organizationId, id }),
    /**
     * Locations in creation (id) order after `afterId` ('' for the first page); with `search` (lower case),
     * only those whose name contains it.
     */
    listPage: (organizationId: string, afterId: string, limit: number, search: string | undefined) =>
      search === undefined
        ? all.all({ org: organizationId, after: afterId, limit })
        : searched.all({ org: organizationId, after: afterId, limit, pattern: containsPattern(search) }),
  };
}
export type LocationReads = ReturnType<typeof createLocationReads>;
