import { newId } from '../../src/domain/ids.js';
import { insertCustomers, type NewCustomerRow } from '../../src/store/repositories/customer-repository.js';
import type { PaymentRecordRow } from '../../src/store/repositories/payment-repository.js';
import type { Store } from '../../src/store/store.js';

/**
 * Inserts `count` customers straight through the repository, with timestamps
 * chosen by `at(i)` (so tests can create ties), and moves the organization
 * clock past them as a real import would.
 */
export async function insertCustomerRows(
  store: Store,
  organizationId: string,
  count: number,
  options: {
    createdAt?: (i: number) => number;
    updatedAt?: (i: number) => number;
    row?: (i: number) => Partial<NewCustomerRow>;
  } = {},
): Promise<NewCustomerRow[]> {
  const base = Date.UTC(2021, 0, 1);
  const rows: NewCustomerRow[] = [];
  for (let i = 0; i < count; i++) {
    const createdAt = options.createdAt?.(i) ?? base + Math.floor(i / 3) * 1000;
    rows.push({
      organization_id: organizationId,
      id: newId(createdAt),
      first_name: `Bulk${i}`,
      last_name: `Customer${i}`,
      email: null,
      email_normalized: null,
      phone_number: null,
      dob: null,
      gender: null,
      has_agreed_to_marketing: null,
      created_at: createdAt,
      updated_at: options.updatedAt?.(i) ?? createdAt,
      last_points_earned_at: null,
      last_points_redeemed_at: null,
      last_spent_at: null,
      ...options.row?.(i),
    });
  }
  const maxUpdated = Math.max(...rows.map((r) => r.updated_at));
  await store.db.transaction().execute(async (trx) => {
    await insertCustomers(trx, rows);
    await trx.updateTable('organizations').set({ clock: maxUpdated }).where('id', '=', organizationId).execute();
  });
  return rows;
}

/** A completed payment row of `chargedAmount` cents at `at` (created, completed and updated), for planner tests. */
export function paymentRow(
  organizationId: string,
  id: string,
  at: number,
  overrides: Partial<PaymentRecordRow> = {},
): PaymentRecordRow {
  return {
    organization_id: organizationId,
    id,
    location_id: null,
    customer_id: null,
    spend_reference: null,
    billing_type: 'tab',
    currency: 'AUD',
    charged_amount: 100,
    credit_amount: 0,
    discount_amount: 0,
    external_amount: 0,
    fee_amount: 0,
    tip_amount: 0,
    refunded_amount: 0,
    completed_at: at,
    refunded_at: null,
    created_at: at,
    updated_at: at,
    request_hash: '',
    ...overrides,
  };
}
