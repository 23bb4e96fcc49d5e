import type { Transaction } from 'kysely';
import { updateCustomer } from '../../store/repositories/customer-repository.js';
import { sumPoints } from '../../store/repositories/ledger-repository.js';
import { sumCustomerSpend } from '../../store/repositories/payment-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { customerStatisticsUpdated, recordEvents } from '../events/event-log.js';
import { reevaluateSegments } from '../segments/segment-membership.js';

/**
 * Recomputes the customer's statistics from their sources, the points ledger
 * and the payments (not incrementally), so they equal what those imply even
 * after a reversal or refund of the latest entry; stores them with a new
 * updatedAt and records `customer.updated-statistics`, in the write's
 * transaction.
 */
export async function refreshStatistics(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  customerId: string,
  now: number,
): Promise<void> {
  const points = await sumPoints(trx, organizationId, customerId);
  const spend = await sumCustomerSpend(trx, organizationId, customerId);
  const updated = await updateCustomer(trx, organizationId, customerId, {
    points_balance: points.earned - points.redeemed,
    total_points_earned: points.earned,
    total_points_redeemed: points.redeemed,
    last_points_earned_at: points.lastEarnedAt,
    last_points_redeemed_at: points.lastRedeemedAt,
    total_spend: spend.total,
    last_spent_at: spend.lastSpentAt,
    updated_at: now,
  });
  await recordEvents(trx, store, organizationId, now, [customerStatisticsUpdated(updated!)]);
  await reevaluateSegments(trx, store, organizationId, [customerId], now);
}
