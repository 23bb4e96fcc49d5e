// Formatting dates was a sixth of the CPU of serving a page of 1000 customers (five timestamps
// a customer, each a Date plus toISOString). These build the same strings from integer
// arithmetic and lookup tables; outside years 0000-9999 (where toISOString switches to
// six-digit years) they fall back to Date.
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const MIN_FAST_MS = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const MAX_FAST_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const MS_PER_DAY = 86_400_000;

/** `YYYY-MM-DDTHH:MM:SS` of an epoch-ms in the fast range, from days since the epoch (Hinnant's civil_from_days). */
function formatToSecond(ms: number): string {
  const days = Math.floor(ms / MS_PER_DAY);
  const msOfDay = ms - days * MS_PER_DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const seconds = Math.floor(msOfDay / 1000);
  const hour = Math.floor(seconds / 3600);
  const minute = Math.floor((seconds - hour * 3600) / 60);
  const second = seconds - hour * 3600 - minute * 60;
  return `${PAD2[Math.floor(year / 100)]}${PAD2[year % 100]}-${PAD2[month]}-${PAD2[day]}T${PAD2[hour]}:${PAD2[minute]}:${PAD2[second]}`;
}

/** Customer and organization timestamps: RFC 3339 UTC to the second, `2021-10-20T14:51:16Z`. */
export function formatSeconds(ms: number): string {
  if (ms >= MIN_FAST_MS && ms <= MAX_FAST_MS && Number.isInteger(ms)) return `${formatToSecond(ms)}Z`;
  return new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString().replace('.000Z', 'Z');
}

/** Statistics timestamps keep milliseconds, `2021-08-23T02:06:24.000Z`. */
export function formatMillis(ms: number): string {
  if (ms >= MIN_FAST_MS && ms <= MAX_FAST_MS && Number.isInteger(ms)) {
    return `${formatToSecond(ms)}.${PAD3[ms - Math.floor(ms / 1000) * 1000]}Z`;
  }
  return new Date(ms).toISOString();
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses an RFC 3339 timestamp with an explicit offset; returns epoch milliseconds or undefined. */
export function parseTimestamp(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as unknown as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysInMonth(y!, mo!) || h! > 23 || mi! > 59 || s! > 59) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Validates a calendar date `YYYY-MM-DD` (no time, no offset). */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}
