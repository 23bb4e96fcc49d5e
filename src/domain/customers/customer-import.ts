import type { CountryCode } from 'libphonenumber-js/max';
import {
  CUSTOMER_FIELDS,
  CUSTOMER_STATISTICS,
  entriesOf,
  type CustomerFieldDefinition,
} from '../../contract/customer-fields.js';
import { notFound } from '../../errors.js';
import type { Customer } from '../../contract/customers.js';
import {
  analyzeTables,
  findCustomersByEmails,
  IMPORTED_TABLES,
  findCustomersByIds,
  findMetadataKeys,
  writeCustomerRows,
} from '../../store/repositories/customer-import-repository.js';
import { createCustomerReads, FIRST_PAGE_KEY, type CustomerRow } from '../../store/repositories/customer-repository.js';
import { advanceOrganizationClock } from '../../store/repositories/organization-repository.js';
import type { CustomerSearchSource } from '../../store/customer-search-text.js';
import type { Store } from '../../store/store.js';
import {
  byCustomerOrder,
  collectEvents,
  customerCreated,
  customerStatisticsUpdated,
  customerUpdated,
  type DomainEvent,
  recordEvents,
} from '../events/event-log.js';
import { newId } from '../ids.js';
import { reevaluateSegments } from '../segments/segment-membership.js';
import { createValidationPool } from './import-validation-pool.js';
import {
  validateImportChunk,
  type ImportRecord,
  type ImportRejection,
  type ValidatedChunk,
  type ValidRecord,
} from './import-validation.js';
import { customerRowToCustomer, EMPTY_STATISTICS } from './customer-mapper.js';

export type { ImportRecord, ImportRejection } from './import-validation.js';

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
  /** Validates in this many worker threads while the main thread writes (default 0: in this thread). */
  workers?: number;
}

/** The columns an import compares to decide whether a customer changed (contract/customer-fields.ts marks them). */
const COMPARED_COLUMNS = entriesOf(CUSTOMER_FIELDS).flatMap(([, field]) => {
  const definition: CustomerFieldDefinition = field;
  if (!definition.comparedOnImport) return [];
  return (
    definition.searchColumn ? [definition.column, definition.searchColumn] : [definition.column]
  ) as (keyof CustomerRow)[];
});
const STAT_COLUMNS = entriesOf(CUSTOMER_STATISTICS).map(([, statistic]) => statistic.column);
/**
 * What a customer's search rows are made of (`customerSearchRow`): an update that leaves them as they are does not
 * rewrite the search rows, whose full-text index (FTS5 with secure-delete on SQLite) is the costliest part of an
 * update (an import of an export with a few fields changed).
 */
const SEARCHED_COLUMNS = [
  'first_name',
  'last_name',
  'email',
  'phone_number',
] as const satisfies readonly (keyof CustomerSearchSource & keyof CustomerRow)[];

function pickColumns<K extends keyof CustomerRow>(row: CustomerRow, columns: readonly K[]): Pick<CustomerRow, K> {
  return Object.fromEntries(columns.map((column) => [column, row[column]])) as Pick<CustomerRow, K>;
}

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
      const emails = [
        ...new Set(
          batch.flatMap((r) =>
            r.id === undefined && r.profile.email_normalized !== null ? [r.profile.email_normalized] : [],
          ),
        ),
      ];
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

      const written = new Map<
        string,
        { row: CustomerRow; created: boolean; statisticsChanged: boolean; searchChanged: boolean }
      >();
      for (const record of batch) {
        let current: CustomerRow | undefined;
        if (record.id !== undefined) current = byId.get(record.id);
        else if (record.profile.email_normalized !== null) {
          const matches = [...(byEmail.get(record.profile.email_normalized) ?? [])];
          if (matches.length > 1) {
            rejections.push({
              line: record.line,
              reason: `email: ${matches.length} customers have this email; give the id`,
            });
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
          ...(current ? pickColumns(current, STAT_COLUMNS) : EMPTY_STATISTICS),
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
        const statisticsChanged =
          (previous?.statisticsChanged ?? false) ||
          (current !== undefined && !sameColumns(current, next, STAT_COLUMNS));
        const searchChanged =
          (previous?.searchChanged ?? false) || current === undefined || !sameColumns(current, next, SEARCHED_COLUMNS);
        if (current?.email_normalized != null && current.email_normalized !== next.email_normalized) {
          byEmail.get(current.email_normalized)?.delete(current.id);
        }
        byId.set(next.id, next);
        indexEmail(next);
        written.set(next.id, { row: next, created, statisticsChanged, searchChanged });
      }

      const rows = [...written.values()];
      const writtenIds = rows.map((w) => w.row.id);
      // The batch's events (the customers' own, then the segments' membership changes) are appended in the order
      // the same writes one at a time would have them: per customer (test/import-equivalence.test.ts).
      await collectEvents(
        trx,
        store,
        organizationId,
        tick,
        0,
        async () => {
          await writeCustomerRows(
            trx,
            store,
            rows.flatMap((w) => (w.created ? [w.row] : [])),
            rows.flatMap((w) => (w.created ? [] : [w.row])),
            rows.flatMap((w) => (!w.created && w.searchChanged ? [w.row] : [])),
          );
          const events: DomainEvent[] = [];
          for (const w of rows) {
            events.push(w.created ? customerCreated(w.row) : customerUpdated(w.row));
            if (w.statisticsChanged) events.push(customerStatisticsUpdated(w.row));
          }
          await recordEvents(trx, store, organizationId, now, events);
          await reevaluateSegments(trx, store, organizationId, writtenIds, now);
        },
        byCustomerOrder(writtenIds),
      );
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
    async importCustomers(
      organizationId: string,
      chunks: AsyncIterable<readonly ImportRecord[]>,
      options: ImportOptions = {},
    ): Promise<ImportTotals> {
      const batchSize = options.batchSize ?? 1000;
      const totals: ImportTotals = { rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
      const reject = (rejection: ImportRejection) => {
        totals.rejected++;
        options.onRejected?.(rejection);
      };
      if (!(await createOrganizationExists(store, organizationId))) throw notFound('Organization');
      const pool = options.workers ? await createValidationPool(options.workers, region) : undefined;
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
      const consume = async (validated: ValidatedChunk) => {
        for (const rejection of validated.rejected) reject(rejection);
        for (const record of validated.valid) {
          batch.push(record);
          if (batch.length >= batchSize) await flush();
        }
      };
      // In order, with a bounded number of chunks in flight: reading waits for writing (backpressure).
      const inFlight: Promise<ValidatedChunk>[] = [];
      const load = async () => {
        for await (const chunk of chunks) {
          totals.rows += chunk.length;
          if (!pool) {
            await consume(validateImportChunk(chunk, region));
            continue;
          }
          inFlight.push(pool.validate(chunk));
          if (inFlight.length >= pool.size * 2) await consume(await inFlight.shift()!);
        }
        while (inFlight.length > 0) await consume(await inFlight.shift()!);
        await flush();
        // Searches right after a large import must not plan with the sizes from before it (issue 16).
        if (totals.inserted + totals.updated > 0) await analyzeTables(store.db, store, IMPORTED_TABLES);
      };
      try {
        await store.bulkLoad(load);
      } finally {
        // Settle what is still running before the pool goes, so no rejection is left unhandled.
        await Promise.allSettled(inFlight);
        await pool?.close();
      }
      options.onProgress?.({ ...totals });
      return totals;
    },

    /** The metadata keys the organization's customers have, sorted (the metadata columns of a CSV export). */
    async metadataKeys(organizationId: string): Promise<string[]> {
      if (!(await createOrganizationExists(store, organizationId))) throw notFound('Organization');
      return findMetadataKeys(store.db, store, organizationId);
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
        const rows = await reads.listPage({
          organizationId,
          sort: 'created_at',
          filter: 'none',
          value: '',
          afterAt,
          afterId,
          limit: pageSize,
        });
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
  const row = await store.db
    .selectFrom('organizations')
    .select('id')
    .where('id', '=', organizationId)
    .executeTakeFirst();
  return row !== undefined;
}
