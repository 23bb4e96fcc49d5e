/**
 * The PostgreSQL import baseline: read NDJSON line by line and insert 1000 rows a transaction in one multi-row
 * `INSERT` (the form a bare loader writes; bound parameters, no upsert lookups, no validation beyond JSON.parse, no
 * search rows, no events): the floor for getting the rows into the table.
 *
 *   node bench/.build/bench/baseline/import-postgres.js <database url> <organization id> <file.ndjson> [--update]
 *
 * With --update, every line overwrites an existing customer instead, 1000 a statement (`UPDATE ... FROM (VALUES
 * ...)` by id): the organization's customers newest first take the lines' fields in turn (the file's ids are
 * another database's), as the SQLite baseline does.
 */
import pg from 'pg';
import { monotonicFactory } from 'ulidx';
import { lineValues, loadLines, type ImportLine } from './import-lines.js';

const [url, organizationId, input, mode] = process.argv.slice(2);
if (!url || !organizationId || !input) {
  console.error('usage: baseline/import-postgres.js <database url> <organization id> <file.ndjson> [--update]');
  process.exit(2);
}
const updating = mode === '--update';
const organization: string = organizationId;
const client = new pg.Client({ connectionString: url });
await client.connect();
const existing = updating
  ? (
      await client.query<{ id: string }>(
        'select id from customers where organization_id = $1 order by created_at desc, id desc',
        [organizationId],
      )
    ).rows
      .map((row) => row.id)
      .values()
  : undefined;
const nextId = monotonicFactory();
const now = Date.now();
const COLUMNS = 12;

function placeholders(rows: number): string {
  const tuples: string[] = [];
  for (let row = 0; row < rows; row++) {
    const slots: string[] = [];
    for (let c = 1; c <= COLUMNS; c++) slots.push(`$${row * COLUMNS + c}`);
    tuples.push(`(${slots.join(', ')})`);
  }
  return tuples.join(', ');
}

async function writeBatch(lines: ImportLine[]) {
  if (lines.length === 0) return;
  const values: unknown[] = [];
  for (const line of lines) {
    const id = existing ? existing.next().value : nextId(line.createdAt ? Date.parse(line.createdAt) : now);
    if (id === undefined) throw new Error('more update lines than customers');
    values.push(...lineValues(line, organization, id, now));
  }
  const text = updating
    ? `update customers c set first_name = v.first_name, last_name = v.last_name, email = v.email,
         email_normalized = v.email_normalized, phone_number = v.phone_number, dob = v.dob, gender = v.gender,
         has_agreed_to_marketing = v.marketing::integer, updated_at = v.updated_at::bigint
       from (values ${placeholders(lines.length)}) as v(organization_id, id, first_name, last_name, email,
         email_normalized, phone_number, dob, gender, marketing, created_at, updated_at)
       where c.organization_id = v.organization_id and c.id = v.id`
    : `insert into customers (organization_id, id, first_name, last_name, email, email_normalized, phone_number, dob,
         gender, has_agreed_to_marketing, created_at, updated_at) values ${placeholders(lines.length)}`;
  await client.query(text, values);
}

await loadLines(input, writeBatch);
await client.end();
