import {
  CUSTOMER_CSV_COLUMNS,
  CUSTOMER_CSV_FIELDS,
  CUSTOMER_FIELDS,
  CUSTOMER_STATISTICS,
  METADATA_CSV_PREFIX,
  entriesOf,
  type CustomerFieldDefinition,
  type CustomerStatisticName,
} from '../../contract/customer-fields.js';
import type { Customer } from '../../contract/customers.js';
import { csvCell, readCsvRecords } from '../csv.js';
import type { CustomerImportService, ImportRecord } from './customer-import.js';

/**
 * Customer files, CSV and NDJSON, as the CLI and the HTTP imports and exports read and write them: one definition
 * of the columns and of how a file becomes import records, whatever the transport.
 */
export type FileFormat = 'csv' | 'ndjson';

/** A file the import cannot read at all (an unknown CSV column, a column named twice). */
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

/** A CSV file's records, a chunk at a time; a row with the wrong number of cells is a record the import rejects. */
export async function* csvRecords(text: AsyncIterable<string>): AsyncGenerator<ImportRecord[], void, undefined> {
  let header: string[] | undefined;
  let chunk: ImportRecord[] = [];
  for await (const { line, fields } of readCsvRecords(text)) {
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
export async function* ndjsonRecords(text: AsyncIterable<string>): AsyncGenerator<ImportRecord[], void, undefined> {
  let rest = '';
  let line = 0;
  const split = (data: string, final: boolean): ImportRecord[] => {
    const records: ImportRecord[] = [];
    const parts = data.split('\n');
    rest = final ? '' : parts.pop()!;
    for (const part of parts) {
      line++;
      const trimmed = part.endsWith('\r') ? part.slice(0, -1) : part;
      if (trimmed.trim() !== '') records.push({ line, text: trimmed });
    }
    return records;
  };
  for await (const data of text) {
    const records = split(rest + data, false);
    if (records.length > 0) yield records;
  }
  const last = split(rest, true);
  if (last.length > 0) yield last;
}

/** The records of a customer file of the format. */
export function customerFileRecords(
  format: FileFormat,
  text: AsyncIterable<string>,
): AsyncGenerator<ImportRecord[], void, undefined> {
  return format === 'csv' ? csvRecords(text) : ndjsonRecords(text);
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

/**
 * Every customer of the organization as the text of a file of the format, a page of lines at a time (memory stays
 * flat whatever the organization's size). CSV starts with the header; its metadata columns are the keys as they are
 * when the export starts: a key first set during the export has no column.
 */
export async function* customerFileChunks(
  customerImport: CustomerImportService,
  organizationId: string,
  format: FileFormat,
): AsyncGenerator<{ text: string; rows: number }, void, undefined> {
  const metadataKeys = format === 'csv' ? await customerImport.metadataKeys(organizationId) : [];
  if (format === 'csv') {
    const header = [...CSV_COLUMNS, ...metadataKeys.map((key) => `${METADATA_CSV_PREFIX}${key}`)];
    yield { text: `${header.map(csvCell).join(',')}\n`, rows: 0 };
  }
  for await (const page of customerImport.exportCustomers(organizationId)) {
    const lines =
      format === 'csv'
        ? page.map((customer) => customerCsvLine(customer, metadataKeys))
        : page.map((customer) => JSON.stringify(customer));
    yield { text: `${lines.join('\n')}\n`, rows: page.length };
  }
}
