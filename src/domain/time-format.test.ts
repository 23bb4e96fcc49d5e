import { describe, expect, it } from 'vitest';
import { formatMillis, formatSeconds } from './time.js';

// The reference: what the formatters produced before they were made fast.
const referenceSeconds = (ms: number) =>
  new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString().replace('.000Z', 'Z');
const referenceMillis = (ms: number) => new Date(ms).toISOString();

/** mulberry32, so a failure names a reproducible value. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('formatSeconds and formatMillis', () => {
  it('match toISOString at the edges of days, months, leap years, centuries and the fast range', () => {
    const edges = [
      0,
      999,
      1000,
      -1,
      -999,
      -1000,
      -1001,
      86_399_999,
      86_400_000,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(2000, 2, 1),
      Date.UTC(1900, 1, 28, 12),
      Date.UTC(1900, 2, 1),
      Date.UTC(2100, 1, 28, 23, 59, 59, 999),
      Date.UTC(2100, 2, 1),
      Date.UTC(2024, 11, 31, 23, 59, 59, 500),
      Date.UTC(2025, 0, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(1600, 0, 1),
      Date.UTC(1, 0, 1),
      -62_167_219_200_000,
      -62_167_219_200_001,
      253_402_300_799_999,
      253_402_300_800_000,
      8.64e15,
      -8.64e15,
    ];
    for (const ms of edges) {
      expect(formatSeconds(ms), String(ms)).toBe(referenceSeconds(ms));
      expect(formatMillis(ms), String(ms)).toBe(referenceMillis(ms));
    }
  });

  it('match toISOString for 200,000 random instants from year 0 to 9999', () => {
    const random = createRandom(42);
    for (let i = 0; i < 200_000; i++) {
      const ms = Math.floor(-62_167_219_200_000 + random() * (253_402_300_799_999 + 62_167_219_200_000));
      const seconds = formatSeconds(ms);
      const millis = formatMillis(ms);
      if (seconds !== referenceSeconds(ms) || millis !== referenceMillis(ms)) {
        expect({ ms, seconds, millis }).toEqual({ ms, seconds: referenceSeconds(ms), millis: referenceMillis(ms) });
      }
    }
  });

  it('keep the documented shapes', () => {
    expect(formatSeconds(Date.UTC(2021, 9, 20, 14, 51, 16, 999))).toBe('2021-10-20T14:51:16Z');
    expect(formatMillis(Date.UTC(2021, 7, 23, 2, 6, 24))).toBe('2021-08-23T02:06:24.000Z');
  });
});
