import { badRequest } from '../../errors.js';
import type { EventOrder, FeedEvent } from '../../contract/events.js';
import { createEventReads, type EventRow } from '../../store/repositories/event-repository.js';
import type { Store } from '../../store/store.js';
import { decodeCursor, fingerprint, toPage, type Page } from '../paging.js';
import { formatMillis } from '../time.js';

export const EVENT_PAGE_SIZE = 100;

export function eventRowToFeedEvent(row: EventRow): FeedEvent {
  const payload = JSON.parse(row.payload) as Pick<FeedEvent, 'event' | 'organization'> & Record<string, unknown>;
  return { id: row.id, sequence: row.sequence, occurredAt: formatMillis(row.occurred_at), ...payload };
}

export interface ListEventsOptions {
  after?: string | undefined;
  /** Extension: resume after a sequence number the consumer stored; ignored when `after` is given. */
  afterSequence?: string | undefined;
  limit?: number | undefined;
  /** Extension: only the events about this customer (those `event_customers` records for them). */
  customerId?: string | undefined;
  /** Extension: `oldest` first (the default) or `newest` first. */
  order?: EventOrder | undefined;
}

export function createEventService(store: Store) {
  const reads = createEventReads(store);
  return {
    async listEvents(organizationId: string, options: ListEventsOptions): Promise<Page<FeedEvent>> {
      const limit = options.limit ?? EVENT_PAGE_SIZE;
      const order = options.order ?? 'oldest';
      const { customerId } = options;
      // The whole feed oldest first keeps the fingerprint its cursors always had, so stored X-Next-Page URLs still work.
      const queryId =
        order === 'oldest' && customerId === undefined
          ? fingerprint('events', organizationId)
          : fingerprint('events', organizationId, order, customerId);
      // Exclusive bound: after it oldest first, before it newest first.
      let from = order === 'oldest' ? 0 : Number.MAX_SAFE_INTEGER;
      // `after` wins over `afterSequence`: the X-Next-Page URL of a page asked for by sequence carries both.
      if (options.after !== undefined) {
        [from] = decodeCursor(options.after, queryId, ['number']) as [number];
      } else if (options.afterSequence !== undefined) {
        if (order === 'newest') {
          throw badRequest('afterSequence reads the feed oldest first; with order=newest follow X-Next-Page instead', [
            { field: 'afterSequence', message: 'not with order=newest' },
          ]);
        }
        from = Number(options.afterSequence);
        if (!Number.isSafeInteger(from) || from < 0) {
          throw badRequest('afterSequence must be a non-negative integer', [
            { field: 'afterSequence', message: 'must be a non-negative integer' },
          ]);
        }
      }
      const rows = await reads.listPage(organizationId, { customerId, order, from, limit: limit + 1 });
      return toPage(rows, limit, queryId, (row) => [row.sequence], eventRowToFeedEvent);
    },
  };
}
export type EventService = ReturnType<typeof createEventService>;
