import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../../src/store/store.js';

// Catalog introspection is the slow part on PostgreSQL, and a test's tables do not change once it has migrated.
const knownTables = new WeakMap<Store, Promise<string[]>>();

function tablesOf(store: Store): Promise<string[]> {
  let tables = knownTables.get(store);
  if (!tables) {
    tables = store.db.introspection.getTables().then((all) =>
      all
        .map((t) => t.name)
        .filter((name) => !name.startsWith('kysely_'))
        .sort(),
    );
    knownTables.set(store, tables);
  }
  return tables;
}

/**
 * A digest of every row of every table (migration bookkeeping excepted), so a
 * test can show a rejected request changed nothing stored.
 */
export async function digestStore(store: Store): Promise<string> {
  const tables = await tablesOf(store);
  if (store.kind === 'postgres') {
    // One round trip: each table's rows as text, sorted, hashed by the server.
    const parts = tables.map(
      (table) =>
        sql<string>`(select ${table}::text || ':' || md5(coalesce(string_agg(t::text, E'\n' order by t::text), '')) from ${sql.table(table)} t)`,
    );
    const { rows } = await sql<{ digest: string }>`select concat_ws(',', ${sql.join(parts)}) as digest`.execute(
      store.db,
    );
    return createHash('sha256').update(rows[0]!.digest).digest('hex');
  }
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
