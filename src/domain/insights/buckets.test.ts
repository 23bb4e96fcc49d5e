import { describe, expect, it } from 'vitest';
import { bucketsCovering, bucketStartBefore } from './buckets.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

describe('insight buckets', () => {
  it('days follow local midnight across a daylight-saving change (Melbourne, 2026-10-04: 23 hours)', () => {
    const buckets = bucketsCovering(
      'Australia/Melbourne',
      'day',
      at('2026-10-03T05:00:00Z'),
      at('2026-10-05T05:00:00Z'),
      10,
    )!;
    expect(buckets.map((b) => iso(b.start))).toEqual([
      '2026-10-02T14:00:00.000Z',
      '2026-10-03T14:00:00.000Z',
      '2026-10-04T13:00:00.000Z',
    ]);
    expect(buckets.map((b) => (b.end - b.start) / 3_600_000)).toEqual([24, 23, 24]);
  });

  it('weeks start on Monday, months on the 1st, and the last bucket holds the instant before `to`', () => {
    const weeks = bucketsCovering('UTC', 'week', at('2026-12-02T10:00:00Z'), at('2026-12-14T00:00:00Z'), 10)!;
    expect(weeks.map((b) => iso(b.start))).toEqual(['2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z']);
    const months = bucketsCovering(
      'America/New_York',
      'month',
      at('2026-01-15T00:00:00Z'),
      at('2026-03-02T00:00:00Z'),
      10,
    )!;
    expect(months.map((b) => iso(b.start))).toEqual([
      '2026-01-01T05:00:00.000Z',
      '2026-02-01T05:00:00.000Z',
      '2026-03-01T05:00:00.000Z',
    ]);
    expect(iso(months.at(-1)!.end)).toBe('2026-04-01T04:00:00.000Z');
  });

  it('a day whose midnight the zone skips starts at its first existing instant (Santiago, 2026-09-06)', () => {
    const [bucket] = bucketsCovering(
      'America/Santiago',
      'day',
      at('2026-09-06T12:00:00Z'),
      at('2026-09-06T13:00:00Z'),
      5,
    )!;
    // Clocks jump from 00:00 -04:00 to 01:00 -03:00.
    expect(iso(bucket!.start)).toBe('2026-09-06T04:00:00.000Z');
    expect((bucket!.end - bucket!.start) / 3_600_000).toBe(23);
  });

  it('refuses more buckets than allowed and counts back whole buckets', () => {
    expect(bucketsCovering('UTC', 'day', at('2026-01-01T00:00:00Z'), at('2026-01-11T00:00:00Z'), 9)).toBeUndefined();
    expect(bucketsCovering('UTC', 'day', at('2026-01-01T00:00:00Z'), at('2026-01-11T00:00:00Z'), 10)).toHaveLength(10);
    expect(iso(bucketStartBefore('UTC', 'week', at('2026-12-02T10:00:00Z'), 2))).toBe('2026-11-16T00:00:00.000Z');
  });
});
