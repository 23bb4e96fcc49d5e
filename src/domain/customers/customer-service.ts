import type { CountryCode } from 'libphonenumber-js/max';
import { badRequest, conflict, notFound, preconditionFailed } from '../../errors.js';
import type {
  CreateCustomerBody,
  Customer,
  CustomerListTiny,
  CustomerSort,
  UpdateCustomerBody,
} from '../../contract/customers.js';
import {
  createCustomerReads,
  findCustomerForUpdate,
  deleteCustomerRow,
  insertCustomer,
  updateCustomer,
  type CustomerPageQuery,
  type CustomerRow,
  type CustomerSortColumn,
  type CustomerVersionRow,
} from '../../store/repositories/customer-repository.js';
import { createMembershipReads } from '../../store/repositories/membership-repository.js';
import { deleteCustomerMemberships } from '../../store/repositories/customer-list-repository.js';
import { findCustomerEvents, replaceEventPayload } from '../../store/repositories/event-repository.js';
import {
  deleteIdempotencyKeysOfCustomer,
  findIdempotencyKey,
  findIdempotencyKeysOfCustomer,
  findIdempotencyTombstone,
  insertIdempotencyKey,
  insertIdempotencyTombstones,
  purgeExpiredIdempotencyKeys,
} from '../../store/repositories/idempotency-repository.js';
import { deleteCustomerLedgers } from '../../store/repositories/ledger-repository.js';
import { detachCustomerPayments } from '../../store/repositories/payment-repository.js';
import type { Store } from '../../store/store.js';
import {
  customerCreated,
  customerDeleted,
  customerUpdated,
  recordEvents,
  scrubEventPayload,
} from '../events/event-log.js';
import { newId } from '../ids.js';
import { reevaluateSegments } from '../segments/segment-membership.js';
import { writeInOrganization } from '../organization-write.js';
import { decodeCursor, encodeCursor, fingerprint, timeKeysetAfter, toPage, type Page } from '../paging.js';
import { createCustomerBodyCache, joinBodies } from './customer-bodies.js';
import { customerRowToJson } from './customer-json.js';
import { customerRowToCustomer, customerRowToETag, EMPTY_STATISTICS } from './customer-mapper.js';
import {
  mergeMetadata,
  parseCreateCustomer,
  parseCustomerFilters,
  parseSearch,
  parseTextSearch,
  parseUpdateCustomer,
  toProfile,
} from './customer-input.js';
import { findCustomerQueryPage, type CustomerFilters } from '../../store/repositories/customer-query-repository.js';
import { hashIdempotencyKey, hashRequest, ifMatchAllows, parseIdempotencyKey } from './write-preconditions.js';

export const CUSTOMER_PAGE_SIZE = 1000;
export const MEMBERSHIP_PAGE_SIZE = 10;

export interface ListCustomersOptions {
  sort?: CustomerSort | undefined;
  email?: string | undefined;
  phoneNumber?: string | undefined;
  /** Partial search: most relevant first unless `sort` is given. */
  q?: string | undefined;
  /** Filter parameters as the query string gives them (`gender`, `metadata.tier`, ...); see parseCustomerFilters. */
  filters?: Readonly<Record<string, unknown>> | undefined;
  after?: string | undefined;
  limit?: number | undefined;
}

export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

export interface VersionedCustomer {
  customer: Customer;
  etag: string;
}

export interface CreatedCustomer extends VersionedCustomer {
  /** True when an Idempotency-Key retry got the first response back. */
  replayed: boolean;
}

export interface CreateOptions {
  idempotencyKey?: string | undefined;
}

export interface UpdateOptions {
  ifMatch?: string | undefined;
}

function toVersioned(row: CustomerRow): VersionedCustomer {
  return { customer: customerRowToCustomer(row), etag: customerRowToETag(row) };
}

export function createCustomerService(
  store: Store,
  options: { defaultPhoneRegion: CountryCode; customerBodies?: number | undefined },
) {
  const reads = createCustomerReads(store);
  const bodies = createCustomerBodyCache(options.customerBodies);
  const memberships = createMembershipReads(store);
  const region = options.defaultPhoneRegion;

  /** The statement and cursor of a listing without q or filters (email and phoneNumber are allowed). */
  function plainListing(organizationId: string, options: ListCustomersOptions) {
    const sort = options.sort ?? 'created';
    const search = parseSearch(options.email, options.phoneNumber, region);
    const limit = options.limit ?? CUSTOMER_PAGE_SIZE;
    const queryId = fingerprint('customers', organizationId, sort, search.kind, search.value);
    const [afterAt, afterId] = timeKeysetAfter(options.after, queryId);
    const column: CustomerSortColumn = sort === 'updated' ? 'updated_at' : 'created_at';
    const page: CustomerPageQuery = {
      organizationId,
      sort: column,
      filter: search.kind,
      value: search.value,
      afterAt,
      afterId,
      limit: limit + 1,
    };
    const keyOf = (row: CustomerVersionRow): [number, string] => [row[column], row.id];
    return { page, limit, queryId, keyOf };
  }

  async function findCustomerRow(organizationId: string, id: string): Promise<CustomerRow> {
    const row = await reads.findById(organizationId, id);
    if (!row) throw notFound('Customer');
    return row;
  }

  async function createCustomerRow(
    organizationId: string,
    body: CreateCustomerBody,
    options: CreateOptions,
  ): Promise<CreatedCustomer> {
    const { fields, createdAt } = parseCreateCustomer(body, region);
    const key = options.idempotencyKey === undefined ? undefined : parseIdempotencyKey(options.idempotencyKey);
    const requestHash = key === undefined ? '' : hashRequest(body);
    return writeInOrganization(store, organizationId, { events: 1 }, async (trx, now) => {
      if (key !== undefined) {
        // The organization lock makes this check-then-insert safe against a concurrent retry.
        await purgeExpiredIdempotencyKeys(trx, organizationId, now);
        const previous = await findIdempotencyKey(trx, organizationId, key);
        if (previous) {
          if (previous.request_hash !== requestHash) {
            throw conflict('This Idempotency-Key was used with a different request body');
          }
          return { ...(JSON.parse(previous.response) as VersionedCustomer), replayed: true };
        }
        if (await findIdempotencyTombstone(trx, organizationId, hashIdempotencyKey(key))) {
          throw conflict(
            'The customer created with this Idempotency-Key was erased; a retry does not re-create them. Use a new key to create a customer',
          );
        }
      }
      const created: CustomerRow = {
        organization_id: organizationId,
        id: newId(createdAt ?? now),
        ...toProfile(fields),
        created_at: createdAt ?? now,
        updated_at: now,
        ...EMPTY_STATISTICS,
      };
      await insertCustomer(trx, created);
      await recordEvents(trx, store, organizationId, now, [customerCreated(created)]);
      await reevaluateSegments(trx, store, organizationId, [created.id], now);
      const result = toVersioned(created);
      if (key !== undefined) {
        await insertIdempotencyKey(trx, {
          organization_id: organizationId,
          key,
          request_hash: requestHash,
          customer_id: created.id,
          response: JSON.stringify(result),
          expires_at: now + IDEMPOTENCY_TTL_MS,
        });
      }
      return { ...result, replayed: false };
    });
  }

  async function updateCustomerRow(
    organizationId: string,
    id: string,
    body: UpdateCustomerBody,
    options: UpdateOptions,
  ): Promise<VersionedCustomer> {
    const { fields: given, metadataPatch } = parseUpdateCustomer(body, region);
    const row = await writeInOrganization(store, organizationId, { events: 1 }, async (trx, now) => {
      const current = await findCustomerForUpdate(trx, organizationId, id);
      if (!current) throw notFound('Customer');
      if (options.ifMatch !== undefined && !ifMatchAllows(options.ifMatch, customerRowToETag(current))) {
        throw preconditionFailed('If-Match does not match the current ETag of this customer; GET it again and retry');
      }
      // Merged here, against the row locked for this write, so concurrent PATCHes of different keys both count.
      const fields =
        metadataPatch === undefined ? given : { ...given, metadata: mergeMetadata(current.metadata, metadataPatch) };
      const changed = (Object.keys(fields) as (keyof typeof fields)[]).filter((key) => fields[key] !== current[key]);
      // A PATCH that changes nothing leaves updatedAt alone, so it does not wake up every syncing client.
      if (changed.length === 0) return current;
      const updated = (await updateCustomer(trx, organizationId, id, { ...fields, updated_at: now }))!;
      await recordEvents(trx, store, organizationId, now, [customerUpdated(updated)]);
      await reevaluateSegments(trx, store, organizationId, [id], now, {
        changed: new Set([...changed, 'updated_at']),
        row: updated,
      });
      return updated;
    });
    return toVersioned(row);
  }

  /**
   * `q` and the filters: partial search through the search index, by relevance (or `sort`), and any filters, by
   * `sort` (default created), keyset-paged.
   */
  async function queryCustomers(
    organizationId: string,
    options: ListCustomersOptions,
    filters: CustomerFilters,
  ): Promise<Page<Customer>> {
    if (options.q !== undefined && (options.email !== undefined || options.phoneNumber !== undefined)) {
      throw badRequest('Search by q, or by the exact email or phoneNumber, not both', [
        { field: 'q', message: 'cannot be combined with email or phoneNumber' },
      ]);
    }
    const search = options.q === undefined ? undefined : parseTextSearch(options.q, region);
    const exact = parseSearch(options.email, options.phoneNumber, region);
    const withExact: CustomerFilters =
      exact.kind === 'email'
        ? { ...filters, email: exact.value }
        : exact.kind === 'phone'
          ? { ...filters, phoneNumber: exact.value }
          : filters;
    const order =
      options.sort === undefined
        ? search
          ? 'relevance'
          : 'created_at'
        : options.sort === 'updated'
          ? 'updated_at'
          : 'created_at';
    const limit = options.limit ?? CUSTOMER_PAGE_SIZE;
    const queryId = fingerprint('customers:query', organizationId, order, search?.text, JSON.stringify(withExact));
    const after = options.after
      ? (decodeCursor(options.after, queryId, ['number', 'string']) as [number, string])
      : undefined;
    const rows = await findCustomerQueryPage(store, {
      organizationId,
      search,
      filters: withExact,
      order,
      after,
      limit: limit + 1,
    });
    return toPage(
      rows,
      limit,
      queryId,
      (row) => [order === 'relevance' ? row.search_rank : row[order], row.id],
      customerRowToCustomer,
    );
  }

  return {
    async getCustomer(organizationId: string, id: string): Promise<Customer> {
      return customerRowToCustomer(await findCustomerRow(organizationId, id));
    },

    async listCustomers(organizationId: string, options: ListCustomersOptions): Promise<Page<Customer>> {
      const filters = parseCustomerFilters(options.filters ?? {});
      if (options.q !== undefined || Object.keys(filters).length > 0) {
        return queryCustomers(organizationId, options, filters);
      }
      const listing = plainListing(organizationId, options);
      const rows = await reads.listPage(listing.page);
      return toPage(rows, listing.limit, listing.queryId, listing.keyOf, customerRowToCustomer);
    },

    /**
     * The listing without q or filters (email or phoneNumber allowed) as the JSON of its page (UTF-8), each
     * customer written straight from its row (customer-json.ts), for the unfiltered listing once per version
     * (customer-bodies.ts); undefined for any other listing, which `listCustomers` answers. The text is what
     * serializing `listCustomers(...).items` would give.
     */
    async listCustomerBodies(
      organizationId: string,
      options: ListCustomersOptions,
    ): Promise<{ body: Buffer; next: string | undefined } | undefined> {
      if (options.q !== undefined) return undefined;
      if (Object.keys(parseCustomerFilters(options.filters ?? {})).length > 0) return undefined;
      const { page, limit, queryId, keyOf } = plainListing(organizationId, options);
      const nextOf = (rows: readonly CustomerVersionRow[]) =>
        rows.length > limit ? encodeCursor(queryId, keyOf(rows[limit - 1]!)) : undefined;
      if (page.filter !== 'none') {
        // An email or phone search finds one customer or a few, rarely the same ones twice: nothing is kept.
        const rows = await reads.listPage(page);
        return { body: joinBodies(rows.slice(0, limit).map(customerRowToJson)), next: nextOf(rows) };
      }
      const pageKey = `${organizationId}\u0000${page.sort}\u0000${page.afterAt}\u0000${page.afterId}\u0000${limit}`;
      const visits = bodies.visit(pageKey);
      if (visits >= 2) {
        // Read again: only the versions, and the bodies kept for them if every one is current.
        const versions = await reads.listPageVersions(page);
        const served = Math.min(versions.length, limit);
        const parts = new Array<string>(served);
        let i = 0;
        for (; i < served; i++) {
          const row = versions[i]!;
          const body = bodies.get(organizationId, row.id, row.updated_at);
          if (body === undefined) break;
          parts[i] = body;
        }
        if (i === served) return { body: joinBodies(parts), next: nextOf(versions) };
      }
      const rows = await reads.listPage(page);
      const served = Math.min(rows.length, limit);
      const parts = new Array<string>(served);
      for (let i = 0; i < served; i++) {
        const row = rows[i]!;
        let body = visits === 0 ? undefined : bodies.get(organizationId, row.id, row.updated_at);
        if (body === undefined) {
          body = customerRowToJson(row);
          if (visits > 0) bodies.set(organizationId, row.id, row.updated_at, body);
        }
        parts[i] = body;
      }
      return { body: joinBodies(parts), next: nextOf(rows) };
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
      await findCustomerRow(organizationId, customerId);
      const rows = await memberships.listMemberships(organizationId, customerId, afterListId, limit + 1);
      return toPage(
        rows,
        limit,
        queryId,
        (row) => [row.id],
        (row) => ({ id: row.id, name: row.name }),
      );
    },

    async createCustomer(organizationId: string, body: CreateCustomerBody): Promise<Customer> {
      return (await createCustomerRow(organizationId, body, {})).customer;
    },

    /** Creates a customer; with an Idempotency-Key a retry gets the first response back. */
    createCustomerWithETag: (organizationId: string, body: CreateCustomerBody, options: CreateOptions) =>
      createCustomerRow(organizationId, body, options),

    /**
     * The customer as the JSON text of its response body, written straight from the row (customer-json.ts: the
     * bytes the route's serializer gives for `getCustomer(...)`), and its ETag.
     */
    async getCustomerJson(organizationId: string, id: string): Promise<{ body: string; etag: string }> {
      const row = await findCustomerRow(organizationId, id);
      return { body: customerRowToJson(row), etag: customerRowToETag(row) };
    },

    async updateCustomer(organizationId: string, id: string, body: UpdateCustomerBody): Promise<Customer> {
      return (await updateCustomerRow(organizationId, id, body, {})).customer;
    },

    /** Updates a customer; a given If-Match must match the current ETag (else 412 and nothing changes). */
    updateCustomerWithETag: (organizationId: string, id: string, body: UpdateCustomerBody, options: UpdateOptions) =>
      updateCustomerRow(organizationId, id, body, options),

    /**
     * Erasure: deletes the customer row, their points ledger, memberships
     * (member counts follow) and idempotency records (each key leaves a tombstone of its hash, so a retry is a 409,
     * not a new person), keeps their payments (accounting) without the customer, and scrubs their personal data
     * from every earlier event, leaving `{id}` in its place. A
     * `customer.deleted` tombstone event records the erasure.
     */
    async deleteCustomer(organizationId: string, id: string): Promise<void> {
      await writeInOrganization(store, organizationId, async (trx, now) => {
        if (!(await findCustomerForUpdate(trx, organizationId, id))) throw notFound('Customer');
        await deleteCustomerMemberships(trx, organizationId, id);
        await deleteCustomerLedgers(trx, organizationId, id);
        await detachCustomerPayments(trx, organizationId, id, now);
        const keys = await findIdempotencyKeysOfCustomer(trx, organizationId, id);
        await insertIdempotencyTombstones(
          trx,
          keys.map((k) => ({
            organization_id: organizationId,
            key_hash: hashIdempotencyKey(k.key),
            expires_at: k.expires_at,
          })),
        );
        await deleteIdempotencyKeysOfCustomer(trx, organizationId, id);
        for (const event of await findCustomerEvents(trx, organizationId, id)) {
          await replaceEventPayload(trx, organizationId, event.sequence, scrubEventPayload(event.payload, id));
        }
        await deleteCustomerRow(trx, organizationId, id);
        await recordEvents(trx, store, organizationId, now, [customerDeleted(id)]);
      });
      // Earlier versions of the erased rows must not survive in the database's files either.
      await store.purgeErasedData();
    },
  };
}
export type CustomerService = ReturnType<typeof createCustomerService>;
