import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, WebhookDeliveriesTable, WebhookReplaysTable, WebhookSubscriptionsTable } from '../schema.js';
import type { DialectSql } from '../store.js';

export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookReplayRow = Selectable<WebhookReplaysTable>;
type Db = Kysely<Database> | Transaction<Database>;

export async function findSubscription(
  db: Db,
  organizationId: string,
  ref: string,
): Promise<WebhookSubscriptionRow | undefined> {
  return db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('ref', '=', ref)
    .executeTakeFirst();
}

export async function findSubscriptionById(db: Db, id: string): Promise<WebhookSubscriptionRow | undefined> {
  return db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listSubscriptions(
  db: Db,
  organizationId: string,
  afterRef: string,
  limit: number,
): Promise<WebhookSubscriptionRow[]> {
  return db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('ref', '>', afterRef)
    .orderBy('ref')
    .limit(limit)
    .execute();
}

export async function insertSubscription(db: Db, row: Insertable<WebhookSubscriptionsTable>): Promise<void> {
  await db.insertInto('webhook_subscriptions').values(row).execute();
}

/**
 * Replaces what the client controls. A pending retry is due at once and
 * starts its attempt count over: the client most likely fixed its receiver.
 */
export async function replaceSubscription(
  db: Db,
  organizationId: string,
  ref: string,
  fields: Pick<WebhookSubscriptionRow, 'url' | 'secret' | 'events' | 'updated_at'>,
): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set({ ...fields, attempts: 0, next_attempt_at: 0 })
    .where('organization_id', '=', organizationId)
    .where('ref', '=', ref)
    .execute();
}

/** Deletes the subscription with its history and queued replays; returns false when there was none. */
export async function deleteSubscription(db: Db, organizationId: string, ref: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('webhook_subscriptions')
    .where('organization_id', '=', organizationId)
    .where('ref', '=', ref)
    .returning('id')
    .executeTakeFirst();
  if (!deleted) return false;
  await db
    .deleteFrom('webhook_deliveries')
    .where('organization_id', '=', organizationId)
    .where('subscription_id', '=', deleted.id)
    .execute();
  await db
    .deleteFrom('webhook_replays')
    .where('organization_id', '=', organizationId)
    .where('subscription_id', '=', deleted.id)
    .execute();
  return true;
}

function claimableSubscriptions(db: Db, dialect: DialectSql, now: number, limit: number) {
  return db
    .selectFrom('webhook_subscriptions as s')
    .select('s.id')
    .where((eb) => eb.or([eb('s.lease_until', 'is', null), eb('s.lease_until', '<', dialect.currentMillis())]))
    .where((eb) =>
      eb.or([
        eb.and([
          eb('s.next_attempt_at', '<=', now),
          eb.exists(
            eb
              .selectFrom('events as e')
              .select(sql.lit(1).as('one'))
              .whereRef('e.organization_id', '=', 's.organization_id')
              .whereRef('e.sequence', '>', 's.cursor_sequence'),
          ),
        ]),
        eb.exists(
          eb
            .selectFrom('webhook_replays as r')
            .select(sql.lit(1).as('one'))
            .whereRef('r.subscription_id', '=', 's.id')
            .where('r.next_attempt_at', '<=', now),
        ),
      ]),
    )
    .orderBy('s.next_attempt_at')
    .limit(limit);
}

/**
 * Subscriptions with work due (an event after the cursor once any backoff has passed, or a replay whose time has
 * come) that no live dispatcher holds, up to `limit`; with `lock`, the rows are locked SKIP LOCKED on PostgreSQL.
 */
export async function findClaimableSubscriptionIds(
  db: Db,
  dialect: DialectSql,
  now: number,
  limit: number,
  options: { lock: boolean },
): Promise<string[]> {
  const query = claimableSubscriptions(db, dialect, now, limit);
  const rows = await (options.lock ? dialect.lockSkipLocked(query) : query).execute();
  return rows.map((row) => row.id);
}

/** Leases the given subscriptions to `owner` for `leaseMs` (database clock); call inside the claiming transaction. */
export async function leaseSubscriptions(
  db: Db,
  dialect: DialectSql,
  ids: readonly string[],
  owner: string,
  leaseMs: number,
): Promise<WebhookSubscriptionRow[]> {
  if (ids.length === 0) return [];
  return db
    .updateTable('webhook_subscriptions')
    .set((eb) => ({ lease_owner: owner, lease_until: eb(dialect.currentMillis(), '+', leaseMs) }))
    .where('id', 'in', [...ids])
    .returningAll()
    .execute();
}

/** Ends this dispatcher's lease so another may take the subscription at once. */
export async function releaseSubscription(db: Db, id: string, owner: string): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set({ lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

export interface SubscriptionProgress {
  cursor_sequence: number;
  attempts: number;
  next_attempt_at: number;
}

/**
 * Moves a leased subscription on and extends the lease by `leaseMs` (database
 * clock). False when the lease was lost (expired and taken over) or the
 * subscription was deleted: the caller must then stop working on it.
 */
export async function advanceSubscription(
  db: Db,
  dialect: DialectSql,
  id: string,
  owner: string,
  progress: SubscriptionProgress,
  leaseMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_subscriptions')
    .set((eb) => ({ ...progress, lease_until: eb(dialect.currentMillis(), '+', leaseMs) }))
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Extends a lease by `leaseMs` (database clock); false when it is no longer this dispatcher's. */
export async function renewLease(
  db: Db,
  dialect: DialectSql,
  id: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_subscriptions')
    .set((eb) => ({ lease_until: eb(dialect.currentMillis(), '+', leaseMs) }))
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function insertDelivery(db: Db, row: WebhookDeliveryRow): Promise<void> {
  await db.insertInto('webhook_deliveries').values(row).execute();
}

/** A subscription's attempts, most recent first. */
export async function listDeliveries(
  db: Db,
  organizationId: string,
  subscriptionId: string,
  beforeId: string | undefined,
  limit: number,
): Promise<WebhookDeliveryRow[]> {
  let query = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('subscription_id', '=', subscriptionId);
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  return query.orderBy('id', 'desc').limit(limit).execute();
}

export async function findDelivery(
  db: Db,
  organizationId: string,
  id: string,
): Promise<WebhookDeliveryRow | undefined> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function insertReplay(db: Db, row: WebhookReplayRow): Promise<void> {
  await db.insertInto('webhook_replays').values(row).execute();
}

export async function listDueReplays(
  db: Db,
  subscriptionId: string,
  now: number,
  limit: number,
): Promise<WebhookReplayRow[]> {
  return db
    .selectFrom('webhook_replays')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function rescheduleReplay(
  db: Db,
  organizationId: string,
  id: string,
  attempts: number,
  nextAttemptAt: number,
): Promise<void> {
  await db
    .updateTable('webhook_replays')
    .set({ attempts, next_attempt_at: nextAttemptAt })
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .execute();
}

export async function deleteReplay(db: Db, organizationId: string, id: string): Promise<void> {
  await db.deleteFrom('webhook_replays').where('organization_id', '=', organizationId).where('id', '=', id).execute();
}

export async function findQueuedReplay(
  db: Db,
  subscriptionId: string,
  eventSequence: number,
): Promise<WebhookReplayRow | undefined> {
  return db
    .selectFrom('webhook_replays')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('event_sequence', '=', eventSequence)
    .executeTakeFirst();
}

/** Deletes up to `limit` attempts recorded before `before`; returns how many went. */
export async function pruneDeliveries(db: Db, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where((eb) =>
      eb(
        eb.refTuple('organization_id', 'id'),
        'in',
        eb
          .selectFrom('webhook_deliveries')
          .select(['organization_id', 'id'])
          .where('created_at', '<', before)
          .limit(limit)
          .$asTuple('organization_id', 'id'),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
