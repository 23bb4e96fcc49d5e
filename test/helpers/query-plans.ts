import { CompiledQuery, type Compilable } from 'kysely';
import { parseDatabaseUrl } from '../../src/config.js';
import { migrateToLatest, openStore } from '../../src/store/open-store.js';
import { compileStatement, type CompiledStatement, type Store } from '../../src/store/store.js';
import type { Backend, TestDatabase } from './backends.js';
import { insertOrganizationDirectly } from './bulk.js';

/** The plan the database would use for `sql` with these parameters, as text (EXPLAIN on either dialect). */
export async function explainSql(store: Store, sql: string, parameters: readonly unknown[]): Promise<string> {
  const prefix = store.kind === 'postgres' ? 'explain (format text, costs off) ' : 'explain query plan ';
  const result = await store.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + sql, [...parameters]));
  return result.rows.map((row) => String(row['QUERY PLAN'] ?? row.detail)).join('\n');
}

/** A fresh, migrated database of the backend holding bare organizations with these ids, for planner tests. */
export async function openStoreWithOrganizations(
  backend: Backend,
  organizationIds: readonly string[],
): Promise<{ store: Store; database: TestDatabase }> {
  const database = await backend.createDatabase();
  const store = await openStore(parseDatabaseUrl(database.url));
  await migrateToLatest(store);
  for (const id of organizationIds) {
    await insertOrganizationDirectly(store, id);
  }
  return { store, database };
}

/** The SQL of every statement `build` prepares on the store (in order), as the store compiles them. */
export function capturePreparedStatements(store: Store, build: (store: Store) => unknown): CompiledStatement[] {
  const captured: CompiledStatement[] = [];
  build({
    ...store,
    prepare<R>(query: Compilable<R>) {
      captured.push(compileStatement(query));
      return store.prepare(query);
    },
  });
  return captured;
}
