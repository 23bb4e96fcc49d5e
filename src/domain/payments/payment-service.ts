import {
  PAYMENT_PAGE_SIZE,
  type Payment,
  type PaymentSort,
  type RecordPaymentBody,
  type RefundPaymentBody,
} from '../../contract/payments.js';
import { conflict, notFound } from '../../errors.js';
import {
  createPaymentReads,
  findPayment,
  findPaymentItems,
  type PaymentItemRow,
  type PaymentRow,
} from '../../store/repositories/payment-repository.js';
import type { Store } from '../../store/store.js';
import { writeInOrganization } from '../organization-write.js';
import { fingerprint, timeKeysetAfter, toPage, type Page } from '../paging.js';
import { parseRecordPayment, paymentInputHash } from './payment-input.js';
import { paymentRowToPayment } from './payment-mapper.js';
import { insertCompletedPayment, organizationCurrency, refundPaymentRow } from './payment-writes.js';

export interface ListPaymentsOptions {
  sort?: PaymentSort | undefined;
  locationId?: string | undefined;
  customerId?: string | undefined;
  after?: string | undefined;
  limit?: number | undefined;
}

export interface RecordedPayment {
  payment: Payment;
  /** False when the same body was recorded before: nothing changed. */
  created: boolean;
}

function groupItems(items: readonly PaymentItemRow[]): Map<string, PaymentItemRow[]> {
  const byPayment = new Map<string, PaymentItemRow[]>();
  for (const item of items) {
    let list = byPayment.get(item.payment_id);
    if (!list) byPayment.set(item.payment_id, (list = []));
    list.push(item);
  }
  return byPayment;
}

/** Payments (LOKE), with our recording and refund extension; payments are the one source of customers' spend. */
export function createPaymentService(store: Store) {
  const reads = createPaymentReads(store);

  async function withItems(rows: PaymentRow[], organizationId: string): Promise<Payment[]> {
    const items = groupItems(
      await reads.items(
        organizationId,
        rows.map((r) => r.id),
      ),
    );
    return rows.map((row) => paymentRowToPayment(row, items.get(row.id) ?? []));
  }

  return {
    async listPayments(organizationId: string, options: ListPaymentsOptions): Promise<Page<Payment>> {
      const sort = options.sort ?? 'created';
      const limit = options.limit ?? PAYMENT_PAGE_SIZE;
      const queryId = fingerprint('payments', organizationId, sort, options.locationId, options.customerId);
      const [afterAt, afterId] = timeKeysetAfter(options.after, queryId);
      const column = sort === 'updated' ? 'updated_at' : 'created_at';
      const rows = await reads.listPage({
        organizationId,
        sort: column,
        locationId: options.locationId,
        customerId: options.customerId,
        afterAt,
        afterId,
        limit: limit + 1,
      });
      const page = toPage(
        rows,
        limit,
        queryId,
        (row) => [Number(row[column]), row.id],
        (row) => row,
      );
      return { items: await withItems(page.items, organizationId), next: page.next };
    },

    async getPayment(organizationId: string, id: string): Promise<Payment> {
      const row = await reads.findById(organizationId, id);
      if (!row) throw notFound('Payment');
      return (await withItems([row], organizationId))[0]!;
    },

    /**
     * Records a completed payment under the caller's id. The same body again changes nothing (`created: false`);
     * another body for that id is a 409.
     */
    async recordPayment(organizationId: string, id: string, body: RecordPaymentBody): Promise<RecordedPayment> {
      return writeInOrganization(store, organizationId, { events: 2 }, async (trx, now) => {
        const currency = await organizationCurrency(trx, organizationId);
        const input = parseRecordPayment(body, currency);
        const requestHash = paymentInputHash(input, { amount: 0, at: undefined });
        const existing = await findPayment(trx, organizationId, id);
        if (existing) {
          if (existing.request_hash !== requestHash) {
            throw conflict(`Payment ${id} was recorded with another body; a recorded payment does not change`);
          }
          const items = await findPaymentItems(trx, organizationId, [id]);
          return { payment: paymentRowToPayment(existing, items), created: false };
        }
        const written = await insertCompletedPayment(trx, store, organizationId, id, input, {
          currency,
          requestHash,
          spendReference: null,
          now,
        });
        return { payment: paymentRowToPayment(written.row, written.items), created: true };
      });
    },

    /** Refunds part (`amount`) or all of what remains of a payment. */
    async refundPayment(organizationId: string, id: string, body: RefundPaymentBody): Promise<Payment> {
      return writeInOrganization(store, organizationId, { events: 2 }, async (trx, now) => {
        const payment = await findPayment(trx, organizationId, id);
        if (!payment) throw notFound('Payment');
        const refunded = await refundPaymentRow(trx, store, payment, body.amount, now);
        return paymentRowToPayment(refunded.row, refunded.items);
      });
    },
  };
}
export type PaymentService = ReturnType<typeof createPaymentService>;
