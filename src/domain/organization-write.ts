import type { Transaction } from 'kysely';
import { notFound } from '../errors.js';
import { advanceOrganizationClock } from '../store/repositories/organization-repository.js';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/store.js';

/**
 * Runs one write of an organization as a transaction that first takes the
 * organization's place in commit order. `now` is the write's timestamp
 * (updatedAt, occurredAt); events recorded with it get the next sequences.
 */
export async function writeInOrganization<T>(
  store: Store,
  organizationId: string,
  work: (trx: Transaction<Database>, now: number) => Promise<T>,
): Promise<T> {
  return store.db.transaction().execute(async (trx) => {
    const tick = await advanceOrganizationClock(trx, store, organizationId, 0);
    if (!tick) throw notFound('Organization');
    return work(trx, tick.now);
  });
}
