import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, EventsTable } from '../schema.js';
import { param, type Store } from '../store.js';

export type EventRow = Selectable<EventsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export interface EventToAppend {
  id: string;
  type: string;
  occurredAt: number;
  /** The JSON body as delivered: `{event, ...}`. */
  payload: string;
  /** The customer the event is about, if any: indexed so erasure can find and scrub the event. */
  customerId: string | null;
}

/**
 * Appends events with consecutive sequence numbers from `firstSequence`, which
 * the caller reserved in this transaction while holding the organization lock:
 * one event of a write or the thousands of an import, through the store's
 * fastest multi-row insert (cached single-row statements on SQLite, multi-row
 * statements on PostgreSQL).
 */
export async function appendEvents(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  firstSequence: number,
  events: readonly EventToAppend[],
): Promise<void> {
  if (events.length === 0) return;
  await store.insertMany(
    trx,
    'events',
    events.map((event, i) => ({
      organization_id: organizationId,
      sequence: firstSequence + i,
      id: event.id,
      type: event.type,
      occurred_at: event.occurredAt,
      payload: event.payload,
    })),
  );
  const subjects = events.flatMap((event, i) =>
    event.customerId === null
      ? []
      : [{ organization_id: organizationId, customer_id: event.customerId, sequence: firstSequence + i }],
  );
  if (subjects.length > 0) await store.insertMany(trx, 'event_customers', subjects);
}

/** Up to `limit` events after `afterSequence`, oldest first. */
export async function listEvents(
  db: Db,
  organizationId: string,
  afterSequence: number,
  limit: number,
): Promise<EventRow[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('sequence', '>', afterSequence)
    .orderBy('sequence')
    .limit(limit)
    .execute();
}

/** The events that mention a customer, for erasure. */
export async function findCustomerEvents(trx: Db, organizationId: string, customerId: string): Promise<EventRow[]> {
  return trx
    .selectFrom('event_customers as s')
    .innerJoin('events as e', (join) =>
      join.onRef('e.organization_id', '=', 's.organization_id').onRef('e.sequence', '=', 's.sequence'),
    )
    .selectAll('e')
    .where('s.organization_id', '=', organizationId)
    .where('s.customer_id', '=', customerId)
    .execute();
}

export async function replaceEventPayload(
  trx: Db,
  organizationId: string,
  sequence: number,
  payload: string,
): Promise<void> {
  await trx
    .updateTable('events')
    .set({ payload })
    .where('organization_id', '=', organizationId)
    .where('sequence', '=', sequence)
    .execute();
}

export function createEventReads(store: Store) {
  const page = store.prepare<EventRow>(
    store.db
      .selectFrom('events')
      .selectAll()
      .where('organization_id', '=', param<string>('org'))
      .where('sequence', '>', param<number>('after'))
      .orderBy('sequence')
      .limit(param<number>('limit')),
  );
  return {
    /** Committed events after `afterSequence`, oldest first. */
    listPage: (organizationId: string, afterSequence: number, limit: number) =>
      page.all({ org: organizationId, after: afterSequence, limit }),
  };
}
export type EventReads = ReturnType<typeof createEventReads>;
