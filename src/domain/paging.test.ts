import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { decodeCursor, encodeCursor, fingerprint, parseLimit, toPage } from './paging.js';

describe('cursors', () => {
  const fp = fingerprint('customers', 'org', 'created', 'none', '');

  it('round-trips a key and is URL-safe', () => {
    const cursor = encodeCursor(fp, [1634741476000, '01FCCGYZA9JPQ97HBSTKW0KT7P']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, fp, ['number', 'string'])).toEqual([1634741476000, '01FCCGYZA9JPQ97HBSTKW0KT7P']);
  });

  it('rejects tampering, other queries and wrong shapes as bad_request', () => {
    const cursor = encodeCursor(fp, [5, 'a']);
    const expectBad = (fn: () => unknown) => {
      try {
        fn();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe('bad_request');
      }
    };
    expectBad(() => decodeCursor(cursor.slice(0, -1), fp, ['number', 'string']));
    expectBad(() => decodeCursor(`x${cursor}`, fp, ['number', 'string']));
    expectBad(() => decodeCursor(cursor, fingerprint('customers', 'org', 'updated', 'none', ''), ['number', 'string']));
    expectBad(() => decodeCursor(cursor, fp, ['string', 'string']));
    expectBad(() => decodeCursor(cursor, fp, ['number']));
    expectBad(() => decodeCursor(encodeCursor(fp, [1.5, 'a']), fp, ['number', 'string']));
  });

  it('distinguishes fingerprints of adjacent parameters', () => {
    expect(fingerprint('a', 'bc')).not.toBe(fingerprint('ab', 'c'));
  });
});

describe('parseLimit', () => {
  it('defaults to the page size and bounds the extension', () => {
    expect(parseLimit(undefined, 1000)).toBe(1000);
    expect(parseLimit('1', 1000)).toBe(1);
    expect(parseLimit('1000', 1000)).toBe(1000);
    expect(() => parseLimit('0', 1000)).toThrow(AppError);
    expect(() => parseLimit('1001', 1000)).toThrow(AppError);
  });
});

describe('toPage', () => {
  it('uses the extra row only to know that more exist', () => {
    const page = toPage(
      [1, 2, 3],
      2,
      'fp',
      (n) => [n],
      (n) => n * 10,
    );
    expect(page.items).toEqual([10, 20]);
    expect(page.next).toBeDefined();
    expect(decodeCursor(page.next!, 'fp', ['number'])).toEqual([2]);
    expect(
      toPage(
        [1, 2],
        2,
        'fp',
        (n) => [n],
        (n) => n,
      ).next,
    ).toBeUndefined();
  });
});
