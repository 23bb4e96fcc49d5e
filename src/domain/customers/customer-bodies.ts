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
 * Bounded by a number of bodies (first in, first out): a full sync of a large organization passes through it
 * without growing the process, while the pages that are read again and again stay in it.
 */
export interface CustomerBodyCache {
  /** The body made from this version of the customer, if kept. */
  get(organizationId: string, id: string, updatedAt: number): string | undefined;
  set(organizationId: string, id: string, updatedAt: number, body: string): void;
  /** Whether the page starting at this key was made from kept bodies, or has just been made into them. */
  isWarm(pageKey: string): boolean;
  markWarm(pageKey: string): void;
  readonly size: number;
}

interface Entry {
  at: number;
  body: string;
}

/** About 450 bytes a customer: 20,000 bodies are ~10 MB. */
export const DEFAULT_CUSTOMER_BODIES = 20_000;
const WARM_PAGES = 1024;

export function createCustomerBodyCache(maxBodies = DEFAULT_CUSTOMER_BODIES): CustomerBodyCache {
  const bodies = new Map<string, Entry>();
  const warm = new Set<string>();
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
    isWarm: (pageKey) => warm.has(pageKey),
    markWarm(pageKey) {
      if (maxBodies <= 0 || warm.has(pageKey)) return;
      warm.add(pageKey);
      if (warm.size > WARM_PAGES) warm.delete(warm.values().next().value!);
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
