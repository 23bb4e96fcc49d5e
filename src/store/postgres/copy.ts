import { finished } from 'node:stream/promises';
import { CompiledQuery, type Insertable, type Transaction } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../schema.js';

// Bulk inserts on PostgreSQL through COPY (pg-copy-streams): the rows travel as one text stream instead of bound
// parameters, and the server parses them without planning an INSERT of thousands of tuples. A COPY runs as a
// statement of the caller's transaction: `copyRows` hands Kysely `COPY ... FROM STDIN` with the data as its one
// parameter, and the pool's query function (`guardPool`) streams it (`runCopy`).

/** Fewer rows than this go as a multi-row INSERT: a COPY's extra round trip is not worth it for a few. */
export const COPY_MIN_ROWS = 16;

const COPY_FROM_STDIN = /^copy "[a-z_]+" \([a-z_", ]+\) from stdin$/;

/** True for the statements `copyRows` writes (and no other text). */
export function isCopyFromStdin(sqlText: string): boolean {
  return COPY_FROM_STDIN.test(sqlText);
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** One value in COPY's text format: \N for NULL, backslash, tab, newline and carriage return escaped. */
function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  switch (typeof value) {
    case 'string':
      return value.replace(/[\\\t\n\r]/g, (char) =>
        char === '\\' ? '\\\\' : char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\r',
      );
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 't' : 'f';
    default:
      throw new TypeError(`COPY cannot write a value of type ${typeof value}`);
  }
}

/** Inserts `rows` (all with the columns of the first) with one COPY in the transaction. */
export async function copyRows<T extends keyof Database>(
  trx: Transaction<Database>,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const lines: string[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    lines.push(columns.map((column) => copyValue(record[column])).join('\t'));
  }
  const text = `copy ${quoted(table)} (${columns.map(quoted).join(', ')}) from stdin`;
  await trx.executeQuery(CompiledQuery.raw(text, [`${lines.join('\n')}\n`]));
}

/** Runs a `copyRows` statement on the client: streams the data, answers like a query (Kysely reads rowCount). */
export async function runCopy(client: pg.PoolClient, sqlText: string, data: string) {
  const stream = client.query(copyFrom(sqlText));
  stream.end(data);
  await finished(stream);
  return { command: 'COPY', rowCount: stream.rowCount, rows: [] as never[] };
}
