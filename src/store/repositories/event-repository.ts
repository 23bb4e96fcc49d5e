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
 * the caller reserved in this transaction while holding the organization lock.
 */
export async function appendEvents(
  trx: Transaction<Database>,
  organizationId: string,
  firstSequence: number,
  events: readonly EventToAppend[],
): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event, i) => ({
    organization_id: organizationId,
    sequence: firstSequence + i,
    id: event.id,
    type: event.type,
    occurred_at: event.occurredAt,
    payload: event.payload,
  }));
  // 6 columns a row keeps each statement far below SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 1000) {
    await trx
      .insertInto('events')
      .values(rows.slice(i, i + 1000))
      .execute();
  }
  const subjects = rows.flatMap((row, i) => {
    const customerId = events[i]!.customerId;
    return customerId === null
      ? []
      : [{ organization_id: organizationId, customer_id: customerId, sequence: row.sequence }];
  });
  for (let i = 0; i < subjects.length; i += 1000) {
    await trx
      .insertInto('event_customers')
      .values(subjects.slice(i, i + 1000))
      .execute();
  }
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
