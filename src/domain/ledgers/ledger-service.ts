import type { Transaction } from 'kysely';
import { AppError, badRequest, conflict, notFound } from '../../errors.js';
import type { PointsBody, SpendBody } from '../../contract/ledgers.js';
import {
  findCustomerForUpdate,
  updateCustomer,
  type CustomerRow,
} from '../../store/repositories/customer-repository.js';
import {
  deleteLedgerRecord,
  findLedgerRecord,
  insertPointRecords,
  insertSpendRecords,
  sumPoints,
  sumSpend,
} from '../../store/repositories/ledger-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { customerStatisticsUpdated, recordEvents } from '../events/event-log.js';
import { writeInOrganization } from '../organization-write.js';
import { parseTimestamp } from '../time.js';

async function lockedCustomer(
  trx: Transaction<Database>,
  organizationId: string,
  customerId: string,
): Promise<CustomerRow> {
  const customer = await findCustomerForUpdate(trx, organizationId, customerId);
  if (!customer) throw notFound('Customer');
  return customer;
}

/**
 * Recomputes the customer's statistics from the ledgers (not incrementally),
 * so they equal what the ledger implies even after a reversal of the latest
 * entry; stores them with a new updatedAt and records the event.
 */
async function refreshStatistics(
  trx: Transaction<Database>,
  organizationId: string,
  customerId: string,
  now: number,
): Promise<void> {
  const points = await sumPoints(trx, organizationId, customerId);
  const spend = await sumSpend(trx, organizationId, customerId);
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
  await recordEvents(trx, organizationId, now, [customerStatisticsUpdated(updated!)]);
}

/**
 * LOKE integrations compute points as `amount * pointsPerDollar`, which can be fractional. Points are whole
 * numbers here and we never round on the caller's behalf (which way would be the caller's business rule), so a
 * fractional amount is refused with an error that says what to do.
 */
export const POINTS_WHOLE_NUMBER_RULE =
  'must be a whole number of points: round a fractional amount * pointsPerDollar to an integer before sending';

export function fractionalPointsError(): AppError {
  return badRequest('Invalid amount: points amounts are whole numbers; round fractional points before sending', [
    { field: 'amount', message: POINTS_WHOLE_NUMBER_RULE },
  ]);
}

/** True for a JSON number that is not a whole number (1.5, 0.1); strings and the like are the schema's business. */
export function isFractionalAmount(body: unknown): boolean {
  const amount = (body as { amount?: unknown } | null | undefined)?.amount;
  return typeof amount === 'number' && Number.isFinite(amount) && !Number.isInteger(amount);
}

const insufficientPoints = (balance: number) =>
  new AppError('insufficient_points', `The points balance (${balance}) is too low for this adjustment`);

/** The points ledger (LOKE) and the spend ledger (our extension), each entry keyed by the caller's reference. */
export function createLedgerService(store: Store) {
  return {
    async recordPoints(organizationId: string, customerId: string, reference: string, body: PointsBody): Promise<void> {
      if (body.amount === 0) throw badRequest('Invalid amount', [{ field: 'amount', message: 'must not be 0' }]);
      await writeInOrganization(store, organizationId, async (trx, now) => {
        const customer = await lockedCustomer(trx, organizationId, customerId);
        if (await findLedgerRecord(trx, 'point_records', organizationId, customerId, reference)) {
          throw new AppError(
            'duplicate_point_record',
            `A points adjustment with reference "${reference}" exists for this customer`,
          );
        }
        if (customer.points_balance + body.amount < 0) throw insufficientPoints(customer.points_balance);
        await insertPointRecords(trx, [
          {
            organization_id: organizationId,
            customer_id: customerId,
            reference,
            amount: body.amount,
            notes: body.notes ?? null,
            occurred_at: now,
          },
        ]);
        await refreshStatistics(trx, organizationId, customerId, now);
      });
    },

    /** Reverses an adjustment; reversing an earning the customer has since spent is `insufficient_points`. */
    async reversePoints(organizationId: string, customerId: string, reference: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        const customer = await lockedCustomer(trx, organizationId, customerId);
        const record = await findLedgerRecord(trx, 'point_records', organizationId, customerId, reference);
        if (!record) throw notFound('Points adjustment');
        if (customer.points_balance - record.amount < 0) throw insufficientPoints(customer.points_balance);
        await deleteLedgerRecord(trx, 'point_records', organizationId, customerId, reference);
        await refreshStatistics(trx, organizationId, customerId, now);
      });
    },

    async recordSpend(organizationId: string, customerId: string, reference: string, body: SpendBody): Promise<void> {
      let occurredAt: number | undefined;
      if (body.occurredAt !== undefined) {
        occurredAt = parseTimestamp(body.occurredAt);
        const problem =
          occurredAt === undefined
            ? 'must be an RFC 3339 timestamp such as 2021-08-23T02:06:23.000Z'
            : occurredAt > Date.now() + 60_000
              ? 'must not be in the future'
              : occurredAt < 0
                ? 'must not be before 1970'
                : undefined;
        if (problem) throw badRequest('Invalid occurredAt', [{ field: 'occurredAt', message: problem }]);
      }
      await writeInOrganization(store, organizationId, async (trx, now) => {
        await lockedCustomer(trx, organizationId, customerId);
        if (await findLedgerRecord(trx, 'spend_records', organizationId, customerId, reference)) {
          throw conflict(`A spend record with reference "${reference}" exists for this customer`);
        }
        await insertSpendRecords(trx, [
          {
            organization_id: organizationId,
            customer_id: customerId,
            reference,
            amount: body.amount,
            occurred_at: occurredAt ?? now,
          },
        ]);
        await refreshStatistics(trx, organizationId, customerId, now);
      });
    },

    async reverseSpend(organizationId: string, customerId: string, reference: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        await lockedCustomer(trx, organizationId, customerId);
        if (!(await deleteLedgerRecord(trx, 'spend_records', organizationId, customerId, reference)))
          throw notFound('Spend record');
        await refreshStatistics(trx, organizationId, customerId, now);
      });
    },
  };
}
export type LedgerService = ReturnType<typeof createLedgerService>;
