import type { CustomerList, CustomerListBody, CustomerListMember, SegmentFilter } from '../contract/customer-lists.js';
import type { EventOrder, FeedEvent } from '../contract/events.js';
import type { CreateLocationBody, Location, UpdateLocationBody } from '../contract/locations.js';
import type { PointsBody, PointsEntry, SpendBody } from '../contract/ledgers.js';
import type { InsightInterval, Insights } from '../contract/insights.js';
import type { TokenInfoBody } from '../contract/token-info.js';
import type { ImportJob, ImportReject } from '../contract/imports.js';
import type { Payment, PaymentSort, RecordPaymentBody, RefundPaymentBody } from '../contract/payments.js';
import type { Organization } from '../contract/organizations.js';
import type {
  CreateCustomerBody,
  Customer,
  CustomerListTiny,
  CustomerSort,
  UpdateCustomerBody,
} from '../contract/customers.js';
import { PagedList } from './paging.js';
import { sleep, Transport, type CallOptions, type FetchLike, type RetryEvent } from './transport.js';

export { CustomersApiError, type ErrorDetail } from './errors.js';
export { PagedList, cursorFromNextPage, type Page } from './paging.js';
export { isRetryable, parseRetryAfter, type CallOptions, type FetchLike, type RetryEvent } from './transport.js';
export type {
  CreateCustomerBody,
  Customer,
  CustomerListTiny,
  CustomerSort,
  CustomerStatistics,
  UpdateCustomerBody,
} from '../contract/customers.js';
export type { Organization, OrganizationTiny } from '../contract/organizations.js';
export type { CustomerList, CustomerListBody, CustomerListMember, SegmentFilter } from '../contract/customer-lists.js';
export type { EventOrder, FeedEvent } from '../contract/events.js';
export type { CreateLocationBody, Location, LocationTiny, UpdateLocationBody } from '../contract/locations.js';
export type { PointsBody, PointsEntry, SpendBody } from '../contract/ledgers.js';
export type { InsightInterval, Insights } from '../contract/insights.js';
export type { TokenInfoBody as TokenInfo } from '../contract/token-info.js';
export type { ImportJob, ImportReject } from '../contract/imports.js';

/** A customer file's format: one JSON customer a line, or CSV with the import columns. */
export type CustomerFileFormat = 'ndjson' | 'csv';
const FILE_CONTENT_TYPES: Record<CustomerFileFormat, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
};
export type { Payment, PaymentItem, PaymentSort, RecordPaymentBody, RefundPaymentBody } from '../contract/payments.js';

export interface CustomersClientOptions {
  /** Where the API is, e.g. `https://api.loke.global` or `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** A bearer token (`customers-api token create`). */
  token: string;
  /** A fetch implementation; defaults to the global one (Node 20, browsers). */
  fetch?: FetchLike;
  /** Per-attempt timeout in milliseconds (default 30000). */
  timeoutMs?: number;
  /** How many times a retryable request is sent again after a 429, a 503 or a network error (default 3). */
  retries?: number;
  /** First backoff delay in milliseconds when the server sends no Retry-After (default 250; doubles with jitter). */
  retryBaseDelayMs?: number;
  /** Upper bound of any single wait, Retry-After included (default 30000). */
  maxRetryDelayMs?: number;
  /** Sent as User-Agent where the runtime allows it (not in browsers). */
  userAgent?: string;
  /** Called before each retry wait, e.g. to log it. */
  onRetry?: (event: RetryEvent) => void;
  /**
   * A consistency token to start from: `client.consistencyToken` of another client (another process) whose writes
   * this client's reads must see. Each client keeps the latest token its responses carried and sends it with its
   * reads, so on a server with read replicas it always reads its own writes.
   */
  consistencyToken?: string;
}

export interface ListCustomersOptions extends CallOptions {
  /** `created` (default) or `updated`, most recent first. */
  sort?: CustomerSort;
  /** Exact, case-insensitive email match. */
  email?: string;
  /** Phone number; national numbers are read in the server's default region. */
  phoneNumber?: string;
  /** Page size (extension), 1..1000. */
  limit?: number;
}

/** The filters of the customer list (extension), combinable with each other and with `q`. */
export interface CustomerFilterOptions {
  hasAgreedToMarketing?: boolean;
  /** RFC 3339; compared to the second, as customers show their times. */
  createdAfter?: string;
  createdBefore?: string;
  updatedAfter?: string;
  updatedBefore?: string;
  pointsBalanceMin?: number;
  pointsBalanceMax?: number;
  totalSpendMin?: number;
  totalSpendMax?: number;
  gender?: 'MALE' | 'FEMALE' | 'OTHER';
  /** Members of this customer list. */
  listId?: string;
  /** Exact values of metadata keys: `{ tier: 'gold' }` is `metadata.tier=gold`. */
  metadata?: Readonly<Record<string, string>>;
}

export interface SearchCustomersOptions extends CallOptions, CustomerFilterOptions {
  /**
   * Partial search (extension): customers whose name, email or phone number contain the text, case- and
   * accent-insensitively; at least 2 characters. Most relevant first unless `sort` is given. Optional when a
   * filter is given.
   */
  q?: string;
  /** `created` or `updated`, most recent first, instead of relevance. */
  sort?: CustomerSort;
  /** Page size (extension), 1..1000. */
  limit?: number;
}

export interface CreateCustomerOptions extends CallOptions {
  /** Makes the POST safe to retry: the server applies a key once and replays its response. */
  idempotencyKey?: string;
}

export interface UpdateCustomerOptions extends CallOptions {
  /** The ETag of the version you read; the update fails with 412 `precondition_failed` when it is stale. */
  ifMatch?: string;
}

/** The result of one incremental sync run. */
export interface SyncResult {
  /** Customers created or updated at or after the watermark, most recently updated first, each once. */
  customers: Customer[];
  /** Pass this to the next run: the latest `updatedAt` seen (or the given watermark when nothing changed). */
  watermark: string | null;
}

export interface FollowEventsOptions extends CallOptions {
  /** Resume after the event with this `sequence` (default 0: from the start of the feed). */
  after?: number;
  /** How long to wait before asking again once the feed is drained (default 1000 ms). */
  pollIntervalMs?: number;
  /** Page size, when the server supports the `limit` extension. */
  limit?: number;
}

const enc = encodeURIComponent;

function secondsFloor(ms: number): number {
  return ms - (((ms % 1000) + 1000) % 1000);
}

/**
 * A typed client for the Customers API, with no dependencies: it uses the
 * global `fetch`, so it runs in Node 20+ and in browsers.
 *
 * @example
 * import { CustomersClient } from 'customers-api/client';
 *
 * const client = new CustomersClient({ baseUrl: 'http://127.0.0.1:3000', token: process.env.CUSTOMERS_TOKEN! });
 * for await (const customer of client.customers.list(orgId, { sort: 'updated' })) {
 *   console.log(customer.id, customer.email);
 * }
 */
export class CustomersClient {
  readonly #transport: Transport;

  constructor(options: CustomersClientOptions) {
    if (!options.baseUrl) throw new TypeError('CustomersClient needs a baseUrl');
    if (!options.token) throw new TypeError('CustomersClient needs a token');
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (fetchImpl === undefined) throw new TypeError('No global fetch; pass options.fetch');
    this.#transport = new Transport({
      baseUrl: options.baseUrl,
      token: options.token,
      fetch: fetchImpl,
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: options.retries ?? 3,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 250,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      userAgent: options.userAgent,
      onRetry: options.onRetry,
      consistencyToken: options.consistencyToken,
    });
  }

  /**
   * The latest consistency token this client has seen (from write responses, and reads served from a known
   * position); undefined before any. Pass it to another client to give it read-your-writes across processes.
   *
   * @example
   * const reader = new CustomersClient({ baseUrl, token, consistencyToken: writer.consistencyToken });
   */
  get consistencyToken(): string | undefined {
    return this.#transport.consistencyToken;
  }

  /**
   * What this client's token grants: its organizations and scopes (extension), so a UI can hide what it may not do.
   *
   * @example
   * const { scopes } = await client.tokenInfo();
   * const canEdit = scopes.includes('customers:write');
   */
  async tokenInfo(options: CallOptions = {}): Promise<TokenInfoBody> {
    return (await this.#transport.request<TokenInfoBody>({ method: 'GET', path: '/token-info', ...options })).body;
  }

  /** Organizations the token grants. */
  readonly organizations = {
    /**
     * Every organization this token grants, or those whose name contains `query` (case-insensitive), paged
     * transparently.
     *
     * @example
     * const organizations = await client.organizations.list().toArray();
     * const cafes = await client.organizations.list({ query: 'cafe' }).toArray();
     */
    list: (options: CallOptions & { query?: string; limit?: number } = {}): PagedList<Organization> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: '/organizations',
        query: { query: options.query, limit: options.limit },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * One organization.
     *
     * @example
     * const { currency, timezone } = await client.organizations.get(orgId);
     */
    get: async (organizationId: string, options: CallOptions = {}): Promise<Organization> =>
      (
        await this.#transport.request<Organization>({
          method: 'GET',
          path: `/organizations/${enc(organizationId)}`,
          ...options,
        })
      ).body,
  };

  /** Customers of an organization. */
  readonly customers = {
    /**
     * One customer; rejects with a `CustomersApiError` of code `not_found` when there is none.
     *
     * @example
     * const customer = await client.customers.get(orgId, customerId);
     */
    get: async (organizationId: string, customerId: string, options: CallOptions = {}): Promise<Customer> =>
      (await this.customers.getWithETag(organizationId, customerId, options)).customer,

    /**
     * One customer with its ETag, for a later `update(..., { ifMatch: etag })`.
     *
     * @example
     * const { customer, etag } = await client.customers.getWithETag(orgId, customerId);
     * await client.customers.update(orgId, customer.id, { firstName: 'Ann' }, { ifMatch: etag });
     */
    getWithETag: async (
      organizationId: string,
      customerId: string,
      options: CallOptions = {},
    ): Promise<{ customer: Customer; etag: string | undefined }> => {
      const response = await this.#transport.request<Customer>({
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}`,
        ...options,
      });
      return { customer: response.body, etag: response.headers.get('etag') ?? undefined };
    },

    /**
     * All customers (or those matching `email` / `phoneNumber`), most recent first, across pages.
     *
     * @example
     * for await (const customer of client.customers.list(orgId, { sort: 'updated' })) console.log(customer.id);
     * const matches = await client.customers.list(orgId, { email: 'ann@example.com' }).toArray();
     */
    list: (organizationId: string, options: ListCustomersOptions = {}): PagedList<Customer> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/customers`,
        query: { sort: options.sort, email: options.email, phoneNumber: options.phoneNumber, limit: options.limit },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * Partial search and filters (extension) across pages: with `q`, the exact email or phone number first, then
     * names starting with the text, then the other matches; with filters only (or `sort`), most recent first.
     *
     * @example
     * for await (const customer of client.customers.search(orgId, { q: 'jo smi' })) console.log(customer.id);
     */
    search: (organizationId: string, options: SearchCustomersOptions): PagedList<Customer> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/customers`,
        query: {
          q: options.q,
          hasAgreedToMarketing:
            options.hasAgreedToMarketing === undefined ? undefined : String(options.hasAgreedToMarketing),
          createdAfter: options.createdAfter,
          createdBefore: options.createdBefore,
          updatedAfter: options.updatedAfter,
          updatedBefore: options.updatedBefore,
          pointsBalanceMin: options.pointsBalanceMin,
          pointsBalanceMax: options.pointsBalanceMax,
          totalSpendMin: options.totalSpendMin,
          totalSpendMax: options.totalSpendMax,
          gender: options.gender,
          listId: options.listId,
          ...Object.fromEntries(
            Object.entries(options.metadata ?? {}).map(([key, value]) => [`metadata.${key}`, value]),
          ),
          sort: options.sort,
          limit: options.limit,
        },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * The customer lists a customer belongs to, across pages.
     *
     * @example
     * for await (const list of client.customers.memberships(orgId, customerId)) console.log(list.name);
     */
    memberships: (
      organizationId: string,
      customerId: string,
      options: CallOptions & { limit?: number } = {},
    ): PagedList<CustomerListTiny> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}/memberships`,
        query: { limit: options.limit },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * Creates a customer (extension). With an `idempotencyKey` the call is retried safely on 429/503/network errors.
     *
     * @example
     * const customer = await client.customers.create(orgId, { firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com' },
     *   { idempotencyKey: crypto.randomUUID() });
     */
    create: async (
      organizationId: string,
      body: CreateCustomerBody,
      options: CreateCustomerOptions = {},
    ): Promise<Customer> =>
      (
        await this.#transport.request<Customer>({
          method: 'POST',
          path: `/organizations/${enc(organizationId)}/customers`,
          body,
          headers: { 'Idempotency-Key': options.idempotencyKey },
          signal: options.signal,
          timeoutMs: options.timeoutMs,
        })
      ).body,

    /**
     * Changes some fields of a customer (extension); `null` removes an optional field.
     *
     * @example
     * await client.customers.update(orgId, customerId, { phoneNumber: null, hasAgreedToMarketing: true });
     */
    update: async (
      organizationId: string,
      customerId: string,
      patch: UpdateCustomerBody,
      options: UpdateCustomerOptions = {},
    ): Promise<Customer> =>
      (
        await this.#transport.request<Customer>({
          method: 'PATCH',
          path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}`,
          body: patch,
          headers: { 'If-Match': options.ifMatch },
          signal: options.signal,
          timeoutMs: options.timeoutMs,
        })
      ).body,

    /**
     * Erases a customer (extension): their personal data, ledgers and memberships go; a `customer.deleted` event stays.
     *
     * @example
     * await client.customers.delete(orgId, customerId);
     */
    delete: async (organizationId: string, customerId: string, options: CallOptions = {}): Promise<void> => {
      await this.#transport.request({
        method: 'DELETE',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}`,
        ...options,
      });
    },
  };

  /** Customer lists of an organization (LOKE platform). */
  readonly customerLists = {
    /**
     * Every customer list, across pages.
     *
     * @example
     * for await (const list of client.customerLists.list(orgId)) console.log(list.name, list.memberCount);
     */
    list: (organizationId: string, options: CallOptions & { limit?: number } = {}): PagedList<CustomerList> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/customer-lists`,
        query: { limit: options.limit },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * Creates a list (not retried: a POST without an idempotency key).
     *
     * @example
     * const vip = await client.customerLists.create(orgId, { name: 'VIP' });
     */
    create: async (organizationId: string, body: CustomerListBody, options: CallOptions = {}): Promise<CustomerList> =>
      (
        await this.#transport.request<CustomerList>({
          method: 'POST',
          path: `/organizations/${enc(organizationId)}/customer-lists`,
          body,
          ...options,
        })
      ).body,

    /**
     * Creates a segment (extension): a list whose members are the customers matching `filter` (the customer list's
     * filter parameters and `q`), kept exact at every write. It starts `building` and turns `ready` once the
     * background build has evaluated every customer. Not retried (a POST without an idempotency key).
     *
     * @example
     * const gold = await client.customerLists.createSegment(orgId, {
     *   name: 'Gold, opted in',
     *   filter: { pointsBalanceMin: 1000, hasAgreedToMarketing: true, 'metadata.tier': 'gold' },
     * });
     * while ((await client.customerLists.get(orgId, gold.id)).status === 'building') await sleep(1000);
     */
    createSegment: async (
      organizationId: string,
      body: { name: string; filter: SegmentFilter },
      options: CallOptions = {},
    ): Promise<CustomerList> => this.customerLists.create(organizationId, body, options),

    /**
     * One list.
     *
     * @example
     * const { memberCount } = await client.customerLists.get(orgId, listId);
     */
    get: async (organizationId: string, listId: string, options: CallOptions = {}): Promise<CustomerList> =>
      (
        await this.#transport.request<CustomerList>({
          method: 'GET',
          path: `/organizations/${enc(organizationId)}/customer-lists/${enc(listId)}`,
          ...options,
        })
      ).body,

    /**
     * Renames a list.
     *
     * @example
     * await client.customerLists.update(orgId, listId, { name: 'Gold' });
     */
    update: async (
      organizationId: string,
      listId: string,
      body: CustomerListBody,
      options: CallOptions = {},
    ): Promise<CustomerList> =>
      (
        await this.#transport.request<CustomerList>({
          method: 'PUT',
          path: `/organizations/${enc(organizationId)}/customer-lists/${enc(listId)}`,
          body,
          ...options,
        })
      ).body,

    /**
     * Deletes a list and its memberships.
     *
     * @example
     * await client.customerLists.delete(orgId, listId);
     */
    delete: async (organizationId: string, listId: string, options: CallOptions = {}): Promise<void> => {
      await this.#transport.request({
        method: 'DELETE',
        path: `/organizations/${enc(organizationId)}/customer-lists/${enc(listId)}`,
        ...options,
      });
    },

    /**
     * The members of a list, across pages.
     *
     * @example
     * const members = await client.customerLists.members(orgId, listId).toArray();
     */
    members: (
      organizationId: string,
      listId: string,
      options: CallOptions & { limit?: number } = {},
    ): PagedList<CustomerListMember> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/customer-lists/${enc(listId)}/members`,
        query: { limit: options.limit },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * Adds a customer to a list; adding a member again changes nothing.
     *
     * @example
     * await client.customerLists.addMember(orgId, listId, customerId);
     */
    addMember: async (
      organizationId: string,
      listId: string,
      customerId: string,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.#transport.request({
        method: 'PUT',
        path: `/organizations/${enc(organizationId)}/customer-lists/${enc(listId)}/members/${enc(customerId)}`,
        ...options,
      });
    },

    /**
     * Removes a customer from a list.
     *
     * @example
     * await client.customerLists.removeMember(orgId, listId, customerId);
     */
    removeMember: async (
      organizationId: string,
      listId: string,
      customerId: string,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.#transport.request({
        method: 'DELETE',
        path: `/organizations/${enc(organizationId)}/customer-lists/${enc(listId)}/members/${enc(customerId)}`,
        ...options,
      });
    },
  };

  /** Points of a customer: adjustments keyed by your own reference. */
  readonly points = {
    /**
     * The customer's points adjustments, most recent first, across pages (extension); reversed ones are gone.
     *
     * @example
     * for await (const entry of client.points.history(orgId, customerId)) console.log(entry.reference, entry.amount);
     */
    history: (
      organizationId: string,
      customerId: string,
      options: CallOptions & { limit?: number } = {},
    ): PagedList<PointsEntry> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}/points`,
        query: { limit: options.limit },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * Earns (positive amount) or redeems (negative) points. A reference is used once: if a retried call
     * fails with 409 `duplicate_point_record` (see `error.attempts`), an earlier attempt was applied.
     * `amount` is whole points: round `total * pointsPerDollar` yourself; a fraction is a 400 and stores nothing.
     *
     * @example
     * await client.points.adjust(orgId, customerId, `order-${orderId}`, { amount: Math.round(total * pointsPerDollar) });
     */
    adjust: async (
      organizationId: string,
      customerId: string,
      reference: string,
      body: PointsBody,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.#transport.request({
        method: 'PUT',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}/points/${enc(reference)}`,
        body,
        ...options,
      });
    },

    /**
     * Reverses the adjustment made with `reference`.
     *
     * @example
     * await client.points.reverse(orgId, customerId, `order-${orderId}`);
     */
    reverse: async (
      organizationId: string,
      customerId: string,
      reference: string,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.#transport.request({
        method: 'DELETE',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}/points/${enc(reference)}`,
        ...options,
      });
    },
  };

  /** Locations (venues) of an organization (LOKE); create and update are our extension. */
  readonly locations = {
    /**
     * Every location, or those whose name contains `query` (case-insensitive), across pages.
     *
     * @example
     * const richmond = await client.locations.list(orgId, { query: 'richmond' }).toArray();
     */
    list: (
      organizationId: string,
      options: CallOptions & { query?: string; limit?: number } = {},
    ): PagedList<Location> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/locations`,
        query: { query: options.query, limit: options.limit },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * One location.
     *
     * @example
     * const { name, timezone } = await client.locations.get(orgId, locationId);
     */
    get: async (organizationId: string, locationId: string, options: CallOptions = {}): Promise<Location> =>
      (
        await this.#transport.request<Location>({
          method: 'GET',
          path: `/organizations/${enc(organizationId)}/locations/${enc(locationId)}`,
          ...options,
        })
      ).body,

    /**
     * Creates a location (not retried: a POST). A slug another location has is a 409 `conflict`.
     *
     * @example
     * const loc = await client.locations.create(orgId, { name: 'Richmond', country: 'AU' });
     */
    create: async (organizationId: string, body: CreateLocationBody, options: CallOptions = {}): Promise<Location> =>
      (
        await this.#transport.request<Location>({
          method: 'POST',
          path: `/organizations/${enc(organizationId)}/locations`,
          body,
          ...options,
        })
      ).body,

    /**
     * Changes the given fields; `null` removes an optional one.
     *
     * @example
     * await client.locations.update(orgId, locationId, { phoneNumber: '0398765432', region: null });
     */
    update: async (
      organizationId: string,
      locationId: string,
      body: UpdateLocationBody,
      options: CallOptions = {},
    ): Promise<Location> =>
      (
        await this.#transport.request<Location>({
          method: 'PATCH',
          path: `/organizations/${enc(organizationId)}/locations/${enc(locationId)}`,
          body,
          ...options,
        })
      ).body,
  };

  /** Payments (LOKE): the one source of customers' `totalSpend` and `lastSpentAt`; recording and refunds are our extension. */
  readonly payments = {
    /**
     * Payments, most recent first (`sort`: `created`, the default, or `updated`), across pages; optionally only
     * those of a location or a customer.
     *
     * @example
     * for await (const payment of client.payments.list(orgId, { locationId, sort: 'updated' })) {
     *   console.log(payment.id, payment.chargedAmount);
     * }
     */
    list: (
      organizationId: string,
      options: CallOptions & { sort?: PaymentSort; locationId?: string; customerId?: string; limit?: number } = {},
    ): PagedList<Payment> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/payments`,
        query: {
          sort: options.sort,
          locationId: options.locationId,
          customerId: options.customerId,
          limit: options.limit,
        },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * One payment.
     *
     * @example
     * const { chargedAmount, refundedAt } = await client.payments.get(orgId, paymentId);
     */
    get: async (organizationId: string, paymentId: string, options: CallOptions = {}): Promise<Payment> =>
      (
        await this.#transport.request<Payment>({
          method: 'GET',
          path: `/organizations/${enc(organizationId)}/payments/${enc(paymentId)}`,
          ...options,
        })
      ).body,

    /**
     * Records a completed payment under your id. Safe to retry: the same body again changes nothing; another body
     * for a recorded payment is a 409 `conflict`.
     *
     * @example
     * await client.payments.record(orgId, `order-${orderId}`, {
     *   billingType: 'order/pickup', chargedAmount: 1250, customerId, locationId,
     * });
     */
    record: async (
      organizationId: string,
      paymentId: string,
      body: RecordPaymentBody,
      options: CallOptions = {},
    ): Promise<Payment> =>
      (
        await this.#transport.request<Payment>({
          method: 'PUT',
          path: `/organizations/${enc(organizationId)}/payments/${enc(paymentId)}`,
          body,
          ...options,
        })
      ).body,

    /**
     * Refunds `amount` cents, or all that remains (not retried: a POST).
     *
     * @example
     * await client.payments.refund(orgId, paymentId, { amount: 500 });
     */
    refund: async (
      organizationId: string,
      paymentId: string,
      body: RefundPaymentBody = {},
      options: CallOptions = {},
    ): Promise<Payment> =>
      (
        await this.#transport.request<Payment>({
          method: 'POST',
          path: `/organizations/${enc(organizationId)}/payments/${enc(paymentId)}/refund`,
          body,
          ...options,
        })
      ).body,
  };

  /**
   * Spend of a customer (extension): a thin alias of payments. `record` records a payment paid outside LOKE
   * (`externalAmount`, billingType `external`) under your reference; `reverse` refunds what remains of it.
   */
  readonly spend = {
    /**
     * Records an amount spent, in cents, under your reference.
     *
     * @example
     * await client.spend.record(orgId, customerId, `order-${orderId}`, { amount: 4599 });
     */
    record: async (
      organizationId: string,
      customerId: string,
      reference: string,
      body: SpendBody,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.#transport.request({
        method: 'PUT',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}/spend/${enc(reference)}`,
        body,
        ...options,
      });
    },

    /**
     * Reverses the spend recorded with `reference`.
     *
     * @example
     * await client.spend.reverse(orgId, customerId, `order-${orderId}`);
     */
    reverse: async (
      organizationId: string,
      customerId: string,
      reference: string,
      options: CallOptions = {},
    ): Promise<void> => {
      await this.#transport.request({
        method: 'DELETE',
        path: `/organizations/${enc(organizationId)}/customers/${enc(customerId)}/spend/${enc(reference)}`,
        ...options,
      });
    },
  };

  /** Incremental synchronisation. */
  readonly sync = {
    /**
     * The seed's "Syncing customers on a schedule" recipe, done so that no
     * update is ever missed: pages through `sort=updated` until it passes the
     * watermark, returns each changed customer once and the watermark for the
     * next run.
     *
     * `updatedAt` has one-second resolution, so customers updated in the
     * watermark's own second are included again (they may have changed after
     * the previous run read them); make your upsert idempotent. The server
     * assigns `updatedAt` in commit order, so an update committed while a run
     * pages is at or after the returned watermark and the next run sees it.
     *
     * @example
     * const { customers, watermark } = await client.sync.updatedSince(orgId, job.watermark);
     * await upsertIntoMySystem(customers);
     * await saveJob({ ...job, watermark });
     */
    updatedSince: async (
      organizationId: string,
      watermark: string | Date | null | undefined,
      options: CallOptions & { pageSize?: number } = {},
    ): Promise<SyncResult> => {
      let since: number | undefined;
      if (watermark !== null && watermark !== undefined) {
        const ms = watermark instanceof Date ? watermark.getTime() : Date.parse(watermark);
        if (!Number.isFinite(ms)) throw new TypeError(`watermark is not a timestamp: ${String(watermark)}`);
        since = secondsFloor(ms);
      }
      const changed = new Map<string, Customer>();
      let latest: { at: number; text: string } | undefined;
      const list = this.customers.list(organizationId, {
        sort: 'updated',
        limit: options.pageSize,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
      scan: for await (const page of list.pages()) {
        for (const customer of page.items) {
          const text = customer.updatedAt ?? customer.createdAt ?? '';
          const at = Date.parse(text);
          if (since !== undefined && at < since) break scan;
          if (!changed.has(customer.id)) changed.set(customer.id, customer);
          if (latest === undefined || at > latest.at) latest = { at, text };
        }
      }
      const previous =
        watermark instanceof Date ? new Date(since!).toISOString().replace('.000Z', 'Z') : (watermark ?? null);
      return { customers: [...changed.values()], watermark: latest?.text ?? previous };
    },
  };

  /** The organization's durable change feed (extension). */
  readonly events = {
    /**
     * The events after `afterSequence` (default: from the start), oldest first, across pages, up to the current end.
     * Extensions: `customerId` keeps the events about one customer; `order: 'newest'` reads newest first (not with
     * `afterSequence`), so a customer's timeline is `list(orgId, { customerId, order: 'newest', limit: 20 })`.
     *
     * @example
     * for await (const event of client.events.list(orgId, { afterSequence: 120 })) console.log(event.sequence, event.event);
     * const { items, next } = await client.events.list(orgId, { customerId, order: 'newest', limit: 20 }).page();
     */
    list: (
      organizationId: string,
      options: CallOptions & { afterSequence?: number; customerId?: string; order?: EventOrder; limit?: number } = {},
    ): PagedList<FeedEvent> =>
      new PagedList(this.#transport, {
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/events`,
        query: {
          afterSequence: options.afterSequence,
          customerId: options.customerId,
          order: options.order,
          limit: options.limit,
        },
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      }),

    /**
     * Follows the change feed: yields every event after `after`, in order,
     * then keeps polling for new ones until the loop is left or the signal aborts.
     * Store `event.sequence` as you handle events and pass it back as `after` to resume.
     *
     * @example
     * const controller = new AbortController();
     * for await (const event of client.events.follow(orgId, { after: lastSequence, signal: controller.signal })) {
     *   await handle(event);
     *   lastSequence = event.sequence;
     * }
     */
    follow: (organizationId: string, options: FollowEventsOptions = {}): AsyncIterable<FeedEvent> => {
      const events = this.events;
      const pollIntervalMs = options.pollIntervalMs ?? 1000;
      return {
        async *[Symbol.asyncIterator]() {
          let after = options.after ?? 0;
          for (;;) {
            // Each round reads to the current end of the feed, then waits; the sequence of the last event is the resume point.
            let seen = false;
            for await (const event of events.list(organizationId, {
              afterSequence: after,
              limit: options.limit,
              signal: options.signal,
              timeoutMs: options.timeoutMs,
            })) {
              seen = true;
              after = event.sequence;
              yield event;
            }
            if (!seen) await sleep(pollIntervalMs, options.signal);
          }
        },
      };
    },
  };

  /** Imports of customer files over HTTP (extension): the CLI's import, run by the server in the background. */
  readonly imports = {
    /**
     * Uploads a CSV or NDJSON file (a Blob/File, a string, bytes or a stream); resolves with the job once the
     * server has the whole file. Not retried: a failed upload may be sent again (rows upsert by id, else email).
     *
     * @example
     * let job = await client.imports.create(orgId, file, { format: 'csv' });
     * while (job.status === 'running') job = await client.imports.get(orgId, job.id);
     */
    create: async (
      organizationId: string,
      file: Blob | string | Uint8Array | ReadableStream<Uint8Array>,
      options: CallOptions & { format: CustomerFileFormat },
    ): Promise<ImportJob> => {
      const response = await this.#transport.requestRaw({
        method: 'POST',
        path: `/organizations/${enc(organizationId)}/imports`,
        query: { format: options.format },
        body: file as BodyInit,
        contentType: FILE_CONTENT_TYPES[options.format],
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
      return (await response.json()) as ImportJob;
    },

    /**
     * An import's progress: rows read, imported and rejected so far, and the first rejects.
     *
     * @example
     * const { status, rowsRead, rowsRejected } = await client.imports.get(orgId, importId);
     */
    get: async (organizationId: string, importId: string, options: CallOptions = {}): Promise<ImportJob> =>
      (
        await this.#transport.request<ImportJob>({
          method: 'GET',
          path: `/organizations/${enc(organizationId)}/imports/${enc(importId)}`,
          ...options,
        })
      ).body,

    /**
     * Every rejected row of an import, streamed.
     *
     * @example
     * for await (const { line, reason } of client.imports.rejects(orgId, importId)) console.log(line, reason);
     */
    rejects: (organizationId: string, importId: string, options: CallOptions = {}): AsyncIterable<ImportReject> => {
      const transport = this.#transport;
      return {
        async *[Symbol.asyncIterator]() {
          const response = await transport.requestRaw({
            method: 'GET',
            path: `/organizations/${enc(organizationId)}/imports/${enc(importId)}/rejects`,
            accept: 'application/x-ndjson',
            ...options,
          });
          for await (const line of ndjsonLines(response)) yield JSON.parse(line) as ImportReject;
        },
      };
    },
  };

  /** Exports of every customer as a file (extension), streamed at the reader's pace. */
  readonly exports = {
    /**
     * The file as a stream of bytes (NDJSON by default, or CSV); pipe it to a file or a download.
     *
     * @example
     * const body = await client.exports.stream(orgId, { format: 'csv' });
     * await pipeline(Readable.fromWeb(body), fs.createWriteStream('customers.csv'));
     */
    stream: async (
      organizationId: string,
      options: CallOptions & { format?: CustomerFileFormat } = {},
    ): Promise<ReadableStream<Uint8Array>> => {
      const response = await this.#transport.requestRaw({
        method: 'GET',
        path: `/organizations/${enc(organizationId)}/exports`,
        query: { format: options.format },
        accept: FILE_CONTENT_TYPES[options.format ?? 'ndjson'].split(';')[0],
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
      return response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    },
  };

  /** The console's overview figures (extension). */
  readonly insights = {
    /**
     * New customers, points earned and redeemed and spend per bucket of the organization's time zone, with the
     * marketing opt-in share and the largest lists. Defaults: weekly, the last 12 weeks.
     *
     * @example
     * const { series } = await client.insights.get(orgId, { interval: 'month', from: '2026-01-01T00:00:00Z' });
     */
    get: async (
      organizationId: string,
      options: CallOptions & { from?: string; to?: string; interval?: InsightInterval } = {},
    ): Promise<Insights> =>
      (
        await this.#transport.request<Insights>({
          method: 'GET',
          path: `/organizations/${enc(organizationId)}/insights`,
          query: { from: options.from, to: options.to, interval: options.interval },
          signal: options.signal,
          timeoutMs: options.timeoutMs,
        })
      ).body,
  };
}

/** The non-empty lines of an NDJSON response body, decoded as they arrive. */
async function* ndjsonLines(response: Response): AsyncGenerator<string, void, undefined> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let rest = '';
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    rest += done ? decoder.decode() : decoder.decode(value, { stream: true });
    const lines = rest.split('\n');
    rest = done ? '' : lines.pop()!;
    for (const line of lines) if (line.trim() !== '') yield line;
    if (done) return;
  }
}
