import type { InsightInterval } from '../../contract/insights.js';

/** A calendar date in some time zone; `month` 1-12. */
interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export interface Bucket {
  /** Epoch ms of the bucket's first instant (local midnight). */
  start: number;
  /** Epoch ms of the next bucket's start (excluded). */
  end: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** The wall-clock time at `ms` in the zone, read as if it were UTC (epoch ms). */
function wallClock(timeZone: string, ms: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatIn(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day, parts.hour, parts.minute, parts.second);
}

function localDateOf(timeZone: string, ms: number): LocalDate {
  const wall = new Date(wallClock(timeZone, ms));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/**
 * The first instant of the local date: its midnight, or the first time after it where the zone skips midnight
 * (a daylight-saving jump at 00:00, as in America/Santiago). Two passes over the offset, as the offset at the
 * guess can differ from the one at the answer.
 */
function startOfLocalDate(timeZone: string, date: LocalDate): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  let ms = wall - (wallClock(timeZone, wall) - wall);
  ms = wall - (wallClock(timeZone, ms) - ms);
  // A skipped midnight lands before the date starts: move to the date's first existing instant.
  if (wallClock(timeZone, ms) < wall) ms += wall - wallClock(timeZone, ms);
  return ms;
}

/** The date `count` buckets after (or before, when negative) the bucket starting on `date`. */
function shiftDate(date: LocalDate, interval: InsightInterval, count: number): LocalDate {
  const shifted =
    interval === 'month'
      ? new Date(Date.UTC(date.year, date.month - 1 + count, 1))
      : new Date(Date.UTC(date.year, date.month - 1, date.day + count * (interval === 'week' ? 7 : 1)));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** The local date on which the bucket holding `ms` starts: the day itself, its ISO week's Monday, its month's 1st. */
function bucketDateOf(timeZone: string, interval: InsightInterval, ms: number): LocalDate {
  const date = localDateOf(timeZone, ms);
  if (interval === 'day') return date;
  if (interval === 'month') return { ...date, day: 1 };
  const weekday = (new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7; // Monday 0
  return shiftDate(date, 'day', -weekday);
}

/** Epoch ms of the start of the bucket `count` buckets before the one that holds `ms`. */
export function bucketStartBefore(timeZone: string, interval: InsightInterval, ms: number, count: number): number {
  return startOfLocalDate(timeZone, shiftDate(bucketDateOf(timeZone, interval, ms), interval, -count));
}

/**
 * The buckets covering [from, to), widened to whole buckets of the zone's calendar. Undefined when there would be
 * more than `maxBuckets` of them.
 */
export function bucketsCovering(
  timeZone: string,
  interval: InsightInterval,
  from: number,
  to: number,
  maxBuckets: number,
): Bucket[] | undefined {
  const buckets: Bucket[] = [];
  let date = bucketDateOf(timeZone, interval, from);
  let start = startOfLocalDate(timeZone, date);
  while (start < to) {
    if (buckets.length === maxBuckets) return undefined;
    date = shiftDate(date, interval, 1);
    const end = startOfLocalDate(timeZone, date);
    buckets.push({ start, end });
    start = end;
  }
  return buckets;
}
