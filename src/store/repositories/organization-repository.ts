import { CompiledQuery, sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import { containsPattern } from '../like.js';
import type { Database, OrganizationsTable } from '../schema.js';
import { param, shapedStatement, type Store } from '../store.js';

export type OrganizationRow = Selectable<OrganizationsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export async function insertOrganization(db: Db, row: Insertable<OrganizationsTable>): Promise<void> {
  await db.insertInto('organizations').values(row).execute();
}

export async function listAllOrganizations(db: Db): Promise<OrganizationRow[]> {
  return db.selectFrom('organizations').selectAll().orderBy('id').execute();
}

export async function countOrganizations(db: Db): Promise<number> {
  const row = await db
    .selectFrom('organizations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findOrganizationsByIds(db: Db, ids: readonly string[]): Promise<OrganizationRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('organizations').selectAll().where('id', 'in', ids).execute();
}

/**
 * A page of the organizations among `ids` whose name contains `search` (A-Z compared case-insensitively, the same on
 * both dialects), in id order after `afterId`.
 */
export async function searchOrganizationsByIds(
  db: Db,
  store: Store,
  ids: readonly string[],
  search: string,
  afterId: string,
  limit: number,
): Promise<OrganizationRow[]> {
  if (ids.length === 0) return [];
  const pattern = containsPattern(search.replace(/[A-Z]+/g, (upper) => upper.toLowerCase()));
  return db
    .selectFrom('organizations')
    .selectAll()
    .where('id', 'in', ids)
    .where('id', '>', afterId)
    .where(sql<boolean>`${store.sql.asciiLower(sql.ref('name'))} like ${pattern} escape '\\'`)
    .orderBy('id')
    .limit(limit)
    .execute();
}

export interface OrganizationTick {
  /** The commit-order timestamp for this write, epoch ms, strictly greater than any before it in the organization. */
  readonly now: number;
  /** First of the event sequence numbers reserved for this write. */
  readonly firstSequence: number;
  /** The organization's name, read under the lock: as events of this write name it. */
  readonly name: string;
  /** The organization's segment version, read under the lock: changes whenever one of its segments changes. */
  readonly segmentVersion: number;
}

/**
 * Reserves this write's place in the organization's commit order. The UPDATE
 * row-locks the organization until the transaction ends, so concurrent writers
 * of one organization (in any process) queue here, and each gets a clock
 * strictly after the previous commit's and taken after the lock.
 */
export async function advanceOrganizationClock(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  events: number,
): Promise<OrganizationTick | undefined> {
  const row = await trx
    .updateTable('organizations')
    .set((eb) => ({
      clock: store.sql.greatest(eb('clock', '+', 1), store.sql.currentMillis()),
      event_sequence: eb('event_sequence', '+', events),
    }))
    .where('id', '=', organizationId)
    .returning(['clock', 'event_sequence', 'name', 'segment_version'])
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    now: Number(row.clock),
    firstSequence: Number(row.event_sequence) - events + 1,
    name: row.name,
    segmentVersion: Number(row.segment_version),
  };
}

/** Moves the organization's clock to at least `atLeast`, so later writes sort after imported history. */
export async function raiseOrganizationClock(
  db: Db,
  store: Store,
  organizationId: string,
  atLeast: number,
): Promise<void> {
  await db
    .updateTable('organizations')
    .set((eb) => ({ clock: store.sql.greatest(eb.ref('clock'), eb.val(atLeast)) }))
    .where('id', '=', organizationId)
    .execute();
}

export function createOrganizationReads(store: Store) {
  const byId = store.prepare(store.db.selectFrom('organizations').selectAll().where('id', '=', param<string>('id')));
  return {
    findById: (id: string) => byId.first({ id }),
  };
}
export type OrganizationReads = ReturnType<typeof createOrganizationReads>;

/**
 * Reserves `count` event sequence numbers; returns the first, and the organization as the events name it (its
 * name read under the same row lock, so it is the name as of this write). Call only after
 * `advanceOrganizationClock` in the same transaction, so the organization is already locked and sequences stay
 * gapless and in commit order.
 */
export async function reserveEventSequences(
  trx: Transaction<Database>,
  organizationId: string,
  count: number,
): Promise<{ firstSequence: number; organization: { id: string; name: string } }> {
  const row = await trx
    .updateTable('organizations')
    .set((eb) => ({ event_sequence: eb('event_sequence', '+', count) }))
    .where('id', '=', organizationId)
    .returning(['event_sequence', 'name'])
    .executeTakeFirstOrThrow();
  return {
    firstSequence: Number(row.event_sequence) - count + 1,
    organization: { id: organizationId, name: row.name },
  };
}

/**
 * Moves the organization's last event sequence by `change` (negative gives back sequences reserved and not used).
 * Only under the organization lock, i.e. after `advanceOrganizationClock` in the same transaction.
 */
export async function moveEventSequence(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  change: number,
) {
  const statement = shapedStatement(store, 'move event sequence', () =>
    store.db
      .updateTable('organizations')
      .set((eb) => ({ event_sequence: eb('event_sequence', '+', param<number>('change')) }))
      .where('id', '=', param<string>('org')),
  );
  await trx.executeQuery(CompiledQuery.raw(statement.sql, statement.bind({ org: organizationId, change })));
}
