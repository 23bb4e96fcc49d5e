import type { Transaction } from 'kysely';
import { notFound } from '../errors.js';
import { advanceOrganizationClock } from '../store/repositories/organization-repository.js';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { createWriteSignal, type WriteSignal } from '../webhooks/write-signal.js';

// One signal per store: every service writing through it shares it, and so does the process's dispatcher.
const signals = new WeakMap<Store, WriteSignal>();

/** What `writeInOrganization` notifies after each commit on `store`; the server wakes its webhook dispatcher on it. */
export function writeSignalOf(store: Store): WriteSignal {
  let signal = signals.get(store);
  if (!signal) {
    signal = createWriteSignal();
    signals.set(store, signal);
  }
  return signal;
}

/**
 * Runs one write of an organization as a transaction that first takes the
 * organization's place in commit order. `now` is the write's timestamp
 * (updatedAt, occurredAt); events recorded with it get the next sequences.
 * After the commit it notifies the store's write signal (`writeSignalOf`).
 */
export async function writeInOrganization<T>(
  store: Store,
  organizationId: string,
  work: (trx: Transaction<Database>, now: number) => Promise<T>,
): Promise<T> {
  const result = await store.db.transaction().execute(async (trx) => {
    const tick = await advanceOrganizationClock(trx, store, organizationId, 0);
    if (!tick) throw notFound('Organization');
    return work(trx, tick.now);
  });
  // Committed: this process's dispatcher delivers its events now rather than at its next poll.
  writeSignalOf(store).notify();
  return result;
}
