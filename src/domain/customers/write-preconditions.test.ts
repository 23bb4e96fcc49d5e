import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { hashRequest, ifMatchAllows, parseIdempotencyKey } from './write-preconditions.js';

describe('parseIdempotencyKey', () => {
  it('accepts 1 to 255 visible ASCII characters', () => {
    expect(parseIdempotencyKey('a')).toBe('a');
    expect(parseIdempotencyKey('order-123:retry/1')).toBe('order-123:retry/1');
    expect(parseIdempotencyKey('x'.repeat(255))).toHaveLength(255);
  });
  it.each(['', 'x'.repeat(256), 'has space', 'tab\t', 'ünïcode'])('refuses %j with a 400', (key) => {
    expect(() => parseIdempotencyKey(key)).toThrow(AppError);
  });
});

describe('hashRequest', () => {
  it('ignores key order at every depth but not values', () => {
    expect(hashRequest({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(hashRequest({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(hashRequest({ a: 1 })).not.toBe(hashRequest({ a: 2 }));
    expect(hashRequest({ d: [1, 2] })).not.toBe(hashRequest({ d: [2, 1] }));
    expect(hashRequest({ a: 1 })).not.toBe(hashRequest({ a: 1, b: null }));
  });
});

describe('ifMatchAllows', () => {
  const etag = '"abc"';
  it('matches *, the tag and a list holding it', () => {
    expect(ifMatchAllows('*', etag)).toBe(true);
    expect(ifMatchAllows(' * ', etag)).toBe(true);
    expect(ifMatchAllows('"abc"', etag)).toBe(true);
    expect(ifMatchAllows('"x", "abc"', etag)).toBe(true);
  });
  it('refuses other tags, unquoted forms and weak validators (strong comparison)', () => {
    expect(ifMatchAllows('W/"abc"', etag)).toBe(false);
    expect(ifMatchAllows('"x", W/"abc"', etag)).toBe(false);
    expect(ifMatchAllows('W/"abc"', 'W/"abc"')).toBe(false);
    expect(ifMatchAllows('"abd"', etag)).toBe(false);
    expect(ifMatchAllows('abc', etag)).toBe(false);
    expect(ifMatchAllows('"x", "y"', etag)).toBe(false);
    expect(ifMatchAllows('', etag)).toBe(false);
  });
});
