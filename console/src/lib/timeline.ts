import type { FeedEvent } from '../../../src/client/index.js';
import { displayValue as text, formatMoney, formatNumber } from './format.js';

/** One change of a field, as the timeline shows it: `from` / `to` are display text (— for none). */
export interface FieldChange {
  field: string;
  label: string;
  from: string;
  to: string;
}

export type TimelineKind = 'created' | 'profile' | 'points' | 'list' | 'payment' | 'erased';

/** A line of the customer's timeline, made from one event of the feed. */
export interface TimelineEntry {
  /** The event's id (unique, stable across pages: a key). */
  id: string;
  at: string;
  kind: TimelineKind;
  title: string;
  /** What changed, field by field: a profile change's fields, a points change's balances. */
  changes?: FieldChange[];
  /** One line more: a payment's location, a note that older events are needed to tell what changed. */
  detail?: string;
}

export interface TimelineOptions {
  /** The organization's currency, for payments without their own. */
  currency?: string | undefined;
  /** Whether the events reach back to the start of the customer's feed (no older page): the baseline is then known. */
  complete: boolean;
}

const PROFILE_LABELS: Record<string, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email',
  phoneNumber: 'Phone number',
  dob: 'Date of birth',
  gender: 'Gender',
  hasAgreedToMarketing: 'Agreed to marketing',
  metadata: 'Metadata',
};
/** Fields every change moves or that are not the profile's: never listed as a profile change. */
const NOT_PROFILE = new Set(['id', 'createdAt', 'updatedAt', 'statistics']);

const STATISTIC_LABELS = {
  pointsBalance: 'Points balance',
  totalPointsEarned: 'Points earned',
  totalPointsRedeemed: 'Points redeemed',
} as const;
type PointsStatistic = keyof typeof STATISTIC_LABELS;
type Points = Record<PointsStatistic, number>;

type Payload = Record<string, unknown>;

const isObject = (value: unknown): value is Payload =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The full customer a customer.created / customer.updated payload carries (not an erased customer's bare id). */
function fullCustomer(event: FeedEvent): Payload | undefined {
  if (event.event !== 'customer.created' && event.event !== 'customer.updated') return undefined;
  const customer = event.customer;
  return isObject(customer) && Object.keys(customer).some((key) => key !== 'id') ? customer : undefined;
}

/** The points statistics in a statistics payload (a statistics event's, or those inside a full customer). */
function pointsOf(statistics: unknown): Points | undefined {
  if (!isObject(statistics)) return undefined;
  const number = (key: PointsStatistic) => (typeof statistics[key] === 'number' ? statistics[key] : 0);
  return {
    pointsBalance: number('pointsBalance'),
    totalPointsEarned: number('totalPointsEarned'),
    totalPointsRedeemed: number('totalPointsRedeemed'),
  };
}

/** The profile fields that differ between two customer payloads; metadata key by key. */
export function profileChanges(before: Payload, after: Payload): FieldChange[] {
  const changes: FieldChange[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((key) => !NOT_PROFILE.has(key));
  const ordered = [
    ...Object.keys(PROFILE_LABELS).filter((key) => keys.includes(key)),
    ...keys.filter((key) => !(key in PROFILE_LABELS)).sort(),
  ];
  for (const field of ordered) {
    const from = before[field];
    const to = after[field];
    const label = PROFILE_LABELS[field] ?? field;
    if (isObject(from) || isObject(to)) {
      const a = isObject(from) ? from : {};
      const b = isObject(to) ? to : {};
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
        if (JSON.stringify(a[key]) !== JSON.stringify(b[key]))
          changes.push({ field: `${field}.${key}`, label: `${label} ${key}`, from: text(a[key]), to: text(b[key]) });
    } else if (JSON.stringify(from) !== JSON.stringify(to))
      changes.push({ field, label, from: text(from), to: text(to) });
  }
  return changes;
}

const points = (n: number) => `${formatNumber(n)} point${Math.abs(n) === 1 ? '' : 's'}`;

/** A points entry from two consecutive statistics; undefined when only the spend moved (its payment event says so). */
function pointsEntry(before: Points, after: Points): Pick<TimelineEntry, 'title' | 'changes'> | undefined {
  const earned = after.totalPointsEarned - before.totalPointsEarned;
  const redeemed = after.totalPointsRedeemed - before.totalPointsRedeemed;
  const balance = after.pointsBalance - before.pointsBalance;
  if (earned === 0 && redeemed === 0 && balance === 0) return undefined;
  const changes = (Object.keys(STATISTIC_LABELS) as PointsStatistic[])
    .filter((key) => before[key] !== after[key])
    .map((key) => ({
      field: key,
      label: STATISTIC_LABELS[key],
      from: formatNumber(before[key]),
      to: formatNumber(after[key]),
    }));
  // The ledger's four moves (statisticsDelta): anything else (an import setting statistics) is a plain change.
  const title =
    redeemed === 0 && earned === balance
      ? earned > 0
        ? `Earned ${points(earned)}`
        : `Earning of ${points(-earned)} reversed`
      : earned === 0 && redeemed === -balance
        ? redeemed > 0
          ? `Redeemed ${points(redeemed)}`
          : `Redemption of ${points(-redeemed)} reversed`
        : 'Points changed';
  return { title, changes };
}

function paymentEntry(event: FeedEvent, currency: string | undefined): Pick<TimelineEntry, 'title' | 'detail'> {
  const payment = isObject(event.payment) ? event.payment : {};
  const money = (key: string) => (typeof payment[key] === 'number' ? payment[key] : 0);
  const own = typeof payment.currency === 'string' ? payment.currency : currency;
  const paid = formatMoney(money('chargedAmount') + money('externalAmount'), own);
  const location = isObject(event.location) && typeof event.location.name === 'string' ? event.location.name : '';
  const at = location ? `at ${location}` : undefined;
  if (event.event === 'payment.refunded') {
    const refunded = formatMoney(money('refundedAmount'), own);
    return { title: `Payment refunded: ${refunded} of ${paid}`, ...(at ? { detail: at } : {}) };
  }
  return { title: `Paid ${paid}`, ...(at ? { detail: at } : {}) };
}

function listName(event: FeedEvent): string {
  const list = isObject(event.customerList) ? event.customerList : {};
  return typeof list.name === 'string' ? list.name : typeof list.id === 'string' ? list.id : '(a list)';
}

/**
 * The customer's timeline from their events in the feed, newest first (as `order=newest` serves them). A profile
 * change is the difference between its customer and the next older customer payload; a points change between its
 * statistics and the next older ones (a statistics event's, or a customer payload's from an earlier write: an import
 * writes a customer and its new statistics together, both already at the new values). When that older payload is not
 * among `events` (not loaded yet), the entry says so, unless `complete` says there is nothing older: then the first
 * statistics start from zero.
 */
export function timelineEntries(events: readonly FeedEvent[], options: TimelineOptions): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const zero: Points = { pointsBalance: 0, totalPointsEarned: 0, totalPointsRedeemed: 0 };
  // Oldest first, carrying the latest customer and points seen so far: each event's baseline.
  let customer: Payload | undefined;
  let statistics: Points | undefined = options.complete ? zero : undefined;
  // When the points baseline came from a customer payload: its write's time, and the baseline before it.
  let fromCustomer: { at: string; before: Points | undefined } | undefined;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    const base = { id: event.id, at: event.occurredAt };
    const full = fullCustomer(event);
    switch (event.event) {
      case 'customer.created':
        entries.push({ ...base, kind: 'created', title: 'Customer created' });
        break;
      case 'customer.updated': {
        if (!customer || !full) {
          entries.push({
            ...base,
            kind: 'profile',
            title: 'Profile changed',
            ...(full && !options.complete ? { detail: 'Show more to see which fields changed.' } : {}),
          });
          break;
        }
        const changes = profileChanges(customer, full);
        if (changes.length > 0) entries.push({ ...base, kind: 'profile', title: 'Profile changed', changes });
        break;
      }
      case 'customer.updated-statistics': {
        const after = pointsOf(event.statistics);
        if (!after) break;
        const before = fromCustomer?.at === event.occurredAt ? fromCustomer.before : statistics;
        statistics = after;
        fromCustomer = undefined;
        if (!before) {
          entries.push({
            ...base,
            kind: 'points',
            title: 'Points changed',
            changes: [
              {
                field: 'pointsBalance',
                label: STATISTIC_LABELS.pointsBalance,
                from: '…',
                to: formatNumber(after.pointsBalance),
              },
            ],
            detail: 'Show more to see the change.',
          });
          break;
        }
        const entry = pointsEntry(before, after);
        if (entry) entries.push({ ...base, kind: 'points', ...entry });
        break;
      }
      case 'customer-list.member-added':
        entries.push({ ...base, kind: 'list', title: `Added to list ${listName(event)}` });
        break;
      case 'customer-list.member-removed':
        entries.push({ ...base, kind: 'list', title: `Removed from list ${listName(event)}` });
        break;
      case 'payment.completed':
      case 'payment.refunded':
        entries.push({ ...base, kind: 'payment', ...paymentEntry(event, options.currency) });
        break;
      case 'customer.deleted':
        entries.push({ ...base, kind: 'erased', title: 'Customer erased' });
        break;
    }
    if (full) {
      customer = full;
      const carried = pointsOf(full.statistics);
      if (carried) {
        fromCustomer = { at: event.occurredAt, before: statistics };
        statistics = carried;
      }
    }
  }
  return entries.reverse();
}
