/**
 * Customers as the bytes a response carries, each made once per version of the customer and reused by every page
 * that shows that version.
 *
 * A body is kept with the `updated_at` it was made from. That value changes with every stored change of the
 * customer (statistics included) and never repeats within an organization (the ETag relies on the same fact), so a
 * body is served only while the row it was made from is still the current row: no write path has to know about
 * this cache, and a write by another process is followed as soon as its row is read.
 *
 * A page is written as UTF-8 straight into one buffer of its exact size, which the socket takes as it is: joining
 * the strings first (or keeping a Buffer per body) costs two to three times as much on a page of 1000.
 *
 * Bounded by a number of bodies (first in, first out), and only the bodies of a page read a second time are kept: a
 * full sync of a large organization passes through without filling it (keeping each page's bodies only to evict
 * them a few pages later cost more than it saved), while the pages that are read again and again stay in it.
 */
export interface CustomerBodyCache {
  /** The body made from this version of the customer, if kept. */
  get(organizationId: string, id: string, updatedAt: number): string | undefined;
  set(organizationId: string, id: string, updatedAt: number, body: string): void;
  /**
   * How many times the page starting at this key was read before (0, 1 or 2, meaning 2 or more), counting this
   * read. A page read once (a sync passing through) keeps nothing; read twice, its bodies are kept; from then on it
   * is read as versions first.
   */
  visit(pageKey: string): number;
  readonly size: number;
}

interface Entry {
  at: number;
  body: string;
}

/** About 450 bytes a customer: 20,000 bodies are ~10 MB. */
export const DEFAULT_CUSTOMER_BODIES = 20_000;
const VISITED_PAGES = 4096;

export function createCustomerBodyCache(maxBodies = DEFAULT_CUSTOMER_BODIES): CustomerBodyCache {
  const bodies = new Map<string, Entry>();
  const visits = new Map<string, number>();
  const keyOf = (organizationId: string, id: string) => `${organizationId}\u0000${id}`;
  return {
    get(organizationId, id, updatedAt) {
      const entry = bodies.get(keyOf(organizationId, id));
      return entry !== undefined && entry.at === updatedAt ? entry.body : undefined;
    },
    set(organizationId, id, updatedAt, body) {
      if (maxBodies <= 0) return;
      const key = keyOf(organizationId, id);
      const entry = bodies.get(key);
      if (entry !== undefined) {
        entry.at = updatedAt;
        entry.body = body;
        return;
      }
      bodies.set(key, { at: updatedAt, body });
      if (bodies.size > maxBodies) bodies.delete(bodies.keys().next().value!);
    },
    visit(pageKey) {
      if (maxBodies <= 0) return 0;
      const before = visits.get(pageKey);
      if (before === undefined) {
        visits.set(pageKey, 1);
        if (visits.size > VISITED_PAGES) visits.delete(visits.keys().next().value!);
        return 0;
      }
      if (before === 1) visits.set(pageKey, 2);
      return before;
    },
    get size() {
      return bodies.size;
    },
  };
}

/** The JSON array of the given JSON texts, `[a,b,...]`, as UTF-8. */
export function joinBodies(parts: readonly string[]): Buffer {
  let length = parts.length === 0 ? 2 : parts.length + 1;
  for (const part of parts) length += Buffer.byteLength(part);
  const out = Buffer.allocUnsafe(length);
  out[0] = 0x5b; // [
  let at = 1;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(parts[i]!, at);
  }
  out[at] = 0x5d; // ]
  return out;
}
