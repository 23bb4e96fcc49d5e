import { badRequest, notFound } from '../../errors.js';
import type { CustomerList, CustomerListBody, CustomerListMember } from '../../contract/customer-lists.js';
import { findCustomerForUpdate } from '../../store/repositories/customer-repository.js';
import {
  adjustMemberCount,
  createCustomerListReads,
  deleteCustomerList,
  deleteMembership,
  findCustomerListForUpdate,
  insertCustomerList,
  insertMembership,
  renameCustomerList,
  type CustomerListRow,
  type ListMemberRow,
} from '../../store/repositories/customer-list-repository.js';
import type { Store } from '../../store/store.js';
import { listChanged, membershipChanged, recordEvents } from '../events/event-log.js';
import { newId } from '../ids.js';
import { writeInOrganization } from '../organization-write.js';
import { decodeCursor, fingerprint, toPage, type Page } from '../paging.js';
import { formatSeconds } from '../time.js';

export const CUSTOMER_LIST_PAGE_SIZE = 100;
export const LIST_MEMBER_PAGE_SIZE = 100;

export function customerListRowToCustomerList(row: CustomerListRow): CustomerList {
  return { createdAt: formatSeconds(row.created_at), id: row.id, memberCount: row.member_count, name: row.name };
}

function memberRowToMember(row: ListMemberRow): CustomerListMember {
  const member: CustomerListMember = {
    addedAt: formatSeconds(row.added_at),
    firstName: row.first_name,
    id: row.customer_id,
    lastName: row.last_name,
  };
  if (row.email !== null) member.email = row.email;
  if (row.phone_number !== null) member.phoneNumber = row.phone_number;
  return member;
}

function parseName(body: CustomerListBody): string {
  const name = body.name.trim();
  if (name === '') throw badRequest('Invalid name', [{ field: 'name', message: 'must not be blank' }]);
  return name;
}

/**
 * Customer lists. Every write takes the organization lock first, so member
 * counts change in the same serialized transaction as the membership rows and
 * stay exact under concurrency.
 */
export function createCustomerListService(store: Store) {
  const reads = createCustomerListReads(store);

  return {
    async listCustomerLists(
      organizationId: string,
      options: { after?: string | undefined; limit?: number | undefined },
    ): Promise<Page<CustomerList>> {
      const limit = options.limit ?? CUSTOMER_LIST_PAGE_SIZE;
      const queryId = fingerprint('customer-lists', organizationId);
      const [afterId] = options.after ? (decodeCursor(options.after, queryId, ['string']) as [string]) : [''];
      const rows = await reads.listPage(organizationId, afterId, limit + 1);
      return toPage(rows, limit, queryId, (row) => [row.id], customerListRowToCustomerList);
    },

    async getCustomerList(organizationId: string, listId: string): Promise<CustomerList> {
      const row = await reads.findById(organizationId, listId);
      if (!row) throw notFound('Customer list');
      return customerListRowToCustomerList(row);
    },

    async listMembers(
      organizationId: string,
      listId: string,
      options: { after?: string | undefined; limit?: number | undefined },
    ): Promise<Page<CustomerListMember>> {
      const limit = options.limit ?? LIST_MEMBER_PAGE_SIZE;
      const queryId = fingerprint('customer-list-members', organizationId, listId);
      const [afterId] = options.after ? (decodeCursor(options.after, queryId, ['string']) as [string]) : [''];
      if (!(await reads.findById(organizationId, listId))) throw notFound('Customer list');
      const rows = await reads.listMembers(organizationId, listId, afterId, limit + 1);
      return toPage(rows, limit, queryId, (row) => [row.customer_id], memberRowToMember);
    },

    async createCustomerList(organizationId: string, body: CustomerListBody): Promise<CustomerList> {
      const name = parseName(body);
      const row = await writeInOrganization(store, organizationId, async (trx, now) => {
        const created: CustomerListRow = {
          organization_id: organizationId,
          id: newId(now),
          name,
          created_at: now,
          member_count: 0,
        };
        await insertCustomerList(trx, created);
        await recordEvents(trx, store, organizationId, now, [listChanged('customer-list.created', created)]);
        return created;
      });
      return customerListRowToCustomerList(row);
    },

    async renameCustomerList(organizationId: string, listId: string, body: CustomerListBody): Promise<CustomerList> {
      const name = parseName(body);
      const row = await writeInOrganization(store, organizationId, async (trx, now) => {
        const current = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!current) throw notFound('Customer list');
        if (current.name === name) return current;
        const renamed = (await renameCustomerList(trx, organizationId, listId, name))!;
        await recordEvents(trx, store, organizationId, now, [listChanged('customer-list.updated', renamed)]);
        return renamed;
      });
      return customerListRowToCustomerList(row);
    },

    async deleteCustomerList(organizationId: string, listId: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        const current = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!current) throw notFound('Customer list');
        await deleteCustomerList(trx, organizationId, listId);
        await recordEvents(trx, store, organizationId, now, [listChanged('customer-list.deleted', current)]);
      });
    },

    /** Idempotent: adding a member twice changes nothing the second time and writes no event. */
    async addMember(organizationId: string, listId: string, customerId: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        const list = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!list) throw notFound('Customer list');
        const customer = await findCustomerForUpdate(trx, organizationId, customerId);
        if (!customer) throw notFound('Customer');
        if (!(await insertMembership(trx, organizationId, listId, customerId, now))) return;
        await adjustMemberCount(trx, organizationId, listId, 1);
        await recordEvents(trx, store, organizationId, now, [
          membershipChanged('customer-list.member-added', list, customer),
        ]);
      });
    },

    async removeMember(organizationId: string, listId: string, customerId: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        const list = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!list) throw notFound('Customer list');
        const customer = await findCustomerForUpdate(trx, organizationId, customerId);
        if (!customer) throw notFound('Customer');
        if (!(await deleteMembership(trx, organizationId, listId, customerId))) throw notFound('Membership');
        await adjustMemberCount(trx, organizationId, listId, -1);
        await recordEvents(trx, store, organizationId, now, [
          membershipChanged('customer-list.member-removed', list, customer),
        ]);
      });
    },
  };
}
export type CustomerListService = ReturnType<typeof createCustomerListService>;
