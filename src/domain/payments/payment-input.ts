import type { Insertable } from 'kysely';
import { PAYMENT_AMOUNT_NAMES, type RecordPaymentBody } from '../../contract/payments.js';
import { invalidField } from '../../errors.js';
import type { PaymentItemsTable, PaymentsTable } from '../../store/schema.js';
import { hashRequest } from '../customers/write-preconditions.js';
import { parseTimestamp } from '../time.js';

/** The columns of a payment that come from the request, validated; the write adds ids, times and the hash. */
export interface PaymentInput {
  locationId: string | undefined;
  customerId: string | undefined;
  billingType: string;
  amounts: Pick<
    PaymentsTable,
    'charged_amount' | 'credit_amount' | 'discount_amount' | 'external_amount' | 'fee_amount' | 'tip_amount'
  >;
  /** Undefined: the write's commit time. */
  completedAt: number | undefined;
  /** Undefined: completedAt. */
  createdAt: number | undefined;
  items: Omit<Insertable<PaymentItemsTable>, 'organization_id' | 'payment_id'>[];
}

const AMOUNT_COLUMNS = {
  chargedAmount: 'charged_amount',
  creditAmount: 'credit_amount',
  discountAmount: 'discount_amount',
  externalAmount: 'external_amount',
  feeAmount: 'fee_amount',
  tipAmount: 'tip_amount',
} as const satisfies Record<(typeof PAYMENT_AMOUNT_NAMES)[number], keyof PaymentsTable>;

// Clocks of the systems payments come from may run a little ahead of ours.
const CLOCK_SKEW_MS = 60_000;

/** An RFC 3339 time in the past (or now), as epoch ms. */
export function parsePastTimestamp(field: string, value: string): number {
  const at = parseTimestamp(value);
  if (at === undefined) throw invalidField(field, 'must be an RFC 3339 timestamp such as 2021-08-23T02:06:23.000Z');
  if (at > Date.now() + CLOCK_SKEW_MS) throw invalidField(field, 'must not be in the future');
  if (at < 0) throw invalidField(field, 'must not be before 1970');
  return at;
}

function text(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw invalidField(field, 'must not be blank');
  return trimmed;
}

/** Validates a recording request (beyond its schema) against the organization's currency. */
export function parseRecordPayment(body: RecordPaymentBody, organizationCurrency: string): PaymentInput {
  if (body.currency !== undefined && body.currency.trim().toUpperCase() !== organizationCurrency) {
    throw invalidField('currency', `must be the organization's currency, ${organizationCurrency}`);
  }
  const completedAt = body.completedAt === undefined ? undefined : parsePastTimestamp('completedAt', body.completedAt);
  const createdAt = body.createdAt === undefined ? undefined : parsePastTimestamp('createdAt', body.createdAt);
  if (createdAt !== undefined && createdAt > (completedAt ?? Date.now() + CLOCK_SKEW_MS)) {
    throw invalidField('createdAt', 'must not be after completedAt');
  }
  const amounts = {} as PaymentInput['amounts'];
  for (const name of PAYMENT_AMOUNT_NAMES) amounts[AMOUNT_COLUMNS[name]] = body[name] ?? 0;
  const items = (body.items ?? []).map((item, position) => ({
    position,
    id: text(`items.${position}.id`, item.id),
    name: text(`items.${position}.name`, item.name),
    amount: item.amount,
    quantity: item.quantity,
    type: item.type === undefined ? 'item' : text(`items.${position}.type`, item.type),
    options: JSON.stringify(
      (item.options ?? []).map((option, o) => ({
        choices: option.choices.map((choice, c) => ({
          amount: choice.amount,
          id: text(`items.${position}.options.${o}.choices.${c}.id`, choice.id),
          name: text(`items.${position}.options.${o}.choices.${c}.name`, choice.name),
        })),
        id: text(`items.${position}.options.${o}.id`, option.id),
        name: text(`items.${position}.options.${o}.name`, option.name),
      })),
    ),
  }));
  return {
    locationId: body.locationId,
    customerId: body.customerId,
    billingType: text('billingType', body.billingType),
    amounts,
    completedAt,
    createdAt,
    items,
  };
}

/**
 * Identifies what a recording says, whatever its spelling (key order, defaults written out or left out, `customer`
 * or `customerId`): the same payment recorded again hashes the same, so it is a no-op; another one is a conflict.
 */
export function paymentInputHash(input: PaymentInput, refund: { amount: number; at: number | undefined }): string {
  return hashRequest({
    ...input,
    completedAt: input.completedAt ?? null,
    createdAt: input.createdAt ?? input.completedAt ?? null,
    refundedAmount: refund.amount,
    refundedAt: refund.at ?? null,
  });
}
