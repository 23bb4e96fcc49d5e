import type { Transaction } from 'kysely';
import type { AppError } from '../../errors.js';
import { badRequest, conflict, duplicatePointRecord, insufficientPoints, notFound } from '../../errors.js';
import { POINTS_PAGE_SIZE, type PointsBody, type PointsEntry, type SpendBody } from '../../contract/ledgers.js';
import {
  createCustomerReads,
  findCustomerForUpdate,
  type CustomerRow,
} from '../../store/repositories/customer-repository.js';
import {
  createLedgerReads,
  findLedgerRecord,
  insertPointRecordUnlessTaken,
  takeLedgerRecord,
  type PointRecordRow,
} from '../../store/repositories/ledger-repository.js';
import { findPayment, findPaymentIdBySpendReference } from '../../store/repositories/payment-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { hashRequest } from '../customers/write-preconditions.js';
import { newId } from '../ids.js';
import { fingerprint, timeKeysetAfter, toPage, type Page } from '../paging.js';
import { formatMillis } from '../time.js';
import { writeInOrganization } from '../organization-write.js';
import { parsePastTimestamp, type PaymentInput } from '../payments/payment-input.js';
import {
  insertCompletedPayment,
  organizationCurrency,
  refundable,
  refundPaymentRow,
} from '../payments/payment-writes.js';
import { updateStatistics } from './statistics.js';

/** billingType of payments the spend alias records (and of the spend records migrated into payments). */
export const SPEND_BILLING_TYPE = 'external';
const NO_AMOUNTS: PaymentInput['amounts'] = {
  charged_amount: 0,
  credit_amount: 0,
  discount_amount: 0,
  external_amount: 0,
  fee_amount: 0,
  tip_amount: 0,
};

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

/** A stored points adjustment as the API shows it: the body it was recorded with, under its reference. */
export function pointRecordRowToEntry(row: PointRecordRow): PointsEntry {
  const entry: PointsEntry = {
    amount: Number(row.amount),
    occurredAt: formatMillis(Number(row.occurred_at)),
    reference: row.reference,
  };
  if (row.notes !== null) entry.notes = row.notes;
  return entry;
}

/** The points ledger (LOKE) and the spend alias (our extension, now payments), each keyed by the caller's reference. */
export function createLedgerService(store: Store) {
  const customers = createCustomerReads(store);
  const ledger = createLedgerReads(store);
  return {
    /** A customer's points adjustments, most recent first (ties by reference, descending), keyset-paged. */
    async listPoints(
      organizationId: string,
      customerId: string,
      options: { after?: string | undefined; limit?: number | undefined },
    ): Promise<Page<PointsEntry>> {
      const limit = options.limit ?? POINTS_PAGE_SIZE;
      const queryId = fingerprint('points', organizationId, customerId);
      const [afterAt, afterReference] = timeKeysetAfter(options.after, queryId);
      if (!(await customers.findById(organizationId, customerId))) throw notFound('Customer');
      const rows = await ledger.listPage({ organizationId, customerId, afterAt, afterReference, limit: limit + 1 });
      return toPage(rows, limit, queryId, (row) => [Number(row.occurred_at), row.reference], pointRecordRowToEntry);
    },

    async recordPoints(organizationId: string, customerId: string, reference: string, body: PointsBody): Promise<void> {
      if (body.amount === 0) throw badRequest('Invalid amount', [{ field: 'amount', message: 'must not be 0' }]);
      await writeInOrganization(store, organizationId, { events: 1 }, async (trx, now) => {
        const customer = await lockedCustomer(trx, organizationId, customerId);
        const duplicate = () => duplicatePointRecord(reference);
        if (customer.points_balance + body.amount < 0) {
          // A taken reference is the answer before the balance, as it would be for any amount.
          if (await findLedgerRecord(trx, organizationId, customerId, reference)) throw duplicate();
          throw insufficientPoints(customer.points_balance);
        }
        const inserted = await insertPointRecordUnlessTaken(trx, {
          organization_id: organizationId,
          customer_id: customerId,
          reference,
          amount: body.amount,
          notes: body.notes ?? null,
          occurred_at: now,
        });
        if (!inserted) throw duplicate();
        await updateStatistics(
          trx,
          store,
          organizationId,
          customerId,
          { kind: 'points-recorded', amount: body.amount, at: now },
          now,
        );
      });
    },

    /** Reverses an adjustment; reversing an earning the customer has since spent is `insufficient_points`. */
    async reversePoints(organizationId: string, customerId: string, reference: string): Promise<void> {
      await writeInOrganization(store, organizationId, { events: 1 }, async (trx, now) => {
        const customer = await lockedCustomer(trx, organizationId, customerId);
        // Deleted first, refused after: a refusal rolls the deletion back with the rest of the transaction.
        const record = await takeLedgerRecord(trx, organizationId, customerId, reference);
        if (!record) throw notFound('Points adjustment');
        const amount = Number(record.amount);
        if (customer.points_balance - amount < 0) throw insufficientPoints(customer.points_balance);
        await updateStatistics(
          trx,
          store,
          organizationId,
          customerId,
          { kind: 'points-reversed', amount, at: Number(record.occurred_at) },
          now,
        );
      });
    },

    /**
     * The spend alias: records a completed payment paid outside LOKE (`externalAmount`, billingType `external`, no
     * location) under the reference; payments are the one source of spend.
     */
    async recordSpend(organizationId: string, customerId: string, reference: string, body: SpendBody): Promise<void> {
      const completedAt = body.occurredAt === undefined ? undefined : parsePastTimestamp('occurredAt', body.occurredAt);
      await writeInOrganization(store, organizationId, { events: 2 }, async (trx, now) => {
        await lockedCustomer(trx, organizationId, customerId);
        if (await findPaymentIdBySpendReference(trx, organizationId, customerId, reference)) {
          throw conflict(`A spend record with reference "${reference}" exists for this customer`);
        }
        const currency = await organizationCurrency(trx, organizationId);
        const input: PaymentInput = {
          locationId: undefined,
          customerId,
          billingType: SPEND_BILLING_TYPE,
          amounts: { ...NO_AMOUNTS, external_amount: body.amount },
          completedAt,
          createdAt: undefined,
          items: [],
        };
        await insertCompletedPayment(trx, store, organizationId, newId(now), input, {
          currency,
          requestHash: hashRequest(body),
          spendReference: reference,
          now,
        });
      });
    },

    /** Reverses a spend: refunds what remains of its payment. One already reversed is gone (404), as before. */
    async reverseSpend(organizationId: string, customerId: string, reference: string): Promise<void> {
      await writeInOrganization(store, organizationId, { events: 2 }, async (trx, now) => {
        await lockedCustomer(trx, organizationId, customerId);
        const id = await findPaymentIdBySpendReference(trx, organizationId, customerId, reference);
        const payment = id === undefined ? undefined : await findPayment(trx, organizationId, id);
        if (!payment || refundable(payment) <= 0) throw notFound('Spend record');
        await refundPaymentRow(trx, store, payment, undefined, now);
      });
    },
  };
}
export type LedgerService = ReturnType<typeof createLedgerService>;
