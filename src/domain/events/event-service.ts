import { badRequest } from '../../errors.js';
import type { FeedEvent } from '../../contract/events.js';
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
}

export function createEventService(store: Store) {
  const reads = createEventReads(store);
  return {
    async listEvents(organizationId: string, options: ListEventsOptions): Promise<Page<FeedEvent>> {
      const limit = options.limit ?? EVENT_PAGE_SIZE;
      const queryId = fingerprint('events', organizationId);
      let afterSequence = 0;
      // `after` wins over `afterSequence`: the X-Next-Page URL of a page asked for by sequence carries both.
      if (options.after !== undefined) {
        [afterSequence] = decodeCursor(options.after, queryId, ['number']) as [number];
      } else if (options.afterSequence !== undefined) {
        afterSequence = Number(options.afterSequence);
        if (!Number.isSafeInteger(afterSequence) || afterSequence < 0) {
          throw badRequest('afterSequence must be a non-negative integer', [
            { field: 'afterSequence', message: 'must be a non-negative integer' },
          ]);
        }
      }
      const rows = await reads.listPage(organizationId, afterSequence, limit + 1);
      return toPage(rows, limit, queryId, (row) => [row.sequence], eventRowToFeedEvent);
    },
  };
}
export type EventService = ReturnType<typeof createEventService>;
