/**
 * The import baseline: read NDJSON line by line and insert each row with one
 * prepared better-sqlite3 statement, 1000 rows a transaction. No upsert
 * lookups, no validation beyond JSON.parse, no events: the floor for getting
 * the rows into the file.
 *
 *   node bench/.build/bench/baseline/import.js <database file> <organization id> <file.ndjson>
 */
import fs from 'node:fs';
import readline from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { monotonicFactory } from 'ulidx';

interface Line {
  firstName: string;
  lastName: string;
  email?: string;
  phoneNumber?: string;
  dob?: string;
  gender?: string;
  hasAgreedToMarketing?: boolean;
  createdAt?: string;
}

const [file, organizationId, input] = process.argv.slice(2);
if (!file || !organizationId || !input) {
  console.error('usage: baseline/import.js <database file> <organization id> <file.ndjson>');
  process.exit(2);
}
const db = new BetterSqlite3(file, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const insert = db.prepare(
  `insert into customers (organization_id, id, first_name, last_name, email, email_normalized, phone_number, dob, gender,
     has_agreed_to_marketing, created_at, updated_at, points_balance, total_points_earned, total_points_redeemed, total_spend)
   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0)`,
);
const nextId = monotonicFactory();
const now = Date.now();
const insertBatch = db.transaction((lines: Line[]) => {
  for (const line of lines) {
    const createdAt = line.createdAt ? Date.parse(line.createdAt) : now;
    insert.run(
      organizationId,
      nextId(createdAt),
      line.firstName,
      line.lastName,
      line.email ?? null,
      line.email ? line.email.trim().toLowerCase() : null,
      line.phoneNumber ?? null,
      line.dob ?? null,
      line.gender ?? null,
      line.hasAgreedToMarketing === undefined ? null : line.hasAgreedToMarketing ? 1 : 0,
      createdAt,
      now,
    );
  }
});

const started = performance.now();
let rows = 0;
let batch: Line[] = [];
for await (const text of readline.createInterface({
  input: fs.createReadStream(input, { highWaterMark: 1 << 20 }),
  crlfDelay: Infinity,
})) {
  if (text === '') continue;
  batch.push(JSON.parse(text) as Line);
  if (batch.length === 1000) {
    insertBatch(batch);
    rows += batch.length;
    batch = [];
  }
}
insertBatch(batch);
rows += batch.length;
db.close();
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ rows, seconds, rowsPerSecond: Math.round(rows / seconds) }));
