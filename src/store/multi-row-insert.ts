import { CompiledQuery, type Insertable, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { UpsertOptions } from './store.js';

/** How one dialect spells a multi-row insert: its bound-parameter limit and its placeholders. */
export interface MultiRowInsertDialect {
  /** Bound parameters one statement may carry (with a margin below the dialect's hard limit). */
  readonly maxParameters: number;
  /** The placeholder of the 0-based parameter `index`. */
  placeholder(index: number): string;
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Statement texts built so far, by dialect, table, columns, conflict clause and row count (bounded). */
const TEXT_CACHE_LIMIT = 256;
const textCache = new Map<string, string>();

// Up to this many rows go in one statement of their exact count: a write's own few events (a PATCH that moves the
// customer into 4 segments records 5) in one statement instead of one per power of two, at the price of at most
// this many more statement texts per table.
const EXACT_ROWS = 16;

/**
 * Row counts of the statements that insert `total` rows: full chunks, then the remainder as powers of two down to
 * `EXACT_ROWS` or fewer rows, which go in one statement, so an import's uneven batches reuse a handful of statement
 * texts (each prepared once) instead of one per count.
 */
export function statementSizes(total: number, chunk: number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left >= chunk) {
    sizes.push(chunk);
    left -= chunk;
  }
  for (let size = 1 << Math.floor(Math.log2(Math.max(left, 1))); left > EXACT_ROWS; size >>= 1) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  if (left > 0) sizes.push(left);
  return sizes;
}

/**
 * Inserts `rows` (all with the columns of the first) through `trx`, in as few statements as the dialect's
 * parameter limit allows; rows whose `upsert.conflict` key exists overwrite the `upsert.update` columns.
 */
export async function insertRows<T extends keyof Database>(
  dialect: MultiRowInsertDialect,
  trx: Transaction<Database>,
  table: T,
  rows: readonly Insertable<Database[T]>[],
  upsert?: UpsertOptions<T>,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const chunk = Math.max(1, Math.floor(dialect.maxParameters / columns.length));
  const head = `insert into ${quoted(table)} (${columns.map(quoted).join(', ')}) values `;
  const tail = upsert
    ? ` on conflict (${upsert.conflict.map(quoted).join(', ')}) do update set ${upsert.update
        .map((column) => `${quoted(column)} = excluded.${quoted(column)}`)
        .join(', ')}`
    : '';
  const textFor = (count: number) => {
    const key = `${dialect.placeholder(0)}\u0000${count}\u0000${head}${tail}`;
    let text = textCache.get(key);
    if (text === undefined) {
      const tuples: string[] = [];
      for (let row = 0, index = 0; row < count; row++) {
        const slots: string[] = [];
        for (let c = 0; c < columns.length; c++) slots.push(dialect.placeholder(index++));
        tuples.push(`(${slots.join(', ')})`);
      }
      text = head + tuples.join(', ') + tail;
      if (textCache.size >= TEXT_CACHE_LIMIT) textCache.delete(textCache.keys().next().value!);
      textCache.set(key, text);
    }
    return text;
  };
  let offset = 0;
  for (const count of statementSizes(rows.length, chunk)) {
    const values: unknown[] = [];
    for (let i = offset; i < offset + count; i++) {
      const row = rows[i] as Record<string, unknown>;
      for (const column of columns) values.push(row[column]);
    }
    await trx.executeQuery(CompiledQuery.raw(textFor(count), values));
    offset += count;
  }
}
