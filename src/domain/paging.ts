import { createHash } from 'node:crypto';
import { badRequest } from '../errors.js';
import { FIRST_PAGE_KEY } from '../store/repositories/customer-repository.js';

/**
 * Opaque keyset cursors: `<base64url(JSON)>.<check>`. The JSON holds a version,
 * a fingerprint of the query the cursor belongs to, and the sort key of the
 * last row served. The check detects tampering and truncation; the
 * fingerprint rejects a cursor reused with other parameters.
 */
const CURSOR_VERSION = 1;
const CHECK_KEY = 'customers-api/cursor/v1';

export type CursorKey = readonly (string | number)[];

function check(payload: string): string {
  return createHash('sha256').update(CHECK_KEY).update(payload).digest('base64url').slice(0, 12);
}

/** Identifies the query a cursor was made for: the resource plus every parameter but `after` and `limit`. */
export function fingerprint(...parts: (string | undefined)[]): string {
  return createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\u0001'))
    .digest('base64url')
    .slice(0, 10);
}

/** `<base64url(JSON)>.<check>`: the envelope of every cursor, listing cursors included. */
export function sealCursor(value: unknown): string {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${payload}.${check(payload)}`;
}

/** The value a `sealCursor` envelope holds; undefined when it is not one or was altered. */
export function unsealCursor(cursor: string): unknown {
  const dot = cursor.indexOf('.');
  if (dot <= 0) return undefined;
  const payload = cursor.slice(0, dot);
  if (check(payload) !== cursor.slice(dot + 1)) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export const invalidCursor = () =>
  badRequest('The after cursor is invalid; use the X-Next-Page URL or its after parameter as given', [
    { field: 'after', message: 'invalid cursor' },
  ]);

export function encodeCursor(queryFingerprint: string, key: CursorKey): string {
  return sealCursor([CURSOR_VERSION, queryFingerprint, ...key]);
}

/**
 * Decodes a cursor made by `encodeCursor` for the same query. `shape` lists
 * the expected type of each key part.
 */
export function decodeCursor(
  cursor: string,
  queryFingerprint: string,
  shape: readonly ('string' | 'number')[],
): CursorKey {
  const invalid = invalidCursor;
  const parsed = unsealCursor(cursor);
  if (!Array.isArray(parsed) || parsed[0] !== CURSOR_VERSION || parsed.length !== shape.length + 2) throw invalid();
  if (parsed[1] !== queryFingerprint) {
    throw badRequest('The after cursor belongs to a query with other parameters', [
      { field: 'after', message: 'cursor does not match the other query parameters' },
    ]);
  }
  const key = parsed.slice(2) as unknown[];
  key.forEach((part, i) => {
    // 100: the longest points reference (ids are shorter).
    const ok = shape[i] === 'number' ? Number.isSafeInteger(part) : typeof part === 'string' && part.length <= 100;
    if (!ok) throw invalid();
  });
  return key as CursorKey;
}

/** Validates the optional `limit` extension against the endpoint's page size. */
/**
 * Where a page sorted by (time, id) starts: after the key the cursor holds, or before the first row. Lists of
 * customers, payments and points entries all page this way.
 */
export function timeKeysetAfter(after: string | undefined, queryFingerprint: string): [number, string] {
  return after
    ? (decodeCursor(after, queryFingerprint, ['number', 'string']) as [number, string])
    : [FIRST_PAGE_KEY.at, FIRST_PAGE_KEY.id];
}

export function parseLimit(raw: string | undefined, pageSize: number): number {
  if (raw === undefined) return pageSize;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > pageSize) {
    throw badRequest(`limit must be an integer from 1 to ${pageSize}`, [
      { field: 'limit', message: `must be an integer from 1 to ${pageSize}` },
    ]);
  }
  return limit;
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page; undefined on the last page. */
  next: string | undefined;
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only proves that
 * more exist, so no header is sent after an exactly full last page.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  queryFingerprint: string,
  keyOf: (row: R) => CursorKey,
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const served = more ? rows.slice(0, limit) : rows;
  const last = served[served.length - 1];
  return {
    items: served.map(map),
    next: more && last !== undefined ? encodeCursor(queryFingerprint, keyOf(last)) : undefined,
  };
}
