import type { Customer } from '../../src/contract/customers.js';
import type { FeedEvent } from '../../src/contract/events.js';

export interface Page<T> {
  status: number;
  headers: Headers;
  body: T;
}

export type Get = <T>(path: string, run: number) => Promise<Page<T>>;

/**
 * The seed's "Syncing customers on a schedule" recipe (plain requests, no token, following X-Next-Page until a
 * page passes the previous run's watermark), keeping a mirror of every customer it saw and what each run saw.
 */
export function createSyncRecipe(orgId: string, get: Get, pageSize = 3) {
  const mirror = new Map<string, Customer>();
  const runs: { startedAt: number; seen: Customer[] }[] = [];
  let watermark: Date | null = null;
  return {
    mirror,
    runs,
    /** One scheduled run; `startedAt` is the caller's clock (e.g. how many writes were acknowledged). */
    async syncOnce(startedAt: number) {
      const customers: Customer[] = [];
      let path: string | null = `/organizations/${orgId}/customers?sort=updated&limit=${pageSize}`;
      do {
        const response: Page<Customer[]> = await get<Customer[]>(path, runs.length);
        if (response.status !== 200) throw new Error(`sync page: ${response.status}`);
        path = response.headers.get('x-next-page');
        customers.push(...response.body);
        const last = customers[customers.length - 1];
        if (!last || (watermark && new Date(last.updatedAt!) < watermark)) path = null;
      } while (path);
      for (const customer of customers) mirror.set(customer.id, customer);
      watermark = customers[0] ? new Date(customers[0].updatedAt!) : watermark;
      runs.push({ startedAt, seen: customers });
    },
  };
}

/** A change feed consumer: follows the pages, then resumes from the last sequence it saw; records any gap. */
export function createFeedFollower(orgId: string, get: Get) {
  const events: FeedEvent[] = [];
  const gaps: string[] = [];
  return {
    events,
    gaps,
    async follow() {
      let path: string | null = `/organizations/${orgId}/events?afterSequence=${events.at(-1)?.sequence ?? 0}`;
      while (path) {
        const response: Page<FeedEvent[]> = await get<FeedEvent[]>(path, 0);
        if (response.status !== 200) throw new Error(`feed page: ${response.status}`);
        for (const event of response.body) {
          const expected = (events.at(-1)?.sequence ?? 0) + 1;
          if (event.sequence !== expected) gaps.push(`expected ${expected}, got ${event.sequence}`);
          events.push(event);
        }
        path = response.headers.get('x-next-page');
      }
    },
  };
}

type Write = { customer: Customer; acknowledgedAt: number };
type Run = { startedAt: number; seen: Customer[] };

const sawAtOrAfter = (run: Run, write: Write) =>
  run.seen.some((c) => c.id === write.customer.id && c.updatedAt! >= write.customer.updatedAt!);

/** Writes that no run started after their acknowledgement saw, at their state or a later one: lost updates. */
export function missedWrites(writes: readonly Write[], runs: readonly Run[]): Write[] {
  return writes.filter(
    (write) => !runs.some((run) => run.startedAt >= write.acknowledgedAt && sawAtOrAfter(run, write)),
  );
}
