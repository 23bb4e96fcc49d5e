import fs from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ImportRejection, ImportTotals } from '../domain/customers/customer-import.js';
import {
  customerFileChunks,
  customerFileRecords,
  ImportFileError,
  type FileFormat,
} from '../domain/customers/customer-files.js';
import type { Services } from '../services.js';
import { UsageError } from './command.js';

export { ImportFileError, type FileFormat } from '../domain/customers/customer-files.js';

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

/** --format, else the file's extension; a bad value is a usage mistake. */
export function parseFileFormat(raw: string | undefined, file: string | undefined): FileFormat {
  if (raw === undefined) return file !== undefined && /\.csv$/i.test(file) ? 'csv' : 'ndjson';
  const format = raw.toLowerCase();
  if (format === 'csv' || format === 'ndjson') return format;
  if (format === 'jsonl') return 'ndjson';
  throw new UsageError(`--format must be csv or ndjson, got "${raw}"`);
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
  const source = customerFileRecords(options.format, input as AsyncIterable<string>);
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
  for await (const chunk of customerFileChunks(services.customerImport, options.organizationId, options.format)) {
    await write(options.output, chunk.text);
    count += chunk.rows;
  }
  return count;
}
