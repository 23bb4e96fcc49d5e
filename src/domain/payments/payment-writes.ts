import type { Transaction } from 'kysely';
import { conflict, invalidField } from '../../errors.js';
import { findCustomerForUpdate, type CustomerRow } from '../../store/repositories/customer-repository.js';
import { findLocation } from '../../store/repositories/location-repository.js';
import { findOrganizationsByIds } from '../../store/repositories/organization-repository.js';
import {
  findPaymentItems,
  insertPaymentItems,
  insertPaymentRows,
  updatePayment,
  type PaymentItemRow,
  type PaymentRecordRow,
  type PaymentRow,
} from '../../store/repositories/payment-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { paymentChanged, recordEvents } from '../events/event-log.js';
import { updateStatistics } from '../ledgers/statistics.js';
import type { PaymentInput } from './payment-input.js';
import { paidAmount, paymentRowToPayment } from './payment-mapper.js';

// The steps of payment writes, inside a transaction that `writeInOrganization` opened (so the organization lock is
// held): shared by the payments resource and the spend alias.

export interface WrittenPayment {
  row: PaymentRow;
  items: PaymentItemRow[];
}

export async function organizationCurrency(trx: Transaction<Database>, organizationId: string): Promise<string> {
  const [organization] = await findOrganizationsByIds(trx, [organizationId]);
  return organization!.currency;
}

function withCustomerColumns(row: PaymentRecordRow, customer: CustomerRow | undefined): PaymentRow {
  return {
    ...row,
    customer_email: customer?.email ?? null,
    customer_first_name: customer?.first_name ?? null,
    customer_last_name: customer?.last_name ?? null,
    customer_phone_number: customer?.phone_number ?? null,
  };
}

/**
 * Inserts a completed payment and, when it has a customer, refreshes their statistics in the same transaction.
 * Unknown customers and locations are a 400 naming the field.
 */
export async function insertCompletedPayment(
  trx: Transaction<Database>,
  store: Store,
  organizationId: string,
  id: string,
  input: PaymentInput,
  extra: { currency: string; requestHash: string; spendReference: string | null; now: number },
): Promise<WrittenPayment> {
  let customer: CustomerRow | undefined;
  if (input.customerId !== undefined) {
    customer = await findCustomerForUpdate(trx, organizationId, input.customerId);
    if (!customer) throw invalidField('customerId', 'no customer of this organization has this id');
  }
  const location =
    input.locationId === undefined ? undefined : await findLocation(trx, organizationId, input.locationId);
  if (input.locationId !== undefined && !location) {
    throw invalidField('locationId', 'no location of this organization has this id');
  }
  const completedAt = input.completedAt ?? extra.now;
  const row: PaymentRecordRow = {
    organization_id: organizationId,
    id,
    location_id: input.locationId ?? null,
    customer_id: input.customerId ?? null,
    spend_reference: extra.spendReference,
    billing_type: input.billingType,
    currency: extra.currency,
    ...input.amounts,
    refunded_amount: 0,
    completed_at: completedAt,
    refunded_at: null,
    created_at: input.createdAt ?? completedAt,
    updated_at: extra.now,
    request_hash: extra.requestHash,
  };
  const items: PaymentItemRow[] = input.items.map((item) => ({
    organization_id: organizationId,
    payment_id: id,
    ...item,
  }));
  await insertPaymentRows(trx, [row]);
  await insertPaymentItems(trx, items);
  const written = { row: withCustomerColumns(row, customer), items };
  await recordEvents(trx, store, organizationId, extra.now, [
    paymentChanged('payment.completed', paymentRowToPayment(written.row, items), location),
  ]);
  if (customer) {
    const change = { kind: 'paid', paid: paidAmount(row), completedAt } as const;
    await updateStatistics(trx, store, organizationId, customer.id, change, extra.now);
  }
  return written;
}

/** What of a payment can still be refunded. */
export function refundable(row: PaymentRecordRow): number {
  return paidAmount(row) - Number(row.refunded_amount);
}

/**
 * Refunds `amount` (default: all that remains) of a payment. Nothing left is a 409, more than remains a 400; the
 * customer's statistics follow in the same transaction.
 */
export async function refundPaymentRow(
  trx: Transaction<Database>,
  store: Store,
  payment: PaymentRow,
  amount: number | undefined,
  now: number,
): Promise<WrittenPayment> {
  const remaining = refundable(payment);
  if (remaining <= 0) throw conflict(`Payment ${payment.id} has nothing left to refund`);
  if (amount !== undefined && amount > remaining) {
    throw invalidField('amount', `must not exceed the ${remaining} that remain refundable`);
  }
  const patch = {
    refunded_amount: Number(payment.refunded_amount) + (amount ?? remaining),
    refunded_at: now,
    updated_at: now,
  };
  const organizationId = payment.organization_id;
  await updatePayment(trx, organizationId, payment.id, patch);
  const row: PaymentRow = { ...payment, ...patch };
  const items = await findPaymentItems(trx, organizationId, [payment.id]);
  const location = row.location_id === null ? undefined : await findLocation(trx, organizationId, row.location_id);
  await recordEvents(trx, store, organizationId, now, [
    paymentChanged('payment.refunded', paymentRowToPayment(row, items), location),
  ]);
  if (row.customer_id !== null) {
    const completedAt = Number(row.completed_at);
    const change = {
      kind: 'refunded',
      amount: amount ?? remaining,
      completedAt,
      whollyRefunded: refundable(row) <= 0,
    } as const;
    await updateStatistics(trx, store, organizationId, row.customer_id, change, now);
  }
  return { row, items };
}
