import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler';
import type { Transaction } from 'kysely';
import {
  PaymentIdSchema,
  RecordPaymentBodySchema,
  type Payment,
  type RecordPaymentBody,
} from '../../contract/payments.js';
import { AppError, notFound } from '../../errors.js';
import { findCustomersByIds } from '../../store/repositories/customer-import-repository.js';
import { FIRST_PAGE_KEY, type CustomerRow } from '../../store/repositories/customer-repository.js';
import { advanceOrganizationClock } from '../../store/repositories/organization-repository.js';
import {
  createPaymentReads,
  findLocationsByIds,
  findPaymentsByIds,
  insertPaymentsInBulk,
  updateSpendStatistics,
  type PaymentItemRow,
  type PaymentRecordRow,
  type PaymentRow,
} from '../../store/repositories/payment-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import type { ImportRecord, ImportRejection, ImportTotals } from '../customers/customer-import.js';
import { customerStatisticsUpdated, paymentChanged, type DomainEvent, recordEvents } from '../events/event-log.js';
import { parsePastTimestamp, parseRecordPayment, paymentInputHash, type PaymentInput } from './payment-input.js';
import { paymentRowToPayment } from './payment-mapper.js';
import { reevaluateSegments } from '../segments/segment-membership.js';

export interface PaymentImportOptions {
  /** Payments per transaction (default 1000). */
  batchSize?: number;
  onRejected?: (rejection: ImportRejection) => void;
  /** Called after each committed batch with the running totals. */
  onProgress?: (totals: ImportTotals) => void;
}

/** Fields an export writes that recording does not take: the id (the record's key) and what the server derives. */
const EXPORT_FIELDS = new Set(['id', 'customer', 'refundedAmount', 'refundedAt', 'updatedAt']);
const bodyCheck = TypeCompiler.Compile(RecordPaymentBodySchema);
const idCheck = TypeCompiler.Compile(PaymentIdSchema);

class Rejected extends Error {}

interface ValidPayment {
  line: number;
  id: string;
  body: RecordPaymentBody;
  refundedAmount: number;
  refundedAt: number | undefined;
}

/** A Payment as `export --type payments` writes it (or a recording body with an `id`), checked like `PUT`. */
function validatePaymentRecord(value: unknown, line: number): ValidPayment {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Rejected('the record is not an object');
  const record = value as Record<string, unknown>;
  if (typeof record.id !== 'string' || !idCheck.Check(record.id)) {
    throw new Rejected('id: must be 1 to 100 letters, digits, . _ : - (not starting with a symbol)');
  }
  const body: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(record)) if (!EXPORT_FIELDS.has(key)) body[key] = field;
  const customer = record.customer as { id?: unknown } | undefined;
  if (body.customerId === undefined && customer !== undefined) {
    if (typeof customer !== 'object' || customer === null || typeof customer.id !== 'string')
      throw new Rejected('customer.id: must be a string');
    body.customerId = customer.id;
  }
  if (!bodyCheck.Check(body)) {
    const first = bodyCheck.Errors(body).First();
    const field = first?.path.replace(/^\//, '').replaceAll('/', '.') || 'record';
    const message =
      first?.type === ValueErrorType.ObjectRequiredProperty
        ? 'is required'
        : first?.type === ValueErrorType.ObjectAdditionalProperties
          ? 'is not a field of a payment'
          : (first?.message.toLowerCase() ?? 'is invalid');
    throw new Rejected(`${field}: ${message}`);
  }
  const refundedAmount = record.refundedAmount ?? 0;
  if (typeof refundedAmount !== 'number' || !Number.isSafeInteger(refundedAmount) || refundedAmount < 0)
    throw new Rejected('refundedAmount: must be a non-negative integer');
  let refundedAt: number | undefined;
  if (record.refundedAt !== undefined) {
    if (typeof record.refundedAt !== 'string') throw new Rejected('refundedAt: must be an RFC 3339 timestamp');
    refundedAt = guarded(() => parsePastTimestamp('refundedAt', record.refundedAt as string));
  }
  if (refundedAmount > 0 && refundedAt === undefined) throw new Rejected('refundedAt: is required with refundedAmount');
  return { line, id: record.id, body: body, refundedAmount, refundedAt };
}

function guarded<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof AppError) {
      throw new Rejected(error.details?.map((d) => `${d.field}: ${d.message}`).join('; ') ?? error.message);
    }
    throw error;
  }
}

function decode(record: ImportRecord): unknown {
  if (record.error !== undefined) throw new Rejected(record.error);
  if (record.text === undefined) return record.value;
  try {
    return JSON.parse(record.text);
  } catch (error) {
    throw new Rejected(`not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Imports and exports of payment history (`import --type payments`, `export --type payments`): the way users bring
 * spend in. Payments are recorded like `PUT /payments/{id}` (with a refund history when the record has one), in
 * batched transactions with their events and the customers' statistics.
 */
export function createPaymentImportService(store: Store) {
  const reads = createPaymentReads(store);

  async function organizationOf(organizationId: string) {
    const row = await store.db
      .selectFrom('organizations')
      .select(['id', 'currency'])
      .where('id', '=', organizationId)
      .executeTakeFirst();
    if (!row) throw notFound('Organization');
    return row;
  }

  /** One batch, one transaction: new payments inserted in bulk, the same ones again left alone, others rejected. */
  async function writeBatch(organizationId: string, currency: string, batch: ValidPayment[]) {
    const counts = { inserted: 0, unchanged: 0 };
    const rejections: ImportRejection[] = [];
    await store.db.transaction().execute(async (trx: Transaction<Database>) => {
      counts.inserted = counts.unchanged = 0;
      rejections.length = 0;
      const tick = await advanceOrganizationClock(trx, store, organizationId, 0);
      if (!tick) throw notFound('Organization');
      const now = tick.now;
      const existing = new Map(
        (await findPaymentsByIds(trx, organizationId, [...new Set(batch.map((p) => p.id))])).map((p) => [
          p.id,
          p.request_hash,
        ]),
      );
      const customerIds = [...new Set(batch.flatMap((p) => (p.body.customerId ? [p.body.customerId] : [])))];
      const customers = new Map<string, CustomerRow>(
        (await findCustomersByIds(trx, organizationId, customerIds)).map((c) => [c.id, c]),
      );
      const locationIds = [...new Set(batch.flatMap((p) => (p.body.locationId ? [p.body.locationId] : [])))];
      const locations = new Map((await findLocationsByIds(trx, organizationId, locationIds)).map((l) => [l.id, l]));

      const rows: PaymentRecordRow[] = [];
      const items: PaymentItemRow[] = [];
      const events: DomainEvent[] = [];
      for (const record of batch) {
        let input: PaymentInput;
        let hash: string;
        try {
          input = guarded(() => parseRecordPayment(record.body, currency));
          hash = paymentInputHash(input, { amount: record.refundedAmount, at: record.refundedAt });
          const seen = existing.get(record.id);
          if (seen === hash) {
            counts.unchanged++;
            continue;
          }
          if (seen !== undefined) throw new Rejected(`id: payment ${record.id} exists with other values`);
          if (input.customerId !== undefined && !customers.has(input.customerId))
            throw new Rejected('customerId: no customer of this organization has this id');
          if (input.locationId !== undefined && !locations.has(input.locationId))
            throw new Rejected('locationId: no location of this organization has this id');
          const completedAt = input.completedAt ?? now;
          if (record.refundedAmount > input.amounts.charged_amount + input.amounts.external_amount)
            throw new Rejected('refundedAmount: must not exceed chargedAmount + externalAmount');
          if (record.refundedAt !== undefined && record.refundedAt < completedAt)
            throw new Rejected('refundedAt: must not be before completedAt');
        } catch (error) {
          if (!(error instanceof Rejected)) throw error;
          rejections.push({ line: record.line, reason: error.message });
          continue;
        }
        const completedAt = input.completedAt ?? now;
        const row: PaymentRecordRow = {
          organization_id: organizationId,
          id: record.id,
          location_id: input.locationId ?? null,
          customer_id: input.customerId ?? null,
          spend_reference: null,
          billing_type: input.billingType,
          currency,
          ...input.amounts,
          refunded_amount: record.refundedAmount,
          completed_at: completedAt,
          refunded_at: record.refundedAt ?? null,
          created_at: input.createdAt ?? completedAt,
          updated_at: now,
          request_hash: hash,
        };
        const rowItems = input.items.map((item) => ({
          organization_id: organizationId,
          payment_id: record.id,
          ...item,
        }));
        rows.push(row);
        items.push(...rowItems);
        existing.set(record.id, hash);
        counts.inserted++;
        const customer = input.customerId === undefined ? undefined : customers.get(input.customerId);
        const joined: PaymentRow = {
          ...row,
          customer_email: customer?.email ?? null,
          customer_first_name: customer?.first_name ?? null,
          customer_last_name: customer?.last_name ?? null,
          customer_phone_number: customer?.phone_number ?? null,
        };
        const location = row.location_id === null ? undefined : locations.get(row.location_id);
        events.push(paymentChanged('payment.completed', paymentRowToPayment(joined, rowItems), location));
      }
      await insertPaymentsInBulk(trx, store, rows, items);
      // The statistics of every customer the batch paid for, recomputed from all their payments.
      const paidFor = [...new Set(rows.flatMap((r) => (r.customer_id === null ? [] : [r.customer_id])))];
      for (const updated of await updateSpendStatistics(trx, organizationId, paidFor, now)) {
        events.push(customerStatisticsUpdated(updated));
      }
      await recordEvents(trx, store, organizationId, now, events);
      await reevaluateSegments(trx, store, organizationId, paidFor, now);
    });
    return { ...counts, rejections };
  }

  return {
    /**
     * Imports payments from a stream of NDJSON records. Invalid ones are reported through `onRejected` and
     * skipped; a batch commits whole or not at all, and a payment already there with the same record is left
     * alone, so running an interrupted import again duplicates nothing.
     */
    async importPayments(
      organizationId: string,
      chunks: AsyncIterable<readonly ImportRecord[]>,
      options: PaymentImportOptions = {},
    ): Promise<ImportTotals> {
      const { currency } = await organizationOf(organizationId);
      const batchSize = options.batchSize ?? 1000;
      const totals: ImportTotals = { rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
      const reject = (rejection: ImportRejection) => {
        totals.rejected++;
        options.onRejected?.(rejection);
      };
      let batch: ValidPayment[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const result = await writeBatch(organizationId, currency, batch);
        totals.inserted += result.inserted;
        totals.unchanged += result.unchanged;
        for (const rejection of result.rejections) reject(rejection);
        batch = [];
        options.onProgress?.({ ...totals });
      };
      for await (const chunk of chunks) {
        totals.rows += chunk.length;
        for (const record of chunk) {
          try {
            batch.push(validatePaymentRecord(decode(record), record.line));
          } catch (error) {
            if (!(error instanceof Rejected)) throw error;
            reject({ line: record.line, reason: error.message });
          }
          if (batch.length >= batchSize) await flush();
        }
      }
      await flush();
      options.onProgress?.({ ...totals });
      return totals;
    },

    /** Every payment of the organization, most recently created first, a page at a time through the keyset index. */
    async *exportPayments(organizationId: string, pageSize = 1000): AsyncGenerator<Payment[], void, undefined> {
      await organizationOf(organizationId);
      let afterAt: number = FIRST_PAGE_KEY.at;
      let afterId: string = FIRST_PAGE_KEY.id;
      for (;;) {
        const rows = await reads.listPage({
          organizationId,
          sort: 'created_at',
          locationId: undefined,
          customerId: undefined,
          afterAt,
          afterId,
          limit: pageSize,
        });
        if (rows.length > 0) {
          const byPayment = new Map<string, PaymentItemRow[]>();
          for (const item of await reads.items(
            organizationId,
            rows.map((r) => r.id),
          )) {
            let list = byPayment.get(item.payment_id);
            if (!list) byPayment.set(item.payment_id, (list = []));
            list.push(item);
          }
          yield rows.map((row) => paymentRowToPayment(row, byPayment.get(row.id) ?? []));
        }
        if (rows.length < pageSize) return;
        const last = rows[rows.length - 1]!;
        afterAt = Number(last.created_at);
        afterId = last.id;
      }
    },
  };
}
export type PaymentImportService = ReturnType<typeof createPaymentImportService>;
