import type { Transaction } from 'kysely';
import { CUSTOMER_STATISTICS, entriesOf } from '../../contract/customer-fields.js';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { applyStatisticsDelta, type StatisticsDelta } from '../../store/repositories/ledger-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { customerStatisticsUpdated, recordEvents } from '../events/event-log.js';
import { reevaluateSegments, type CustomerColumn } from '../segments/segment-membership.js';

// What a ledger change can move on the customer row: segments reading none of these are not re-evaluated.
const STATISTICS_COLUMNS: ReadonlySet<CustomerColumn> = new Set([
  ...entriesOf(CUSTOMER_STATISTICS).map(([, statistic]) => statistic.column),
  'updated_at',
]);

/** What one write did to a customer's ledgers (the points ledger and their payments). */
export type LedgerChange =
  /** A points entry was recorded at `at`: positive earns, negative redeems. */
  | { kind: 'points-recorded'; amount: number; at: number }
  /** The points entry of `amount` recorded at `at` was reversed (deleted). */
  | { kind: 'points-reversed'; amount: number; at: number }
  /** A payment of `paid` (charged + external) completed at `completedAt`. */
  | { kind: 'paid'; paid: number; completedAt: number }
  /** `amount` of the payment completed at `completedAt` was refunded; `whollyRefunded` once nothing of it remains. */
  | { kind: 'refunded'; amount: number; completedAt: number; whollyRefunded: boolean };

/** The statistics a change moves, and by how much (the rules are `updateStatistics`'s). */
export function statisticsDelta(change: LedgerChange): StatisticsDelta {
  const delta: StatisticsDelta = { pointsBalance: 0, pointsEarned: 0, pointsRedeemed: 0, spend: 0 };
  switch (change.kind) {
    case 'points-recorded':
      delta.pointsBalance = change.amount;
      if (change.amount > 0) {
        delta.pointsEarned = change.amount;
        delta.earnedAt = change.at;
      } else {
        delta.pointsRedeemed = -change.amount;
        delta.redeemedAt = change.at;
      }
      return delta;
    case 'points-reversed':
      delta.pointsBalance = -change.amount;
      if (change.amount > 0) {
        delta.pointsEarned = -change.amount;
        delta.earnedGoneAt = change.at;
      } else {
        delta.pointsRedeemed = change.amount;
        delta.redeemedGoneAt = change.at;
      }
      return delta;
    case 'paid':
      delta.spend = change.paid;
      delta.spentAt = change.completedAt;
      return delta;
    case 'refunded':
      delta.spend = -change.amount;
      if (change.whollyRefunded) delta.spentGoneAt = change.completedAt;
      return delta;
  }
}

/**
 * Moves the customer's statistics by what the write changed in their ledgers, in the write's transaction, with a
 * new updatedAt, and records `customer.updated-statistics`. The statistics are kept equal to what the ledgers imply
 * (points: balance = earned - redeemed, the latest earning and redemption; spend: what was paid (charged +
 * external) less refunds, the latest completion of a payment not wholly refunded) without reading the ledgers:
 * O(1) per change, except that a reversal or whole refund of the latest entry of its kind looks up the latest that
 * remains. Call it after the ledger row itself was written. The property test in test/ledgers.test.ts holds the
 * stored statistics to a full recompute.
 */
export async function updateStatistics(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  customerId: string,
  change: LedgerChange,
  now: number,
): Promise<CustomerRow> {
  const updated = await applyStatisticsDelta(trx, organizationId, customerId, statisticsDelta(change), now);
  await recordEvents(trx, store, organizationId, now, [customerStatisticsUpdated(updated!)]);
  await reevaluateSegments(trx, store, organizationId, [customerId], now, {
    changed: STATISTICS_COLUMNS,
    row: updated!,
  });
  return updated!;
}
