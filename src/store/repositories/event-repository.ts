import type { Kysely, Selectable, Transaction } from 'kysely';
import type { EventOrder } from '../../contract/event-types.js';
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
  const org = param<string>('org');
  const customer = param<string>('customer');
  const from = param<number>('from');
  const limit = param<number>('limit');
  const feed = store.db.selectFrom('events').selectAll().where('organization_id', '=', org);
  // A customer's events through event_customers' key (organization_id, customer_id, sequence), joined to the
  // events by their key: one index range scan in either direction, however long the whole feed is.
  const customerFeed = store.db
    .selectFrom('event_customers as s')
    .innerJoin('events as e', (join) =>
      join.onRef('e.organization_id', '=', 's.organization_id').onRef('e.sequence', '=', 's.sequence'),
    )
    .selectAll('e')
    .where('s.organization_id', '=', org)
    .where('s.customer_id', '=', customer);
  const pages = {
    oldest: store.prepare<EventRow>(feed.where('sequence', '>', from).orderBy('sequence').limit(limit)),
    newest: store.prepare<EventRow>(feed.where('sequence', '<', from).orderBy('sequence', 'desc').limit(limit)),
  };
  const customerPages = {
    oldest: store.prepare<EventRow>(customerFeed.where('s.sequence', '>', from).orderBy('s.sequence').limit(limit)),
    newest: store.prepare<EventRow>(
      customerFeed.where('s.sequence', '<', from).orderBy('s.sequence', 'desc').limit(limit),
    ),
  };
  return {
    /**
     * Committed events from the sequence `from` (exclusive) on, in `order`: after it oldest first, before it newest
     * first; only those about `customerId` when it is given.
     */
    listPage: (
      organizationId: string,
      options: { customerId: string | undefined; order: EventOrder; from: number; limit: number },
    ) => {
      const params = { org: organizationId, from: options.from, limit: options.limit };
      return options.customerId === undefined
        ? pages[options.order].all(params)
        : customerPages[options.order].all({ ...params, customer: options.customerId });
    },
  };
}
export type EventReads = ReturnType<typeof createEventReads>;
