import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../../src/store/store.js';

/**
 * A digest of every row of every table (migration bookkeeping excepted), so a
 * test can show a rejected request changed nothing stored.
 */
export async function digestStore(store: Store): Promise<string> {
  const tables = (await store.db.introspection.getTables())
    .map((t) => t.name)
    .filter((name) => !name.startsWith('kysely_'))
    .sort();
  const hash = createHash('sha256');
  for (const table of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(store.db);
    const lines = rows
      .map((row) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)))
      .sort();
    hash.update(`${table}\n${lines.join('\n')}\n`);
  }
  return hash.digest('hex');
}

/** The tables with a row in which `needle` occurs (in any column, as stored). */
export async function tablesContaining(store: Store, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const table of (await store.db.introspection.getTables()).map((t) => t.name)) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(store.db);
    if (rows.some((row) => Object.values(row).some((value) => String(value).includes(needle)))) found.push(table);
  }
  return found;
}
