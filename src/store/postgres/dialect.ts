import {
  CompiledQuery,
  PostgresAdapter,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type PostgresDialect,
  type TransactionSettings,
} from 'kysely';

/**
 * The PostgreSQL dialect with `prologue` run at the start of every transaction, in the same round trip as its
 * `begin` (a multi-statement simple query). This is where settings go that would otherwise be session state,
 * which a pooler in transaction mode does not keep: `set local` lasts exactly as long as the transaction.
 */
export function withTransactionPrologue(dialect: PostgresDialect, prologue: string, adapter = dialect.createAdapter()) {
  return {
    createAdapter: () => adapter,
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver(): Driver {
      const driver = dialect.createDriver();
      return {
        init: () => driver.init(),
        acquireConnection: () => driver.acquireConnection(),
        async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
          if (settings.isolationLevel || settings.accessMode) {
            await driver.beginTransaction(connection, settings);
            await connection.executeQuery(CompiledQuery.raw(prologue));
          } else {
            await connection.executeQuery(CompiledQuery.raw(`begin; ${prologue}`));
          }
        },
        commitTransaction: (connection) => driver.commitTransaction(connection),
        rollbackTransaction: (connection) => driver.rollbackTransaction(connection),
        savepoint: (connection, name, compile) => driver.savepoint!(connection, name, compile),
        rollbackToSavepoint: (connection, name, compile) => driver.rollbackToSavepoint!(connection, name, compile),
        releaseSavepoint: (connection, name, compile) => driver.releaseSavepoint!(connection, name, compile),
        releaseConnection: (connection) => driver.releaseConnection(connection),
        destroy: () => driver.destroy(),
      };
    },
  } satisfies Dialect;
}

// Kysely's own migration lock id, so a migrator through the pooler and one connected directly exclude each other.
const MIGRATION_LOCK_ID = '3853314791062309107';

/** Kysely's migrator takes a session-level advisory lock; the transaction-level one is taken in the prologue. */
class TransactionScopedLockAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

/**
 * For Kysely's migrator behind a transaction pooler: it runs all pending migrations in one transaction, and
 * this takes the migration lock as that transaction's first statement (`pg_advisory_xact_lock`, released by the
 * commit or rollback) instead of a session lock around it. The applied set is read after the lock is granted,
 * so when many processes start at once exactly one applies each migration.
 */
export function poolerMigrationDialect(dialect: PostgresDialect) {
  return withTransactionPrologue(
    dialect,
    `set local lock_timeout = '1h'; select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`,
    new TransactionScopedLockAdapter(),
  );
}
