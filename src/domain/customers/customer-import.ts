import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler';
import type { CountryCode } from 'libphonenumber-js/max';
import { AppError, notFound } from '../../errors.js';
import { CreateCustomerBodySchema, type Customer } from '../../http/schemas/customers.js';
import { findCustomersByEmails, findCustomersByIds, upsertCustomerRows } from '../../store/repositories/customer-import-repository.js';
import { createCustomerReads, FIRST_PAGE_KEY, type CustomerRow } from '../../store/repositories/customer-repository.js';
import { advanceOrganizationClock } from '../../store/repositories/organization-repository.js';
import type { Store } from '../../store/store.js';
import { customerCreated, customerStatisticsUpdated, customerUpdated, recordEvents, type DomainEvent } from '../events/event-log.js';
import { newId } from '../ids.js';
import { parseTimestamp } from '../time.js';
import { parseCreateCustomer } from './customer-input.js';
import { customerRowToCustomer } from './customer-mapper.js';

/** One record of an import file, already decoded from its format (CSV cells or an NDJSON object). */
export interface ImportRecord {
  /** Line of the file the record starts on, 1-based, for rejects. */
  line: number;
  value: unknown;
  /** Why the record could not be decoded (bad JSON, wrong number of CSV cells); it is rejected with this reason. */
  error?: string;
}

export interface ImportRejection {
  line: number;
  reason: string;
}

export interface ImportTotals {
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface ImportOptions {
  /** Rows per transaction (default 1000). */
  batchSize?: number;
  onRejected?: (rejection: ImportRejection) => void;
  /** Called after each committed batch with the running totals. */
  onProgress?: (totals: ImportTotals) => void;
}

/** Fields a record may carry: the Customer resource as the API and `export` write it. */
const RECORD_FIELDS = new Set([
  'id',
  'firstName',
  'lastName',
  'email',
  'phoneNumber',
  'dob',
  'gender',
  'hasAgreedToMarketing',
  'createdAt',
  'updatedAt',
  'statistics',
]);
const STATISTIC_COUNTS = ['pointsBalance', 'totalPointsEarned', 'totalPointsRedeemed', 'totalSpend'] as const;
const STATISTIC_TIMES = ['lastPointsEarnedAt', 'lastPointsRedeemedAt', 'lastSpentAt'] as const;
const STATISTIC_COLUMNS = {
  pointsBalance: 'points_balance',
  totalPointsEarned: 'total_points_earned',
  totalPointsRedeemed: 'total_points_redeemed',
  totalSpend: 'total_spend',
  lastPointsEarnedAt: 'last_points_earned_at',
  lastPointsRedeemedAt: 'last_points_redeemed_at',
  lastSpentAt: 'last_spent_at',
} as const;
type StatisticsPatch = Partial<Pick<CustomerRow, (typeof STATISTIC_COLUMNS)[keyof typeof STATISTIC_COLUMNS]>>;

const ID_PATTERN = /^[0-9A-Za-z_-]{1,64}$/;
const createBodyCheck = TypeCompiler.Compile(CreateCustomerBodySchema);

/** A record that passed validation: the customer fields as stored, and how to find an existing customer. */
interface ValidRecord {
  line: number;
  id: string | undefined;
  profile: Pick<
    CustomerRow,
    'first_name' | 'last_name' | 'email' | 'email_normalized' | 'phone_number' | 'dob' | 'gender' | 'has_agreed_to_marketing'
  >;
  createdAt: number | undefined;
  statistics: StatisticsPatch | undefined;
}

class Rejected extends Error {}

function describeAppError(error: AppError): string {
  return error.details?.length ? error.details.map((d) => `${d.field}: ${d.message}`).join('; ') : error.message;
}

function parseStatistics(value: unknown): StatisticsPatch | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Rejected('statistics: must be an object');
  const patch: StatisticsPatch = {};
  for (const [key, raw] of Object.entries(value)) {
    if (raw === null || raw === undefined) continue;
    if ((STATISTIC_COUNTS as readonly string[]).includes(key)) {
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) throw new Rejected(`statistics.${key}: must be an integer`);
      if (key !== 'pointsBalance' && raw < 0) throw new Rejected(`statistics.${key}: must not be negative`);
      patch[STATISTIC_COLUMNS[key as (typeof STATISTIC_COUNTS)[number]]] = raw;
    } else if ((STATISTIC_TIMES as readonly string[]).includes(key)) {
      const at = typeof raw === 'string' ? parseTimestamp(raw) : undefined;
      if (at === undefined) throw new Rejected(`statistics.${key}: must be an RFC 3339 timestamp`);
      patch[STATISTIC_COLUMNS[key as (typeof STATISTIC_TIMES)[number]]] = at;
    } else {
      throw new Rejected(`statistics.${key}: is not a statistic`);
    }
  }
  return patch;
}

/**
 * Validates one record with the rules of `POST /customers` (the same TypeBox
 * schema, then the same normalization), plus `id` and `statistics`.
 */
export function validateImportRecord(value: unknown, line: number, region: CountryCode): ValidRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Rejected('the record is not an object');
  const record = value as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(record)) {
    if (!RECORD_FIELDS.has(key)) throw new Rejected(`${key}: is not a field of a customer`);
    if (field === null || field === undefined || key === 'id' || key === 'statistics' || key === 'updatedAt') continue;
    body[key] = field;
  }
  const id = record.id ?? undefined;
  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
    throw new Rejected('id: must be 1 to 64 letters, digits, _ or -');
  }
  if (!createBodyCheck.Check(body)) {
    const first = createBodyCheck.Errors(body).First();
    const field = first?.path.replace(/^\//, '').replaceAll('/', '.') || 'record';
    const message = first?.type === ValueErrorType.ObjectRequiredProperty ? 'is required' : (first?.message.toLowerCase() ?? 'is invalid');
    throw new Rejected(`${field}: ${message}`);
  }
  let parsed: ReturnType<typeof parseCreateCustomer>;
  try {
    parsed = parseCreateCustomer(body, region);
  } catch (error) {
    if (error instanceof AppError) throw new Rejected(describeAppError(error));
    throw error;
  }
  const { fields } = parsed;
  return {
    line,
    id,
    profile: {
      first_name: fields.first_name,
      last_name: fields.last_name,
      email: fields.email ?? null,
      email_normalized: fields.email_normalized ?? null,
      phone_number: fields.phone_number ?? null,
      dob: fields.dob ?? null,
      gender: fields.gender ?? null,
      has_agreed_to_marketing: fields.has_agreed_to_marketing ?? null,
    },
    createdAt: parsed.createdAt,
    statistics: parseStatistics(record.statistics),
  };
}

const COMPARED_COLUMNS = [
  'first_name',
  'last_name',
  'email',
  'email_normalized',
  'phone_number',
  'dob',
  'gender',
  'has_agreed_to_marketing',
  'created_at',
] as const;
const STAT_COLUMNS = Object.values(STATISTIC_COLUMNS);

function sameColumns(a: CustomerRow, b: CustomerRow, columns: readonly (keyof CustomerRow)[]): boolean {
  return columns.every((column) => a[column] === b[column]);
}

export function createCustomerImportService(store: Store, options: { defaultPhoneRegion: CountryCode }) {
  const region = options.defaultPhoneRegion;
  const reads = createCustomerReads(store);

  /**
   * Upserts one batch in one transaction: the customer with the record's id,
   * else the one customer with its email, else a new customer. A record is a
   * whole customer: optional fields it lacks are cleared; statistics it lacks
   * are kept. Unchanged customers are not written (no new updatedAt, no event).
   */
  async function writeBatch(organizationId: string, batch: ValidRecord[], reject: (r: ImportRejection) => void) {
    const counts = { inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
    const rejections: ImportRejection[] = [];
    await store.db.transaction().execute(async (trx) => {
      counts.inserted = counts.updated = counts.unchanged = 0;
      rejections.length = 0;
      // One commit timestamp for the whole batch: it is one write, and a per-row range would run the clock ahead of real time.
      const tick = await advanceOrganizationClock(trx, store, organizationId, 0);
      if (!tick) throw notFound('Organization');
      const now = tick.now;

      const ids = [...new Set(batch.flatMap((r) => (r.id === undefined ? [] : [r.id])))];
      const emails = [...new Set(batch.flatMap((r) => (r.id === undefined && r.profile.email_normalized !== null ? [r.profile.email_normalized] : [])))];
      const byId = new Map<string, CustomerRow>();
      for (const row of await findCustomersByIds(trx, organizationId, ids)) byId.set(row.id, row);
      const byEmail = new Map<string, Set<string>>();
      const indexEmail = (row: CustomerRow) => {
        if (row.email_normalized === null) return;
        let set = byEmail.get(row.email_normalized);
        if (!set) byEmail.set(row.email_normalized, (set = new Set()));
        set.add(row.id);
      };
      for (const row of await findCustomersByEmails(trx, organizationId, emails)) {
        byId.set(row.id, byId.get(row.id) ?? row);
        indexEmail(row);
      }

      const written = new Map<string, { row: CustomerRow; created: boolean; statisticsChanged: boolean }>();
      for (const record of batch) {
        let current: CustomerRow | undefined;
        if (record.id !== undefined) current = byId.get(record.id);
        else if (record.profile.email_normalized !== null) {
          const matches = [...(byEmail.get(record.profile.email_normalized) ?? [])];
          if (matches.length > 1) {
            rejections.push({ line: record.line, reason: `email: ${matches.length} customers have this email; give the id` });
            continue;
          }
          if (matches.length === 1) current = byId.get(matches[0]!);
        }
        const createdAt = record.createdAt ?? current?.created_at ?? now;
        const next: CustomerRow = {
          organization_id: organizationId,
          id: current?.id ?? record.id ?? newId(createdAt),
          ...record.profile,
          created_at: createdAt,
          updated_at: now,
          points_balance: current?.points_balance ?? 0,
          total_points_earned: current?.total_points_earned ?? 0,
          total_points_redeemed: current?.total_points_redeemed ?? 0,
          total_spend: current?.total_spend ?? 0,
          last_points_earned_at: current?.last_points_earned_at ?? null,
          last_points_redeemed_at: current?.last_points_redeemed_at ?? null,
          last_spent_at: current?.last_spent_at ?? null,
          ...record.statistics,
        };
        if (current && sameColumns(current, next, COMPARED_COLUMNS) && sameColumns(current, next, STAT_COLUMNS)) {
          counts.unchanged++;
          continue;
        }
        if (current === undefined) counts.inserted++;
        else counts.updated++;
        const previous = written.get(next.id);
        const created = previous?.created ?? current === undefined;
        const statisticsChanged = (previous?.statisticsChanged ?? false) || (current !== undefined && !sameColumns(current, next, STAT_COLUMNS));
        if (current?.email_normalized != null && current.email_normalized !== next.email_normalized) {
          byEmail.get(current.email_normalized)?.delete(current.id);
        }
        byId.set(next.id, next);
        indexEmail(next);
        written.set(next.id, { row: next, created, statisticsChanged });
      }

      const rows = [...written.values()];
      await upsertCustomerRows(trx, rows.map((w) => w.row));
      const events: DomainEvent[] = [];
      for (const w of rows) {
        events.push(w.created ? customerCreated(w.row) : customerUpdated(w.row));
        if (w.statisticsChanged) events.push(customerStatisticsUpdated(w.row));
      }
      await recordEvents(trx, organizationId, now, events);
    });
    for (const rejection of rejections) reject(rejection);
    counts.rejected = rejections.length;
    return counts;
  }

  return {
    /**
     * Imports customers from a stream of records in batched transactions.
     * Every record is validated like `POST /customers`; invalid ones are
     * reported through `onRejected` and skipped. A batch commits whole or
     * not at all, and records upsert by id, else by email, so running an
     * interrupted import again creates no duplicates.
     */
    async importCustomers(organizationId: string, records: AsyncIterable<ImportRecord>, options: ImportOptions = {}): Promise<ImportTotals> {
      const batchSize = options.batchSize ?? 1000;
      const totals: ImportTotals = { rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
      const reject = (rejection: ImportRejection) => {
        totals.rejected++;
        options.onRejected?.(rejection);
      };
      if (!(await createOrganizationExists(store, organizationId))) throw notFound('Organization');
      let batch: ValidRecord[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const counts = await writeBatch(organizationId, batch, reject);
        totals.inserted += counts.inserted;
        totals.updated += counts.updated;
        totals.unchanged += counts.unchanged;
        batch = [];
        options.onProgress?.({ ...totals });
      };
      for await (const record of records) {
        totals.rows++;
        try {
          if (record.error !== undefined) throw new Rejected(record.error);
          batch.push(validateImportRecord(record.value, record.line, region));
        } catch (error) {
          if (!(error instanceof Rejected)) throw error;
          reject({ line: record.line, reason: error.message });
        }
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      options.onProgress?.({ ...totals });
      return totals;
    },

    /**
     * Every customer of the organization, most recently created first, a
     * page at a time through the keyset index: memory stays flat whatever
     * the size of the organization.
     */
    async *exportCustomers(organizationId: string, pageSize = 1000): AsyncGenerator<Customer[], void, undefined> {
      if (!(await createOrganizationExists(store, organizationId))) throw notFound('Organization');
      let afterAt: number = FIRST_PAGE_KEY.at;
      let afterId: string = FIRST_PAGE_KEY.id;
      for (;;) {
        const rows = await reads.listPage({ organizationId, sort: 'created_at', filter: 'none', value: '', afterAt, afterId, limit: pageSize });
        if (rows.length > 0) yield rows.map(customerRowToCustomer);
        if (rows.length < pageSize) return;
        const last = rows[rows.length - 1]!;
        afterAt = last.created_at;
        afterId = last.id;
      }
    },
  };
}
export type CustomerImportService = ReturnType<typeof createCustomerImportService>;

async function createOrganizationExists(store: Store, organizationId: string): Promise<boolean> {
  const row = await store.db.selectFrom('organizations').select('id').where('id', '=', organizationId).executeTakeFirst();
  return row !== undefined;
}
