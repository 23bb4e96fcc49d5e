/**
 * The import baseline: read NDJSON line by line and insert each row with one
 * prepared better-sqlite3 statement, 1000 rows a transaction. No upsert
 * lookups, no validation beyond JSON.parse, no events: the floor for getting
 * the rows into the file.
 *
 *   node bench/.build/bench/baseline/import.js <database file> <organization id> <file.ndjson> [--update]
 *
 * With --update, every line overwrites an existing customer instead (one prepared `UPDATE ... WHERE id = ?`): the
 * organization's customers in the order of the file (newest first, as an export writes them) take the lines' fields
 * in turn, whatever the line's own id (the file's ids are another database's).
 */
import BetterSqlite3 from 'better-sqlite3';
import { monotonicFactory } from 'ulidx';
import { lineValues, loadLines, type ImportLine } from './import-lines.js';

const [file, organizationId, input, mode] = process.argv.slice(2);
if (!file || !organizationId || !input) {
  console.error('usage: baseline/import.js <database file> <organization id> <file.ndjson> [--update]');
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
// The same values as the insert's, named: the key and created_at are matched, not written.
const update = db.prepare(
  `update customers set first_name = @3, last_name = @4, email = @5, email_normalized = @6, phone_number = @7,
     dob = @8, gender = @9, has_agreed_to_marketing = @10, updated_at = @12 where organization_id = @1 and id = @2`,
);
const existing =
  mode === '--update'
    ? (
        db
          .prepare('select id from customers where organization_id = ? order by created_at desc, id desc')
          .pluck()
          .all(organizationId) as string[]
      ).values()
    : undefined;
const nextId = monotonicFactory();
const now = Date.now();
const named = (values: unknown[]) => Object.fromEntries(values.map((value, i) => [String(i + 1), value]));
const writeBatch = db.transaction((lines: ImportLine[]) => {
  for (const line of lines) {
    if (existing) {
      const id = existing.next().value;
      if (id === undefined) throw new Error('more update lines than customers');
      update.run(named(lineValues(line, organizationId, id, now)));
    } else {
      insert.run(lineValues(line, organizationId, nextId(line.createdAt ? Date.parse(line.createdAt) : now), now));
    }
  }
});

await loadLines(input, writeBatch);
db.close();
