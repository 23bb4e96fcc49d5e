import type { Payment, PaymentItem } from '../../contract/payments.js';
import type { PaymentItemRow, PaymentRow } from '../../store/repositories/payment-repository.js';
import { customerRowToTiny } from '../customers/customer-mapper.js';
import { formatSeconds } from '../time.js';

export function paymentItemRowToItem(row: PaymentItemRow): PaymentItem {
  return {
    amount: Number(row.amount),
    id: row.id,
    name: row.name,
    options: JSON.parse(row.options) as PaymentItem['options'],
    quantity: Number(row.quantity),
    type: row.type,
  };
}

/** What of a payment counts as spend: what was paid, less what was refunded. */
export function paidAmount(row: Pick<PaymentRow, 'charged_amount' | 'external_amount'>): number {
  return Number(row.charged_amount) + Number(row.external_amount);
}

/** LOKE's Payment, keys in LOKE's (alphabetical) order; absent optional fields are omitted. */
export function paymentRowToPayment(row: PaymentRow, items: readonly PaymentItemRow[]): Payment {
  const payment: Payment = {
    billingType: row.billing_type,
    chargedAmount: Number(row.charged_amount),
    completedAt: formatSeconds(Number(row.completed_at)),
    createdAt: formatSeconds(Number(row.created_at)),
    creditAmount: Number(row.credit_amount),
    currency: row.currency,
    discountAmount: Number(row.discount_amount),
    externalAmount: Number(row.external_amount),
    feeAmount: Number(row.fee_amount),
    id: row.id,
    items: items.map(paymentItemRowToItem),
    tipAmount: Number(row.tip_amount),
    updatedAt: formatSeconds(Number(row.updated_at)),
  };
  // The customer is joined, so a payment whose customer was erased (customer_id cleared) has none.
  if (row.customer_id !== null && row.customer_first_name !== null) {
    payment.customer = customerRowToTiny({
      id: row.customer_id,
      email: row.customer_email,
      first_name: row.customer_first_name,
      last_name: row.customer_last_name ?? '',
      phone_number: row.customer_phone_number,
    });
  }
  if (row.location_id !== null) payment.locationId = row.location_id;
  if (Number(row.refunded_amount) > 0) payment.refundedAmount = Number(row.refunded_amount);
  if (row.refunded_at !== null) payment.refundedAt = formatSeconds(Number(row.refunded_at));
  return sortKeys(payment);
}

const sortKeys = (payment: Payment): Payment =>
  Object.fromEntries(Object.entries(payment).sort(([a], [b]) => (a < b ? -1 : 1))) as Payment;
