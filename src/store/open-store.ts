import { Migrator } from 'kysely';
import { redactUrl, type DatabaseTarget } from '../config.js';
import { migrationProvider } from './migrations/index.js';
import { createPostgresStore } from './postgres/postgres-store.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export class DatabaseConnectError extends Error {
  override readonly name = 'DatabaseConnectError';
}

export interface OpenStoreOptions {
  onPoolError?: (error: Error) => void;
}

/** Opens the database the target names and checks that it answers. */
export async function openStore(target: DatabaseTarget, options: OpenStoreOptions = {}): Promise<Store> {
  const store = target.kind === 'sqlite' ? createSqliteStore(target.path) : createPostgresStore(target.url, options);
  try {
    await store.ping(5000);
  } catch (error) {
    await store.close().catch(() => undefined);
    const where = target.kind === 'sqlite' ? `SQLite file ${target.path}` : `PostgreSQL at ${redactUrl(target.url)}`;
    throw new DatabaseConnectError(`Cannot connect to ${where}: ${(error as Error).message}`);
  }
  return store;
}

/**
 * Applies pending migrations. Safe when several processes start at once:
 * Kysely's migrator holds a lock (a locked row on PostgreSQL, the single
 * writer on SQLite) so only one applies them and the others see them done.
 */
export async function migrateToLatest(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
