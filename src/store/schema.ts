import type { Generated } from 'kysely';

/**
 * Table shapes as both dialects return them. Timestamps are epoch milliseconds
 * (`bigint` columns, read back as numbers) and flags are 0/1 integers, so rows
 * look the same on SQLite and PostgreSQL.
 */
export interface OrganizationsTable {
  id: string;
  name: string;
  currency: string;
  timezone: string;
  created_at: number;
  /** Last `updated_at` handed out in this organization: the per-organization commit clock. */
  clock: number;
  /** Last event sequence handed out in this organization. */
  event_sequence: number;
  /** Bumped (by triggers) whenever one of the organization's segments is created, renamed, refiltered or deleted. */
  segment_version: Generated<number>;
}

export interface ApiTokensTable {
  id: string;
  token_hash: string;
  name: string | null;
  /** Comma-separated scopes. */
  scopes: string;
  /** JSON array of organization ids. */
  organization_ids: string;
  created_at: number;
  revoked_at: number | null;
}

export interface CustomersTable {
  organization_id: string;
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  email_normalized: string | null;
  phone_number: string | null;
  dob: string | null;
  gender: string | null;
  has_agreed_to_marketing: number | null;
  created_at: number;
  updated_at: number;
  points_balance: Generated<number>;
  total_points_earned: Generated<number>;
  total_points_redeemed: Generated<number>;
  total_spend: Generated<number>;
  last_points_earned_at: number | null;
  last_points_redeemed_at: number | null;
  last_spent_at: number | null;
  /** JSON object text, keys sorted; NULL when the customer has no metadata. */
  metadata: string | null;
}

/**
 * The search form of each customer (store/customer-search-text.ts), kept in the customer's write transaction.
 * Trigram-indexed for `q`: an FTS5 table over it on SQLite, pg_trgm GIN indexes on PostgreSQL.
 */
export interface CustomerSearchTable {
  organization_id: string;
  customer_id: string;
  full_name: string;
  last_name: string;
  email: string | null;
  phone: string | null;
}

/** The terms 2-character queries look up by prefix (a B-tree range; binary collation on both dialects). */
export interface CustomerSearchTermsTable {
  organization_id: string;
  term: string;
  customer_id: string;
}

/**
 * The digit suffixes of each customer's phone digits (customer-search-text.ts `phoneSuffixes`): a phone fragment is a
 * prefix range over them (binary collation on both dialects).
 */
export interface CustomerSearchSuffixesTable {
  organization_id: string;
  suffix: string;
  customer_id: string;
}

export interface CustomerListsTable {
  organization_id: string;
  id: string;
  name: string;
  created_at: number;
  member_count: Generated<number>;
  /** A segment's filter (JSON text of its filter parameters); NULL for a manual list. */
  filter: Generated<string | null>;
  segment_status: Generated<'building' | 'ready' | null>;
  /** The last customer id the build has evaluated ('' before the first batch). */
  build_after: Generated<string | null>;
  build_owner: Generated<string | null>;
  build_lease_until: Generated<number | null>;
}

export interface CustomerListMembersTable {
  organization_id: string;
  list_id: string;
  customer_id: string;
  added_at: number;
}

/** The change feed. `payload` is the delivered JSON body `{event, ...}` as text. */
export interface EventsTable {
  organization_id: string;
  sequence: number;
  id: string;
  type: string;
  occurred_at: number;
  payload: string;
}

export interface EventCustomersTable {
  organization_id: string;
  customer_id: string;
  sequence: number;
}

export interface PointRecordsTable {
  organization_id: string;
  customer_id: string;
  reference: string;
  /** Positive earns, negative redeems. */
  amount: number;
  notes: string | null;
  occurred_at: number;
}

export interface IdempotencyKeysTable {
  organization_id: string;
  key: string;
  request_hash: string;
  customer_id: string;
  /** The JSON body of the first response. */
  response: string;
  expires_at: number;
}

/** An erased customer's Idempotency-Key: its SHA-256 only, kept for the key's lifetime. */
export interface IdempotencyTombstonesTable {
  organization_id: string;
  key_hash: string;
  expires_at: number;
}

export interface WebhookSubscriptionsTable {
  organization_id: string;
  ref: string;
  id: string;
  url: string;
  secret: string;
  /** JSON array of event names. */
  events: string;
  created_at: number;
  updated_at: number;
  /** Sequence of the last event this subscription is done with (delivered, given up on, or not subscribed to). */
  cursor_sequence: number;
  /** Failed attempts so far at the event after `cursor_sequence`. */
  attempts: number;
  /** Epoch ms before which the event after `cursor_sequence` is not retried. */
  next_attempt_at: number;
  /** The dispatcher that holds this subscription until `lease_until`. */
  lease_owner: string | null;
  lease_until: number | null;
}

export interface WebhookDeliveriesTable {
  organization_id: string;
  /** ULID; one row per attempt. */
  id: string;
  subscription_id: string;
  event_sequence: number;
  event_id: string;
  event_type: string;
  attempt: number;
  /**
   * `succeeded` (2xx), `rejected` (3xx/4xx: not retried), `retrying` (another attempt is scheduled) or `failed`
   * (no more attempts). Free text in both dialects, so a new value needs no migration.
   */
  status: string;
  response_status: number | null;
  error: string | null;
  duration_ms: number;
  next_attempt_at: number | null;
  /** 1 when the attempt redelivers an event on an operator's request. */
  replay: number;
  created_at: number;
}

export interface WebhookReplaysTable {
  organization_id: string;
  id: string;
  subscription_id: string;
  event_sequence: number;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
}

export interface OAuthSigningKeysTable {
  kid: string;
  alg: string;
  /** JSON Web Keys (RFC 7517) as JSON text. */
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  retired_at: number | null;
  publish_until: number | null;
}

export interface OAuthClientsTable {
  id: string;
  name: string;
  secret_hash: string | null;
  /** Comma-separated scopes. */
  scopes: string;
  /** JSON array of organization ids. */
  organization_ids: string;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  created_at: number;
  revoked_at: number | null;
}

export interface OAuthUsersTable {
  id: string;
  email: string;
  email_normalized: string;
  password_hash: string;
  scopes: string;
  organization_ids: string;
  created_at: number;
  disabled_at: number | null;
}

export interface OAuthAuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  code_challenge: string;
  /** Space-separated granted scopes. */
  scope: string;
  organization_ids: string;
  nonce: string | null;
  auth_time: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  family_id: string | null;
}

export interface OAuthRefreshTokensTable {
  token_hash: string;
  family_id: string;
  client_id: string;
  user_id: string;
  scope: string;
  organization_ids: string;
  auth_time: number;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
}

export interface OAuthRevocationsTable {
  /** `family:<id>` or `jti:<id>`. */
  id: string;
  kind: 'family' | 'jti';
  revoked_at: number;
  expires_at: number;
}

export interface OAuthSignInFailuresTable {
  /** `account:<normalized email>` or `address:<ip>`. */
  key: string;
  window_started_at: number;
  failures: number;
}

export interface LocationsTable {
  organization_id: string;
  id: string;
  name: string;
  /** `name` lowered, for the case-insensitive `query=` search. */
  name_search: string;
  slug: string;
  timezone: string;
  phone_number: string | null;
  street_address: string | null;
  street_address2: string | null;
  locality: string | null;
  region: string | null;
  postal_code: string | null;
  country: string | null;
  latitude: number | null;
  longitude: number | null;
  created_at: number;
  updated_at: number;
}

/** LOKE's Payment. Amounts are cents; a payment is completed when recorded. */
export interface PaymentsTable {
  organization_id: string;
  /** The caller's id of the payment (ULIDs for payments made by the spend alias). */
  id: string;
  location_id: string | null;
  /** Null for a payment without a customer, and after the customer's erasure. */
  customer_id: string | null;
  /** The reference under which the spend alias recorded it, unique per customer. */
  spend_reference: string | null;
  billing_type: string;
  currency: string;
  charged_amount: number;
  credit_amount: number;
  discount_amount: number;
  external_amount: number;
  fee_amount: number;
  tip_amount: number;
  /** Refunded so far, at most charged_amount + external_amount. */
  refunded_amount: number;
  completed_at: number;
  refunded_at: number | null;
  created_at: number;
  updated_at: number;
  /** Hash of the recording request's body: the same again is a no-op, another a conflict. */
  request_hash: string;
}

export interface PaymentItemsTable {
  organization_id: string;
  payment_id: string;
  /** 0-based order of the item in the payment. */
  position: number;
  id: string;
  name: string;
  amount: number;
  quantity: number;
  type: string;
  /** JSON array of `{id, name, choices: [{id, name, amount}]}`. */
  options: string;
}

/** An import over HTTP (POST /imports): its progress, written after every committed batch. */
export interface ImportJobsTable {
  organization_id: string;
  id: string;
  format: string;
  /** `running`, `completed` or `failed`. */
  status: string;
  rows_read: number;
  rows_imported: number;
  rows_rejected: number;
  error: string | null;
  started_at: number;
  completed_at: number | null;
  updated_at: number;
}

/** Every rejected row of an import, in the order rejected. */
export interface ImportRejectsTable {
  organization_id: string;
  import_id: string;
  position: number;
  line: number;
  reason: string;
}

/** The insights' figures per quarter hour (UTC), kept by triggers in every write's transaction. */
export interface InsightCountersTable {
  organization_id: string;
  /** Epoch ms of the quarter hour. */
  slot: number;
  new_customers: number;
  points_earned: number;
  points_redeemed: number;
  /** Cents paid less refunded, of the payments completed in the quarter hour. */
  spend: number;
}

/** An organization's customers now and those of them who agreed to marketing, kept by triggers. */
export interface InsightTotalsTable {
  organization_id: string;
  customers: number;
  agreed: number;
}

export interface Database {
  organizations: OrganizationsTable;
  api_tokens: ApiTokensTable;
  customers: CustomersTable;
  customer_search: CustomerSearchTable;
  customer_search_terms: CustomerSearchTermsTable;
  customer_search_suffixes: CustomerSearchSuffixesTable;
  customer_lists: CustomerListsTable;
  customer_list_members: CustomerListMembersTable;
  events: EventsTable;
  event_customers: EventCustomersTable;
  point_records: PointRecordsTable;
  idempotency_keys: IdempotencyKeysTable;
  idempotency_tombstones: IdempotencyTombstonesTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_replays: WebhookReplaysTable;
  oauth_signing_keys: OAuthSigningKeysTable;
  oauth_clients: OAuthClientsTable;
  oauth_users: OAuthUsersTable;
  oauth_authorization_codes: OAuthAuthorizationCodesTable;
  oauth_refresh_tokens: OAuthRefreshTokensTable;
  oauth_revocations: OAuthRevocationsTable;
  oauth_signin_failures: OAuthSignInFailuresTable;
  locations: LocationsTable;
  payments: PaymentsTable;
  payment_items: PaymentItemsTable;
  import_jobs: ImportJobsTable;
  import_rejects: ImportRejectsTable;
  insight_counters: InsightCountersTable;
  insight_totals: InsightTotalsTable;
}
