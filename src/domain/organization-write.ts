import type { Transaction } from 'kysely';
import { notFound } from '../errors.js';
import { advanceOrganizationClock } from '../store/repositories/organization-repository.js';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { collectEvents } from './events/event-log.js';
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

// The segment version each open write read with its clock (see `segmentVersionOf`).
const segmentVersions = new WeakMap<Transaction<Database>, number>();

/**
 * The organization's segment version as this write read it with its clock (under the organization lock), so the
 * segments it evaluates can come from memory when they were loaded at the same version. Undefined outside
 * `writeInOrganization`, and after `forgetSegmentVersion` (the write changed segments itself: the version it read
 * no longer describes them).
 */
export function segmentVersionOf(trx: Transaction<Database>): number | undefined {
  return segmentVersions.get(trx);
}

/** Call when the write creates, renames, refilters or deletes a segment (the triggers bump the stored version). */
export function forgetSegmentVersion(trx: Transaction<Database>): void {
  segmentVersions.delete(trx);
}

type WriteWork<T> = (trx: Transaction<Database>, now: number) => Promise<T>;

export interface WriteOptions {
  /**
   * How many events the write usually records: their sequences are reserved with the clock, in the same statement.
   * Any other number is still right (the difference costs one statement); 0 by default.
   */
  events?: number;
}

/**
 * Runs one write of an organization as a transaction that first takes the
 * organization's place in commit order. `now` is the write's timestamp
 * (updatedAt, occurredAt); events recorded with it get the next sequences,
 * and are appended together when `work` is done (`collectEvents`).
 * After the commit it notifies the store's write signal (`writeSignalOf`).
 */
export async function writeInOrganization<T>(
  store: Store,
  organizationId: string,
  work: (trx: Transaction<Database>, now: number) => Promise<T>,
): Promise<T>;
export async function writeInOrganization<T>(
  store: Store,
  organizationId: string,
  options: WriteOptions,
  work: (trx: Transaction<Database>, now: number) => Promise<T>,
): Promise<T>;
export async function writeInOrganization<T>(
  store: Store,
  organizationId: string,
  ...rest: [WriteWork<T>] | [WriteOptions, WriteWork<T>]
): Promise<T> {
  const [options, work] = rest.length === 1 ? [{}, rest[0]] : rest;
  const events = options.events ?? 0;
  const result = await store.db.transaction().execute(async (trx) => {
    const tick = await advanceOrganizationClock(trx, store, organizationId, events);
    if (!tick) throw notFound('Organization');
    segmentVersions.set(trx, tick.segmentVersion);
    return collectEvents(trx, store, organizationId, tick, events, () => work(trx, tick.now));
  });
  // Committed: this process's dispatcher delivers its events now rather than at its next poll.
  writeSignalOf(store).notify();
  return result;
}
