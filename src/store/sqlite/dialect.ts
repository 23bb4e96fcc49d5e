import { SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection } from 'kysely';

/**
 * Writes go through one connection with BEGIN IMMEDIATE, so a write
 * transaction holds the write lock from its first statement (no upgrade
 * deadlocks when several processes share the file).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery({
      sql: 'begin immediate',
      parameters: [],
      query: { kind: 'RawNode' } as never,
      queryId: { queryId: 'begin' },
    } as never);
  }
}

/**
 * SQLite does run DDL inside transactions. Saying so makes Kysely's migrator
 * apply migrations inside one BEGIN IMMEDIATE transaction, which is the
 * cross-process lock: a second process starting at the same time waits for
 * the write lock, then finds the migrations applied.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
}
