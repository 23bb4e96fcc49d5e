import { describe, expect, it } from 'vitest';
import { formatMillis, formatSeconds, isCalendarDate, parseTimestamp } from './time.js';

describe('time formats', () => {
  it('formats customer timestamps to the second and statistics with milliseconds', () => {
    const ms = Date.parse('2021-10-20T14:51:16.999Z');
    expect(formatSeconds(ms)).toBe('2021-10-20T14:51:16Z');
    expect(formatMillis(ms)).toBe('2021-10-20T14:51:16.999Z');
    expect(formatSeconds(0)).toBe('1970-01-01T00:00:00Z');
  });

  it('parses RFC 3339 with an offset and rejects everything else', () => {
    expect(parseTimestamp('2021-10-20T14:51:16Z')).toBe(Date.parse('2021-10-20T14:51:16Z'));
    expect(parseTimestamp('2021-10-21T00:51:16+10:00')).toBe(Date.parse('2021-10-20T14:51:16Z'));
    expect(parseTimestamp('2021-10-20T14:51:16.123456Z')).toBe(Date.parse('2021-10-20T14:51:16.123Z'));
    for (const bad of [
      '2021-10-20',
      '2021-10-20T14:51:16',
      '2021-02-30T00:00:00Z',
      '2021-10-20T24:00:00Z',
      'now',
      '',
    ]) {
      expect(parseTimestamp(bad), bad).toBeUndefined();
    }
  });

  it('validates calendar dates', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('2021-1-01')).toBe(false);
    expect(isCalendarDate('0000-01-01')).toBe(false);
  });
});
