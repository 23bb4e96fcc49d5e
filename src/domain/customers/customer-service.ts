import type { CountryCode } from 'libphonenumber-js/max';
import { notFound } from '../../errors.js';
import type { CreateCustomerBody, Customer, CustomerListTiny, CustomerSort, UpdateCustomerBody } from '../../http/schemas/customers.js';
import {
  createCustomerReads,
  FIRST_PAGE_KEY,
  findCustomerForUpdate,
  insertCustomer,
  updateCustomer,
  type CustomerRow,
} from '../../store/repositories/customer-repository.js';
import { createMembershipReads } from '../../store/repositories/membership-repository.js';
import { advanceOrganizationClock } from '../../store/repositories/organization-repository.js';
import type { Store } from '../../store/store.js';
import { customerCreated, customerUpdated, recordEvents } from '../events/event-log.js';
import { newId } from '../ids.js';
import { decodeCursor, fingerprint, toPage, type Page } from '../paging.js';
import { customerRowToCustomer } from './customer-mapper.js';
import { parseCreateCustomer, parseSearch, parseUpdateCustomer } from './customer-input.js';

export const CUSTOMER_PAGE_SIZE = 1000;
export const MEMBERSHIP_PAGE_SIZE = 10;

export interface ListCustomersOptions {
  sort?: CustomerSort | undefined;
  email?: string | undefined;
  phoneNumber?: string | undefined;
  after?: string | undefined;
  limit?: number | undefined;
}

export function createCustomerService(store: Store, options: { defaultPhoneRegion: CountryCode }) {
  const reads = createCustomerReads(store);
  const memberships = createMembershipReads(store);
  const region = options.defaultPhoneRegion;

  async function getCustomerRow(organizationId: string, id: string): Promise<CustomerRow> {
    const row = await reads.findById(organizationId, id);
    if (!row) throw notFound('Customer');
    return row;
  }

  return {
    getCustomerRow,

    async getCustomer(organizationId: string, id: string): Promise<Customer> {
      return customerRowToCustomer(await getCustomerRow(organizationId, id));
    },

    async listCustomers(organizationId: string, options: ListCustomersOptions): Promise<Page<Customer>> {
      const sort = options.sort ?? 'created';
      const search = parseSearch(options.email, options.phoneNumber, region);
      const limit = options.limit ?? CUSTOMER_PAGE_SIZE;
      const queryId = fingerprint('customers', organizationId, sort, search.kind, search.value);
      const [afterAt, afterId] = options.after
        ? (decodeCursor(options.after, queryId, ['number', 'string']) as [number, string])
        : [FIRST_PAGE_KEY.at, FIRST_PAGE_KEY.id];
      const column = sort === 'updated' ? 'updated_at' : 'created_at';
      const rows = await reads.listPage({
        organizationId,
        sort: column,
        filter: search.kind,
        value: search.value,
        afterAt,
        afterId,
        limit: limit + 1,
      });
      return toPage(rows, limit, queryId, (row) => [row[column], row.id], customerRowToCustomer);
    },

    async listMemberships(
      organizationId: string,
      customerId: string,
      options: { after?: string | undefined; limit?: number | undefined },
    ): Promise<Page<CustomerListTiny>> {
      const limit = options.limit ?? MEMBERSHIP_PAGE_SIZE;
      const queryId = fingerprint('memberships', organizationId, customerId);
      const [afterListId] = options.after ? (decodeCursor(options.after, queryId, ['string']) as [string]) : [''];
      // The customer's existence is checked after the cursor so that a bad cursor is a 400 either way.
      await getCustomerRow(organizationId, customerId);
      const rows = await memberships.listMemberships(organizationId, customerId, afterListId, limit + 1);
      return toPage(rows, limit, queryId, (row) => [row.id], (row) => ({ id: row.id, name: row.name }));
    },

    async createCustomer(organizationId: string, body: CreateCustomerBody): Promise<Customer> {
      const { fields, createdAt } = parseCreateCustomer(body, region);
      const row = await store.db.transaction().execute(async (trx) => {
        const tick = await advanceOrganizationClock(trx, store, organizationId, 0);
        if (!tick) throw notFound('Organization');
        const created: CustomerRow = {
          organization_id: organizationId,
          id: newId(createdAt ?? tick.now),
          first_name: fields.first_name,
          last_name: fields.last_name,
          email: fields.email ?? null,
          email_normalized: fields.email_normalized ?? null,
          phone_number: fields.phone_number ?? null,
          dob: fields.dob ?? null,
          gender: fields.gender ?? null,
          has_agreed_to_marketing: fields.has_agreed_to_marketing ?? null,
          created_at: createdAt ?? tick.now,
          updated_at: tick.now,
          points_balance: 0,
          total_points_earned: 0,
          total_points_redeemed: 0,
          total_spend: 0,
          last_points_earned_at: null,
          last_points_redeemed_at: null,
          last_spent_at: null,
        };
        await insertCustomer(trx, created);
        await recordEvents(trx, organizationId, tick.now, [customerCreated(created)]);
        return created;
      });
      return customerRowToCustomer(row);
    },

    async updateCustomer(organizationId: string, id: string, body: UpdateCustomerBody): Promise<Customer> {
      const fields = parseUpdateCustomer(body, region);
      const row = await store.db.transaction().execute(async (trx) => {
        const tick = await advanceOrganizationClock(trx, store, organizationId, 0);
        if (!tick) throw notFound('Customer');
        const current = await findCustomerForUpdate(trx, organizationId, id);
        if (!current) throw notFound('Customer');
        const changed = (Object.keys(fields) as (keyof typeof fields)[]).some((key) => fields[key] !== current[key]);
        // A PATCH that changes nothing leaves updatedAt alone, so it does not wake up every syncing client.
        if (!changed) return current;
        const updated = (await updateCustomer(trx, organizationId, id, { ...fields, updated_at: tick.now }))!;
        await recordEvents(trx, organizationId, tick.now, [customerUpdated(updated)]);
        return updated;
      });
      return customerRowToCustomer(row);
    },
  };
}
export type CustomerService = ReturnType<typeof createCustomerService>;
