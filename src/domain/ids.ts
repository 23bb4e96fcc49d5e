import { monotonicFactory } from 'ulidx';

const nextUlid = monotonicFactory();

/** A new ULID; monotonic within this process so ids made in one millisecond still sort by creation. */
export function newId(now = Date.now()): string {
  return nextUlid(now);
}
