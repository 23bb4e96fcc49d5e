import { LRUCache } from 'lru-cache';
import type { Principal } from './token-service.js';

/** Entries per kind (valid, unknown) per process; past that the least recently used of that kind goes. */
const MAX_ENTRIES = 10_000;

export interface TokenCache {
  /** The cached answer for a bearer token: its principal, null when it is unknown or revoked, undefined when not cached. */
  get(token: string): Principal | null | undefined;
  set(token: string, principal: Principal | null): void;
  /** Drops the entries of one token (after it is revoked here). */
  forget(tokenId: string): void;
}

/**
 * Bearer token answers kept for `ttlMs` (0 turns caching off), so a revoked
 * token stops working within that time and a flood of bad tokens does not
 * reach the database. Valid and unknown tokens sit in separate bounded LRUs:
 * a burst of distinct bad tokens can only push out other bad tokens, never the
 * principals of the clients that are working.
 */
export function createTokenCache(options: { ttlMs: number; maxEntries?: number }): TokenCache {
  if (options.ttlMs <= 0) return { get: () => undefined, set: () => undefined, forget: () => undefined };
  const max = options.maxEntries ?? MAX_ENTRIES;
  // Keyed by the token itself (memory only), so a cache hit costs no SHA-256.
  const valid = new LRUCache<string, Principal>({ max, ttl: options.ttlMs });
  const unknown = new LRUCache<string, true>({ max, ttl: options.ttlMs });
  return {
    get: (token) => valid.get(token) ?? (unknown.has(token) ? null : undefined),
    set(token, principal) {
      if (principal === null) unknown.set(token, true);
      else valid.set(token, principal);
    },
    forget(tokenId) {
      for (const [token, principal] of valid.entries()) if (principal.tokenId === tokenId) valid.delete(token);
    },
  };
}
