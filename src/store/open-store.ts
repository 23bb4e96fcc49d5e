import { Migrator } from 'kysely';
import { redactUrl, type Config, type DatabaseTarget } from '../config.js';
import { migrationProvider } from './migrations/index.js';
import { createPostgresStore } from './postgres/store.js';
import { createSqliteStore } from './sqlite/store.js';
import type { Store, StoreOptions } from './store.js';

export class DatabaseConnectError extends Error {
  override readonly name = 'DatabaseConnectError';
}

export type OpenStoreOptions = StoreOptions;

/** The store options the configuration asks for. */
export function storeOptions(
  config: Pick<
    Config,
    | 'databasePoolSize'
    | 'databaseConnectTimeoutMs'
    | 'databaseQueryTimeoutMs'
    | 'databasePooler'
    | 'databaseMigrationUrl'
    | 'databaseReplicaUrls'
    | 'databaseReplicaMaxLagMs'
    | 'databaseReplicaWaitMs'
  >,
): StoreOptions {
  return {
    poolSize: config.databasePoolSize,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
    pooler: config.databasePooler,
    migrationUrl: config.databaseMigrationUrl,
    replicaUrls: config.databaseReplicaUrls,
    replicaMaxLagMs: config.databaseReplicaMaxLagMs,
    replicaWaitMs: config.databaseReplicaWaitMs,
  };
}

/** Opens the database the target names and checks that it answers. */
export async function openStore(target: DatabaseTarget, options: OpenStoreOptions = {}): Promise<Store> {
  const store = target.kind === 'sqlite' ? createSqliteStore(target.path) : createPostgresStore(target.url, options);
  try {
    await store.ping((options.connectTimeoutMs ?? 5000) + 1000);
  } catch (error) {
    await store.close().catch(() => undefined);
    const where = target.kind === 'sqlite' ? `SQLite file ${target.path}` : `PostgreSQL at ${redactUrl(target.url)}`;
    throw new DatabaseConnectError(`Cannot connect to ${where}: ${(error as Error).message}`);
  }
  return store;
}

/**
 * Applies pending migrations. Safe when several processes start at once:
 * Kysely's migrator holds a lock (an advisory lock on PostgreSQL, the
 * BEGIN IMMEDIATE write lock on SQLite) and reads the applied set under it,
 * so only one process applies them and the others find them done.
 */
export async function migrateToLatest(store: Store): Promise<string[]> {
  const { error, results } = await store.withMigrationDb((db) =>
    new Migrator({ db, provider: migrationProvider }).migrateToLatest(),
  );
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
