import type { Transaction } from 'kysely';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { appendEvents, type EventToAppend } from '../../store/repositories/event-repository.js';
import {
  moveEventSequence,
  reserveEventSequences,
  type OrganizationTick,
} from '../../store/repositories/organization-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { customerRowToCustomer, customerRowToStatistics, customerRowToTiny } from '../customers/customer-mapper.js';
import { newId } from '../ids.js';
import type { EventType } from '../../contract/events.js';
import type { OrganizationTiny } from '../../contract/organizations.js';
import type { LocationTiny } from '../../contract/locations.js';
import type { Payment } from '../../contract/payments.js';

export interface DomainEvent {
  type: EventType;
  /** The customer the event mentions, so erasure can scrub it later. */
  customerId: string | null;
  /** Payload fields between `event` and `organization`. */
  body: Record<string, unknown>;
}

interface ListRef {
  id: string;
  name: string;
}

export const customerCreated = (row: CustomerRow): DomainEvent => ({
  type: 'customer.created',
  customerId: row.id,
  body: { customer: customerRowToCustomer(row) },
});

export const customerUpdated = (row: CustomerRow): DomainEvent => ({
  type: 'customer.updated',
  customerId: row.id,
  body: { customer: customerRowToCustomer(row) },
});

export const customerStatisticsUpdated = (row: CustomerRow): DomainEvent => ({
  type: 'customer.updated-statistics',
  customerId: row.id,
  body: { statistics: customerRowToStatistics(row), customer: customerRowToTiny(row) },
});

export const customerDeleted = (customerId: string): DomainEvent => ({
  type: 'customer.deleted',
  customerId,
  body: { customer: { id: customerId } },
});

export const listChanged = (
  type: 'customer-list.created' | 'customer-list.updated' | 'customer-list.deleted',
  list: ListRef,
): DomainEvent => ({
  type,
  customerId: null,
  body: { customerList: { id: list.id, name: list.name } },
});

export const membershipChanged = (
  type: 'customer-list.member-added' | 'customer-list.member-removed',
  list: ListRef,
  customer: CustomerRow,
): DomainEvent => ({
  type,
  customerId: customer.id,
  body: { customerList: { id: list.id, name: list.name }, customer: customerRowToTiny(customer) },
});

/** LOKE's payment events: the payment as it is after the write, and its location (when it has one). */
export const paymentChanged = (
  type: 'payment.completed' | 'payment.refunded',
  payment: Payment,
  location: LocationTiny | undefined,
): DomainEvent => ({
  type,
  customerId: payment.customer?.id ?? null,
  body: location ? { payment, location: { id: location.id, name: location.name } } : { payment },
});

/**
 * The payload as stored and delivered: `{event, ...body, organization}`, the LOKE webhook shape, with the
 * organization as LOKE's OrganizationTiny `{id, name}` as it was when the event was written. Every producer of
 * events goes through this (via `recordEvents`, or directly for bulk writers), so all event types agree.
 */
export function eventPayload(organization: OrganizationTiny, event: DomainEvent): Record<string, unknown> {
  return { event: event.type, ...event.body, organization: { id: organization.id, name: organization.name } };
}

/** The rows a write's events are stored as: one id and the write's time each, the LOKE payload as JSON. */
function toAppend(organization: Parameters<typeof eventPayload>[0], now: number, events: readonly DomainEvent[]) {
  return events.map((event) => ({
    id: newId(now),
    type: event.type,
    occurredAt: now,
    payload: JSON.stringify(eventPayload(organization, event)),
    customerId: event.customerId,
  }));
}

/** The events a write recorded so far, appended when its work is done (`collectEvents`). */
interface CollectedEvents {
  organizationId: string;
  tick: OrganizationTick;
  /** Sequences the clock advance already reserved. */
  reserved: number;
  rows: EventToAppend[];
}
const collected = new WeakMap<Transaction<Database>, CollectedEvents>();

/**
 * Runs `work` with the events it records in `trx` for the organization collected, then appends them all at once
 * with consecutive sequences from `tick.firstSequence`: one insert, and no statement to reserve sequences when the
 * write recorded the `reserved` number the clock advance took (otherwise one moves the sequence by the
 * difference, so the log stays gapless). For `writeInOrganization`; a failed `work` appends nothing.
 */
export async function collectEvents<T>(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  tick: OrganizationTick,
  reserved: number,
  work: () => Promise<T>,
  arrange?: (rows: readonly EventToAppend[]) => EventToAppend[],
): Promise<T> {
  const events: CollectedEvents = { organizationId, tick, reserved, rows: [] };
  collected.set(trx, events);
  try {
    const result = await work();
    if (arrange) events.rows = keepingIdOrder(events.rows, arrange(events.rows));
    const unreserved = events.rows.length - reserved;
    if (unreserved !== 0) await moveEventSequence(trx, store, organizationId, unreserved);
    await appendEvents(trx, store, organizationId, tick.firstSequence, events.rows);
    return result;
  } finally {
    collected.delete(trx);
  }
}

/** `arranged` (the same events in another order) with the ids moved so that they still ascend with the sequence. */
function keepingIdOrder(original: readonly EventToAppend[], arranged: readonly EventToAppend[]): EventToAppend[] {
  return arranged.map((row, i) => ({ ...row, id: original[i]!.id }));
}

/**
 * The events of a batch of customer writes in the order the same writes one at a time record them: each
 * customer's events together, customers in `order` (stable within a customer; events of no customer in the
 * batch last).
 */
export function byCustomerOrder(order: readonly string[]): (rows: readonly EventToAppend[]) => EventToAppend[] {
  const position = new Map(order.map((id, i) => [id, i]));
  const rank = (row: EventToAppend) =>
    (row.customerId === null ? undefined : position.get(row.customerId)) ?? order.length;
  return (rows) =>
    rows
      .map((row, i) => ({ row, i, rank: rank(row) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map(({ row }) => row);
}

/**
 * Appends the events of a write to the organization's log, in the write's
 * transaction. The caller must have called `advanceOrganizationClock` first:
 * sequences are reserved here, under that lock, only for events actually
 * written, so the log has no gaps. Inside `writeInOrganization` they are
 * collected and appended when the write's work is done.
 */
export async function recordEvents(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  now: number,
  events: readonly DomainEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const collecting = collected.get(trx);
  if (collecting?.organizationId === organizationId) {
    collecting.rows.push(...toAppend({ id: organizationId, name: collecting.tick.name }, now, events));
    return;
  }
  const { firstSequence, organization } = await reserveEventSequences(trx, organizationId, events.length);
  await appendEvents(trx, store, organizationId, firstSequence, toAppend(organization, now, events));
}

/** The personal data in a stored event payload replaced by the bare id (a payment's customer, in payment events). */
export function scrubEventPayload(payload: string, customerId: string): string {
  const parsed = JSON.parse(payload) as Record<string, unknown>;
  const payment = parsed.payment as Record<string, unknown> | undefined;
  if (payment && typeof payment === 'object') {
    if (payment.customer !== undefined) payment.customer = { id: customerId };
  } else parsed.customer = { id: customerId };
  return JSON.stringify(parsed);
}
