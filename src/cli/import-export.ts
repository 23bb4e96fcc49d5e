import fs from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ImportRecord, ImportRejection, ImportTotals } from '../domain/customers/customer-import.js';
import {
  CUSTOMER_CSV_COLUMNS,
  CUSTOMER_CSV_FIELDS,
  CUSTOMER_FIELDS,
  CUSTOMER_STATISTICS,
  METADATA_CSV_PREFIX,
  entriesOf,
  type CustomerFieldDefinition,
  type CustomerStatisticName,
} from '../contract/customer-fields.js';
import type { Customer } from '../contract/customers.js';
import type { Services } from '../services.js';
import { UsageError } from './command.js';
import { csvCell, readCsvRecords } from './csv.js';

export type FileFormat = 'csv' | 'ndjson';
/** What a file holds: customers (CSV or NDJSON) or payments (NDJSON, as the API and `export --type payments` write them). */
export type RecordType = 'customers' | 'payments';

/** --type, customers by default; payments files are NDJSON only (items nest too deep for columns). */
export function parseRecordType(raw: string | undefined, format: FileFormat): RecordType {
  const type = (raw ?? 'customers').toLowerCase();
  if (type !== 'customers' && type !== 'payments')
    throw new UsageError(`--type must be customers or payments, got "${raw}"`);
  if (type === 'payments' && format !== 'ndjson') throw new UsageError('payments are imported and exported as NDJSON');
  return type;
}

export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

/**
 * The fixed CSV columns, in export order; `statistics.x` columns hold the nested statistics. A `metadata.KEY`
 * column per metadata key follows them.
 */
export const CSV_COLUMNS = CUSTOMER_CSV_COLUMNS;
const FIELD_NAMES = CUSTOMER_CSV_FIELDS;
const STATISTIC_NAMES = Object.keys(CUSTOMER_STATISTICS) as CustomerStatisticName[];
const BOOLEAN_COLUMNS = new Set<string>(
  entriesOf(CUSTOMER_FIELDS)
    .filter(([, field]) => (field as CustomerFieldDefinition).kind === 'boolean')
    .map(([name]) => name),
);
const NUMERIC_COLUMNS = new Set(
  entriesOf(CUSTOMER_STATISTICS)
    .filter(([, statistic]) => statistic.kind === 'count')
    .map(([name]) => `statistics.${name}`),
);

/** --format, else the file's extension; a bad value is a usage mistake. */
export function parseFileFormat(raw: string | undefined, file: string | undefined): FileFormat {
  if (raw === undefined) return file !== undefined && /\.csv$/i.test(file) ? 'csv' : 'ndjson';
  const format = raw.toLowerCase();
  if (format === 'csv' || format === 'ndjson') return format;
  if (format === 'jsonl') return 'ndjson';
  throw new UsageError(`--format must be csv or ndjson, got "${raw}"`);
}

/** CSV cells to the record shape of the API: empty cells are absent, booleans and counts typed, statistics nested. */
function csvRecord(header: readonly string[], cells: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) {
    const cell = cells[i];
    if (cell === undefined || cell === '') continue;
    const column = header[i]!;
    let value: unknown = cell;
    if (BOOLEAN_COLUMNS.has(column)) {
      const lower = cell.trim().toLowerCase();
      value = lower === 'true' ? true : lower === 'false' ? false : cell;
    } else if (NUMERIC_COLUMNS.has(column) && /^-?\d{1,16}$/.test(cell.trim())) {
      value = Number(cell.trim());
    }
    if (column.startsWith('statistics.')) {
      const statistics = (record.statistics ??= {}) as Record<string, unknown>;
      statistics[column.slice('statistics.'.length)] = value;
    } else if (column.startsWith(METADATA_CSV_PREFIX)) {
      const metadata = (record.metadata ??= {}) as Record<string, unknown>;
      metadata[column.slice(METADATA_CSV_PREFIX.length)] = cell;
    } else record[column] = value;
  }
  return record;
}

const CHUNK_RECORDS = 1000;

async function* csvRecords(stream: fs.ReadStream): AsyncGenerator<ImportRecord[], void, undefined> {
  let header: string[] | undefined;
  let chunk: ImportRecord[] = [];
  for await (const { line, fields } of readCsvRecords(stream as AsyncIterable<string>)) {
    if (header === undefined) {
      header = fields.map((f) => f.trim());
      const unknown = header.filter(
        (h) =>
          !CSV_COLUMNS.includes(h) && !(h.startsWith(METADATA_CSV_PREFIX) && h.length > METADATA_CSV_PREFIX.length),
      );
      if (unknown.length > 0)
        throw new ImportFileError(
          `unknown CSV column(s) ${unknown.join(', ')}; expected some of ${CSV_COLUMNS.join(', ')} or metadata.KEY`,
        );
      if (new Set(header).size !== header.length) throw new ImportFileError('the CSV header names a column twice');
      continue;
    }
    chunk.push(
      fields.length === header.length
        ? { line, value: csvRecord(header, fields) }
        : { line, error: `has ${fields.length} cells where the header has ${header.length}` },
    );
    if (chunk.length >= CHUNK_RECORDS) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** NDJSON lines, a chunk of the file at a time; JSON is decoded later, by the validators. */
async function* ndjsonRecords(stream: fs.ReadStream): AsyncGenerator<ImportRecord[], void, undefined> {
  let rest = '';
  let line = 0;
  const split = (text: string, final: boolean): ImportRecord[] => {
    const records: ImportRecord[] = [];
    const parts = text.split('\n');
    rest = final ? '' : parts.pop()!;
    for (const part of parts) {
      line++;
      const trimmed = part.endsWith('\r') ? part.slice(0, -1) : part;
      if (trimmed.trim() !== '') records.push({ line, text: trimmed });
    }
    return records;
  };
  for await (const data of stream as AsyncIterable<string>) {
    const records = split(rest + data, false);
    if (records.length > 0) yield records;
  }
  const last = split(rest, true);
  if (last.length > 0) yield last;
}

/** Reports progress on stderr: a redrawn bar with rows/s on a terminal, a plain line every few seconds otherwise. */
export function createProgressReporter(
  stream: NodeJS.WriteStream,
  totalBytes: number | undefined,
  now: () => number = Date.now,
) {
  const started = now();
  let lastDraw = 0;
  const tty = stream.isTTY === true;
  const interval = tty ? 100 : 5000;
  const rate = (rows: number) => Math.round(rows / Math.max((now() - started) / 1000, 0.001));
  return {
    update(totals: ImportTotals, bytes: number | undefined) {
      const at = now();
      if (at - lastDraw < interval) return;
      lastDraw = at;
      const fraction = totalBytes && bytes !== undefined ? Math.min(1, bytes / totalBytes) : undefined;
      if (tty) {
        const width = 30;
        const filled = fraction === undefined ? 0 : Math.round(fraction * width);
        const bar =
          fraction === undefined
            ? ''
            : `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1)}% `;
        stream.write(`\r${bar}${totals.rows} rows, ${rate(totals.rows)} rows/s, ${totals.rejected} rejected\u001b[K`);
      } else {
        const percent = fraction === undefined ? '' : ` (${(fraction * 100).toFixed(1)}%)`;
        stream.write(
          `import: ${totals.rows} rows${percent}, ${rate(totals.rows)} rows/s, ${totals.rejected} rejected\n`,
        );
      }
    },
    finish(totals: ImportTotals) {
      if (tty) stream.write('\r\u001b[K');
      const seconds = Math.max((now() - started) / 1000, 0.001);
      return { seconds, rowsPerSecond: Math.round(totals.rows / seconds) };
    },
  };
}

export interface ImportCommandOptions {
  organizationId: string;
  type?: RecordType;
  file: string;
  format: FileFormat;
  rejectsFile: string | undefined;
  batchSize: number;
  workers: number;
  progress: NodeJS.WriteStream;
}

export interface ImportCommandResult extends ImportTotals {
  seconds: number;
  rowsPerSecond: number;
  rejectsFile: string | undefined;
}

async function write(stream: Writable, text: string) {
  if (!stream.write(text)) await once(stream, 'drain');
}

export async function runImport(services: Services, options: ImportCommandOptions): Promise<ImportCommandResult> {
  let size: number;
  try {
    size = fs.statSync(options.file).size;
  } catch {
    throw new ImportFileError(`cannot read ${options.file}`);
  }
  const input = fs.createReadStream(options.file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const source = options.format === 'csv' ? csvRecords(input) : ndjsonRecords(input);
  const rejectsPath = options.rejectsFile ?? `${options.file}.rejects.ndjson`;
  let rejects: fs.WriteStream | undefined;
  const progress = createProgressReporter(options.progress, size);
  // Created on the first rejection only, so a clean import leaves no empty file behind.
  const onRejected = (rejection: ImportRejection) => {
    rejects ??= fs.createWriteStream(rejectsPath);
    rejects.write(`${JSON.stringify(rejection)}\n`);
  };
  try {
    const onProgress = (running: ImportTotals) => progress.update(running, input.bytesRead);
    const totals =
      options.type === 'payments'
        ? await services.paymentImport.importPayments(options.organizationId, source, {
            batchSize: options.batchSize,
            onRejected,
            onProgress,
          })
        : await services.customerImport.importCustomers(options.organizationId, source, {
            batchSize: options.batchSize,
            workers: options.workers,
            onRejected,
            onProgress,
          });
    const rejectsStream = rejects;
    if (rejectsStream) {
      rejectsStream.end();
      await once(rejectsStream, 'finish');
    }
    const timing = progress.finish(totals);
    return { ...totals, ...timing, rejectsFile: rejectsStream ? rejectsPath : undefined };
  } finally {
    input.destroy();
    rejects?.destroy();
  }
}

function customerCsvLine(customer: Customer, metadataKeys: readonly string[]): string {
  const statistics = customer.statistics ?? {};
  const metadata = customer.metadata ?? {};
  return [
    ...FIELD_NAMES.map((name) => customer[name] as string | number | boolean | undefined),
    ...STATISTIC_NAMES.map((name) => statistics[name]),
    ...metadataKeys.map((key) => metadata[key]),
  ]
    .map(csvCell)
    .join(',');
}

/** Streams every customer to `output`, a page at a time, waiting for the stream to drain (backpressure). */
export async function runExport(
  services: Services,
  options: { organizationId: string; format: FileFormat; output: Writable; type?: RecordType },
): Promise<number> {
  let count = 0;
  if (options.type === 'payments') {
    for await (const page of services.paymentImport.exportPayments(options.organizationId)) {
      await write(options.output, `${page.map((payment) => JSON.stringify(payment)).join('\n')}\n`);
      count += page.length;
    }
    return count;
  }
  // The keys as they are when the export starts: a key first set during the export has no column.
  const metadataKeys =
    options.format === 'csv' ? await services.customerImport.metadataKeys(options.organizationId) : [];
  if (options.format === 'csv') {
    const header = [...CSV_COLUMNS, ...metadataKeys.map((key) => `${METADATA_CSV_PREFIX}${key}`)];
    await write(options.output, `${header.map(csvCell).join(',')}\n`);
  }
  for await (const page of services.customerImport.exportCustomers(options.organizationId)) {
    const lines =
      options.format === 'csv'
        ? page.map((customer) => customerCsvLine(customer, metadataKeys))
        : page.map((customer) => JSON.stringify(customer));
    await write(options.output, `${lines.join('\n')}\n`);
    count += page.length;
  }
  return count;
}
