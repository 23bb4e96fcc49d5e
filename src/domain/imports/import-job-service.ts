import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IMPORT_REJECTS_SHOWN, type ImportJob } from '../../contract/imports.js';
import { fileTooLarge, notFound } from '../../errors.js';
import {
  findImportJob,
  insertImportJob,
  insertImportRejects,
  listImportRejects,
  updateImportJob,
  type ImportJobRow,
} from '../../store/repositories/import-job-repository.js';
import { createOrganizationReads } from '../../store/repositories/organization-repository.js';
import type { Store } from '../../store/store.js';
import { CsvError } from '../csv.js';
import type { CustomerImportService, ImportRecord, ImportRejection } from '../customers/customer-import.js';
import { customerFileRecords, ImportFileError, type FileFormat } from '../customers/customer-files.js';
import { newId } from '../ids.js';
import { formatMillis } from '../time.js';

/** How often a running import writes its progress (rows read and rejected move between committed batches too). */
const PROGRESS_INTERVAL_MS = 1000;
/** A running import whose progress has not moved for this long belongs to a process that went away. */
export const STALLED_AFTER_MS = 30_000;
/**
 * Validation in this thread: a 1000-row chunk takes a few milliseconds of the event loop between batches, and a
 * worker pool per upload would cost more threads than the server's other requests can spare on a small machine.
 */
const VALIDATION_THREADS = 0;

export interface ImportJobOptions {
  /** Largest file accepted (IMPORT_MAX_BYTES). */
  maxBytes: number;
  /** Where received files wait for their import; the system's temporary directory by default. */
  spoolDirectory?: string | undefined;
  /** Rows per transaction (default 1000). */
  batchSize?: number | undefined;
  /** Reports a running import's failure to write its progress (the database gone); the import goes on. */
  onError?: ((error: unknown) => void) | undefined;
}

function importJobRowToJob(row: ImportJobRow, rejects: ImportJob['rejects'], now: number): ImportJob {
  const stalled = row.status === 'running' && now - Number(row.updated_at) > STALLED_AFTER_MS;
  const job: ImportJob = {
    format: row.format as FileFormat,
    id: row.id,
    rejects,
    rowsImported: Number(row.rows_imported),
    rowsRead: Number(row.rows_read),
    rowsRejected: Number(row.rows_rejected),
    startedAt: formatMillis(Number(row.started_at)),
    status: stalled ? 'failed' : (row.status as ImportJob['status']),
  };
  if (row.completed_at !== null) job.completedAt = formatMillis(Number(row.completed_at));
  if (stalled) job.error = 'The server running the import stopped before it finished; import the file again';
  else if (row.error !== null) job.error = row.error;
  return job;
}

/** Counts the bytes going through and fails past `maxBytes`. */
function byteLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(fileTooLarge(maxBytes));
      else done(null, chunk);
    },
  });
}

/**
 * Imports over HTTP: the file is received to a spool file (streamed, so memory stays flat), then imported in the
 * background by the CLI's import code while the job row in the database reports progress and rejects to any process.
 */
export function createImportJobService(store: Store, customerImport: CustomerImportService, options: ImportJobOptions) {
  const organizations = createOrganizationReads(store);
  const running = new Set<Promise<void>>();
  const spoolDirectory = options.spoolDirectory ?? os.tmpdir();

  async function receive(body: AsyncIterable<Buffer>, file: string): Promise<void> {
    try {
      await pipeline(body, byteLimit(options.maxBytes), fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      await fs.promises.rm(file, { force: true });
      throw error;
    }
  }

  /** Runs the import of a received file, keeping the job row current; never rejects. */
  async function run(organizationId: string, id: string, format: FileFormat, file: string): Promise<void> {
    let rowsRead = 0;
    let rowsImported = 0;
    let rowsRejected = 0;
    let position = 0;
    const pending: ImportRejection[] = [];
    let writing: Promise<void> = Promise.resolve();
    const writeProgress = () => {
      writing = writing.then(async () => {
        const rejects = pending.splice(0).map((r) => ({
          organization_id: organizationId,
          import_id: id,
          position: position++,
          line: r.line,
          reason: r.reason,
        }));
        try {
          await insertImportRejects(store.db, rejects);
          await updateImportJob(store.db, organizationId, id, {
            rows_read: rowsRead,
            rows_imported: rowsImported,
            rows_rejected: rowsRejected,
            updated_at: Date.now(),
          });
        } catch (error) {
          options.onError?.(error);
        }
      });
    };
    async function* counted(chunks: AsyncIterable<ImportRecord[]>) {
      for await (const chunk of chunks) {
        rowsRead += chunk.length;
        yield chunk;
      }
    }
    const timer = setInterval(writeProgress, PROGRESS_INTERVAL_MS);
    const input = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    let failure: string | undefined;
    try {
      await customerImport.importCustomers(
        organizationId,
        counted(customerFileRecords(format, input as AsyncIterable<string>)),
        {
          batchSize: options.batchSize,
          workers: VALIDATION_THREADS,
          onRejected: (rejection) => {
            rowsRejected++;
            pending.push(rejection);
          },
          onProgress: (totals) => {
            rowsImported = totals.inserted + totals.updated + totals.unchanged;
            writeProgress();
          },
        },
      );
    } catch (error) {
      if (error instanceof CsvError) {
        // The rest of the file cannot be read as CSV: the row it stopped at is the last reject.
        rowsRejected++;
        pending.push({ line: error.line, reason: error.message });
        failure = `The file is not valid CSV (${error.message}); the import stopped there`;
      } else if (error instanceof ImportFileError) failure = `The file cannot be imported: ${error.message}`;
      else {
        options.onError?.(error);
        failure = 'The import stopped on an internal error; batches written before it stay';
      }
    } finally {
      clearInterval(timer);
      input.destroy();
    }
    writeProgress();
    await writing;
    try {
      await updateImportJob(store.db, organizationId, id, {
        status: failure === undefined ? 'completed' : 'failed',
        error: failure ?? null,
        completed_at: Date.now(),
        updated_at: Date.now(),
      });
    } catch (error) {
      options.onError?.(error);
    }
    await fs.promises.rm(file, { force: true });
  }

  async function findJob(organizationId: string, id: string): Promise<ImportJobRow> {
    const row = await findImportJob(store.db, organizationId, id);
    if (!row) throw notFound('Import');
    return row;
  }

  return {
    /**
     * Receives the file (at most `maxBytes`), records the job and starts importing it; resolves with the job as it
     * starts. A file over the limit is a 413 and leaves nothing behind.
     */
    async startImport(organizationId: string, format: FileFormat, body: AsyncIterable<Buffer>): Promise<ImportJob> {
      if (!(await organizations.findById(organizationId))) throw notFound('Organization');
      const id = newId(Date.now());
      const file = path.join(spoolDirectory, `customers-api-import-${id}.${format}`);
      await receive(body, file);
      const now = Date.now();
      const row: ImportJobRow = {
        organization_id: organizationId,
        id,
        format,
        status: 'running',
        rows_read: 0,
        rows_imported: 0,
        rows_rejected: 0,
        error: null,
        started_at: now,
        completed_at: null,
        updated_at: now,
      };
      try {
        await insertImportJob(store.db, row);
      } catch (error) {
        await fs.promises.rm(file, { force: true });
        throw error;
      }
      const job = run(organizationId, id, format, file).finally(() => running.delete(job));
      running.add(job);
      return importJobRowToJob(row, [], now);
    },

    async getImport(organizationId: string, id: string): Promise<ImportJob> {
      const row = await findJob(organizationId, id);
      const rejects = await listImportRejects(store.db, organizationId, id, -1, IMPORT_REJECTS_SHOWN);
      return importJobRowToJob(
        row,
        rejects.map((r) => ({ line: Number(r.line), reason: r.reason })),
        Date.now(),
      );
    },

    /** Every reject of the import as NDJSON lines, a page at a time; 404 (before any line) for an unknown import. */
    async rejectLines(organizationId: string, id: string): Promise<AsyncGenerator<string, void, undefined>> {
      await findJob(organizationId, id);
      return (async function* () {
        let after = -1;
        for (;;) {
          const page = await listImportRejects(store.db, organizationId, id, after, 1000);
          if (page.length === 0) return;
          yield page.map((r) => `${JSON.stringify({ line: Number(r.line), reason: r.reason })}\n`).join('');
          after = Number(page.at(-1)!.position);
        }
      })();
    },

    /** Resolves once every import this process runs has finished (shutdown, tests). */
    async drain(): Promise<void> {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
export type ImportJobService = ReturnType<typeof createImportJobService>;
