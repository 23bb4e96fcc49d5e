/**
 * The CSV import's reader: our streaming RFC 4180 reader (src/domain/csv.ts) against csv-parse, the ecosystem's
 * maintained parser, on the same file, alternating rounds in one process. Run: `npm run build && tsc -p
 * bench/tsconfig.json && node bench/.build/bench/csv-reader.js [rows]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse';
import { readCsvRecords } from '../src/domain/csv.js';

const rows = Number(process.argv[2] ?? '200000');
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-csv-')), 'customers.csv');
const out = fs.createWriteStream(file);
out.write('firstName,lastName,email,phoneNumber,hasAgreedToMarketing,dob,gender\n');
for (let i = 0; i < rows; i++) {
  // Every fifth row needs quoting (a comma, a doubled quote, a line break), as real exports do.
  const last = i % 5 === 0 ? `"O""Brien, ${i}\nJr"` : `Lee${i}`;
  out.write(
    `Ann${i},${last},ann.${i}@example.com,+6141${String(i).padStart(7, '0')},${i % 2 === 0},1990-01-02,FEMALE\n`,
  );
}
await new Promise((resolve) => out.end(resolve));

async function ours(): Promise<number> {
  let count = 0;
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  for await (const record of readCsvRecords(stream as AsyncIterable<string>)) count += record.fields.length > 0 ? 1 : 0;
  return count;
}

async function csvParse(): Promise<number> {
  let count = 0;
  const parser = fs
    .createReadStream(file, { highWaterMark: 256 * 1024 })
    .pipe(parse({ bom: true, relax_column_count: true, info: true }));
  for await (const record of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    count += record.record.length > 0 ? 1 : 0;
  }
  return count;
}

async function time(run: () => Promise<number>) {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const count = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { count, seconds, cpuMicrosPerRow: (used.user + used.system) / count };
}

const results: Record<string, { seconds: number[]; cpu: number[] }> = {
  ours: { seconds: [], cpu: [] },
  'csv-parse': { seconds: [], cpu: [] },
};
for (let round = 0; round < 5; round++) {
  for (const [name, run] of [
    ['ours', ours],
    ['csv-parse', csvParse],
  ] as const) {
    const result = await time(run);
    if (result.count !== rows + 1) throw new Error(`${name} read ${result.count} records, expected ${rows + 1}`);
    results[name]!.seconds.push(result.seconds);
    results[name]!.cpu.push(result.cpuMicrosPerRow);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(10)} ${Math.round(rows / median(r.seconds)).toLocaleString('en')} rows/s, ${median(r.cpu).toFixed(2)} µs CPU/row (median of 5)`,
  );
}
const ratio = median(results['csv-parse']!.cpu) / median(results.ours!.cpu);
console.log(`CPU per row, csv-parse / ours: ${ratio.toFixed(2)}x`);
fs.rmSync(path.dirname(file), { recursive: true, force: true });
