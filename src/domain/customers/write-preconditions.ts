import { createHash } from 'node:crypto';
import { badRequest } from '../../errors.js';

/** Validates an Idempotency-Key header: 1 to 255 visible ASCII characters. */
export function parseIdempotencyKey(raw: string): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(raw)) {
    throw badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  return raw;
}

/** What an erased customer's key is kept as: its SHA-256, so the tombstone holds nothing the client sent. */
export function hashIdempotencyKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Hash of a JSON request body with object keys sorted, so key order does not make two equal bodies differ. */
export function hashRequest(body: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('base64url');
}

/**
 * RFC 9110 If-Match (13.1.1): `*` matches any current representation; otherwise one of the listed tags must equal
 * ours by the strong comparison (8.8.3.2), so a weak `W/"..."` validator never matches, whatever its opaque part.
 */
export function ifMatchAllows(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const ours = etag.trim();
  if (ours.startsWith('W/')) return false;
  return header.split(',').some((tag) => tag.trim() === ours);
}
