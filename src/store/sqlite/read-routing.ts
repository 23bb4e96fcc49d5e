import type { Store } from '../store.js';

/** One file, one server: every read is current, so there is nothing to route and no token to hand out. */
export const sqliteReadRouting: Pick<
  Store,
  'readScope' | 'readServed' | 'writePosition' | 'replicaStatuses' | 'readStats'
> = {
  readScope: (_token, work) => work(),
  readServed: () => undefined,
  writePosition: () => Promise.resolve(undefined),
  replicaStatuses: () => Promise.resolve([]),
  readStats: () => undefined,
};
