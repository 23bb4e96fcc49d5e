import { badRequest, conflict, notFound, segmentMembership } from '../../errors.js';
import type { CustomerList, CustomerListBody, CustomerListMember } from '../../contract/customer-lists.js';
import { findCustomerForUpdate } from '../../store/repositories/customer-repository.js';
import {
  adjustMemberCount,
  createCustomerListReads,
  deleteCustomerList,
  deleteMembership,
  findCustomerListForUpdate,
  findSegmentsNamingLists,
  insertCustomerList,
  insertMembership,
  renameCustomerList,
  restartSegmentBuild,
  type CustomerListRow,
  type ListMemberRow,
} from '../../store/repositories/customer-list-repository.js';
import type { Store } from '../../store/store.js';
import { listChanged, membershipChanged, recordEvents } from '../events/event-log.js';
import { newId } from '../ids.js';
import { forgetSegmentVersion, writeInOrganization } from '../organization-write.js';
import { decodeCursor, fingerprint, toPage, type Page } from '../paging.js';
import { formatSeconds } from '../time.js';
import { parseSegmentFilter, storedSegmentFilter } from '../segments/segment-filter.js';
import type { SegmentBuilder } from '../segments/segment-builder.js';
import { reevaluateSegments } from '../segments/segment-membership.js';
import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';

export const CUSTOMER_LIST_PAGE_SIZE = 100;
export const LIST_MEMBER_PAGE_SIZE = 100;

export function customerListRowToCustomerList(row: CustomerListRow): CustomerList {
  const list: CustomerList = {
    createdAt: formatSeconds(row.created_at),
    id: row.id,
    memberCount: Number(row.member_count),
    name: row.name,
  };
  if (row.filter !== null) {
    list.filter = storedSegmentFilter(row.filter);
    list.status = row.segment_status ?? 'ready';
  }
  return list;
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
 * A segment's filter naming a list (`listId`): the list must exist and must not be the segment itself or a segment
 * whose filter leads back to it (membership would depend on itself).
 */
async function checkNamedList(
  trx: Transaction<Database>,
  organizationId: string,
  segmentId: string,
  filter: { listId?: string },
): Promise<void> {
  const seen = new Set<string>([segmentId]);
  let listId = filter.listId;
  while (listId !== undefined) {
    if (seen.has(listId)) {
      throw badRequest('Invalid filter.listId', [
        { field: 'filter.listId', message: 'must not name this segment, nor a segment that names it' },
      ]);
    }
    seen.add(listId);
    const named = await findCustomerListForUpdate(trx, organizationId, listId);
    if (!named) {
      throw badRequest('Invalid filter.listId', [
        { field: 'filter.listId', message: 'no customer list of this organization has this id' },
      ]);
    }
    listId = named.filter === null ? undefined : (storedSegmentFilter(named.filter).listId as string | undefined);
  }
}

/**
 * Customer lists. Every write takes the organization lock first, so member
 * counts change in the same serialized transaction as the membership rows and
 * stay exact under concurrency.
 */
export function createCustomerListService(store: Store, segments: SegmentBuilder) {
  const reads = createCustomerListReads(store);

  /** Starts a segment's background build once its transaction committed. */
  function startBuild(row: CustomerListRow): void {
    if (row.segment_status === 'building') void segments.build(row.organization_id, row.id);
  }

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

    /** With a `filter`, a segment: created empty and `building`, filled in the background. */
    async createCustomerList(organizationId: string, body: CustomerListBody): Promise<CustomerList> {
      const name = parseName(body);
      const segment = body.filter === undefined ? undefined : parseSegmentFilter(body.filter);
      const row = await writeInOrganization(store, organizationId, async (trx, now) => {
        forgetSegmentVersion(trx);
        const id = newId(now);
        if (segment) await checkNamedList(trx, organizationId, id, segment.rule.filters);
        const created: CustomerListRow = {
          organization_id: organizationId,
          id,
          name,
          created_at: now,
          member_count: 0,
          filter: segment?.stored ?? null,
          segment_status: segment ? 'building' : null,
          build_after: segment ? '' : null,
          build_owner: null,
          build_lease_until: null,
        };
        await insertCustomerList(trx, created);
        await recordEvents(trx, store, organizationId, now, [listChanged('customer-list.created', created)]);
        return created;
      });
      startBuild(row);
      return customerListRowToCustomerList(row);
    },

    /** Renames a list; a `filter` changes a segment's filter, and the segment is built again. */
    async renameCustomerList(organizationId: string, listId: string, body: CustomerListBody): Promise<CustomerList> {
      const name = parseName(body);
      const segment = body.filter === undefined ? undefined : parseSegmentFilter(body.filter);
      const row = await writeInOrganization(store, organizationId, async (trx, now) => {
        forgetSegmentVersion(trx);
        const current = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!current) throw notFound('Customer list');
        if (segment && current.filter === null) {
          throw conflict('A manual list cannot become a segment; create a segment (POST with a filter) instead');
        }
        const refilter = segment !== undefined && segment.stored !== current.filter;
        if (current.name === name && !refilter) return current;
        if (refilter) await checkNamedList(trx, organizationId, listId, segment.rule.filters);
        const updated = refilter
          ? (await restartSegmentBuild(trx, organizationId, listId, { name, filter: segment.stored }))!
          : (await renameCustomerList(trx, organizationId, listId, name))!;
        await recordEvents(trx, store, organizationId, now, [listChanged('customer-list.updated', updated)]);
        return updated;
      });
      startBuild(row);
      return customerListRowToCustomerList(row);
    },

    async deleteCustomerList(organizationId: string, listId: string): Promise<void> {
      const dependents = await writeInOrganization(store, organizationId, async (trx, now) => {
        forgetSegmentVersion(trx);
        const current = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!current) throw notFound('Customer list');
        await deleteCustomerList(trx, organizationId, listId);
        await recordEvents(trx, store, organizationId, now, [listChanged('customer-list.deleted', current)]);
        // Segments that named it lose the members it gave them: built again.
        const dependents = await findSegmentsNamingLists(trx, organizationId, [listId]);
        for (const dependent of dependents) await restartSegmentBuild(trx, organizationId, dependent.id, {});
        return dependents;
      });
      for (const dependent of dependents) void segments.build(organizationId, dependent.id);
    },

    /** Idempotent: adding a member twice changes nothing the second time and writes no event. */
    async addMember(organizationId: string, listId: string, customerId: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        const list = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!list) throw notFound('Customer list');
        if (list.filter !== null) throw segmentMembership(listId);
        const customer = await findCustomerForUpdate(trx, organizationId, customerId);
        if (!customer) throw notFound('Customer');
        if (!(await insertMembership(trx, organizationId, listId, customerId, now))) return;
        await adjustMemberCount(trx, organizationId, listId, 1);
        await recordEvents(trx, store, organizationId, now, [
          membershipChanged('customer-list.member-added', list, customer),
        ]);
        await reevaluateSegments(trx, store, organizationId, [customerId], now);
      });
    },

    async removeMember(organizationId: string, listId: string, customerId: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        const list = await findCustomerListForUpdate(trx, organizationId, listId);
        if (!list) throw notFound('Customer list');
        if (list.filter !== null) throw segmentMembership(listId);
        const customer = await findCustomerForUpdate(trx, organizationId, customerId);
        if (!customer) throw notFound('Customer');
        if (!(await deleteMembership(trx, organizationId, listId, customerId))) throw notFound('Membership');
        await adjustMemberCount(trx, organizationId, listId, -1);
        await recordEvents(trx, store, organizationId, now, [
          membershipChanged('customer-list.member-removed', list, customer),
        ]);
        await reevaluateSegments(trx, store, organizationId, [customerId], now);
      });
    },
  };
}
export type CustomerListService = ReturnType<typeof createCustomerListService>;
