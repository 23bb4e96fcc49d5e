import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type SqliteDatabase,
} from 'kysely';
import type { Database } from '../schema.js';
import { compileStatement, type PreparedQuery, type Store } from '../store.js';

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

class ImmediateSqliteDialect extends SqliteDialect {
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

const BUSY_TIMEOUT_MS = 5000;
// Another process may be applying a long migration (an index over millions of rows) while this one starts.
const MIGRATION_BUSY_TIMEOUT_MS = 2 * 60_000;
/** Waits between checkpoint attempts that readers (another process's open read) blocked; then a later erasure or
 * the shutdown checkpoint tries again. */
const CHECKPOINT_RETRY_MS = [50, 200, 1000, 5000, 15_000, 60_000];

/**
 * Without planner statistics SQLite prefers the index that already gives the
 * ORDER BY, so an email or phone search walks every customer of the
 * organization (O(N)) instead of using the search index. `PRAGMA optimize`
 * keeps sqlite_stat1 current as tables grow; a bounded analysis_limit keeps
 * each run to milliseconds even on millions of rows.
 */
const OPTIMIZE_EVERY_MS = 10 * 60_000;

/** Best effort: when another process holds the write lock (a long migration, say), the next run catches up. */
function optimize(connection: BetterSqlite3.Database) {
  try {
    // 0x10002: consider every table, not just the ones this connection has queried.
    connection.pragma('optimize = 0x10002');
  } catch {
    // SQLITE_BUSY or closing.
  }
}

/**
 * better-sqlite3 as Kysely sees it, with prepared statements kept for reuse.
 * Kysely prepares every query it runs, and preparing (parsing and planning
 * the SQL) cost more than running a write's statements: it was the largest
 * single cost of a create or a points adjustment. Kysely runs one query at a
 * time on this connection (a stream holds it until done), so a cached
 * statement is never in use twice at once.
 */
export function cacheStatements(database: BetterSqlite3.Database, capacity = 500): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement) {
        // Most recently used last, so the first key is the one to evict.
        statements.delete(text);
      } else {
        statement = database.prepare(text);
        if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
      }
      statements.set(text, statement);
      return statement;
    },
  };
}

function openConnection(file: string, readonly: boolean): BetterSqlite3.Database {
  const connection = new BetterSqlite3(file, { readonly, fileMustExist: readonly });
  connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!readonly) {
    connection.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses nothing on a process crash (kill -9); only an OS crash can drop the last commits.
    connection.pragma('synchronous = NORMAL');
    connection.pragma('analysis_limit = 1000');
    // Erasure must not leave personal data behind in freed pages of the file.
    connection.pragma('secure_delete = ON');
  }
  // Reads (pages of 1000, searches) get a large page cache. The writer's pages come back from the OS page cache
  // cheaply; on a 1,000,000-row import a 16 MiB writer cache kept the import's peak RSS at 269 MB (341 MB with
  // 64 MiB) with no loss of speed.
  connection.pragma(readonly ? 'cache_size = -65536' : 'cache_size = -16384');
  return connection;
}

export function createSqliteStore(file: string): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const writer = openConnection(file, false);
  // A second connection serves prepared reads: in WAL mode it sees only committed data, never a write in progress.
  const reader = file === ':memory:' ? writer : openConnection(file, true);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: cacheStatements(writer) }) });
  const writeStatements = new Map<string, BetterSqlite3.Statement>();
  optimize(writer);
  const optimizer = setInterval(() => optimize(writer), OPTIMIZE_EVERY_MS);
  optimizer.unref();

  /**
   * Checkpoints the WAL into the main file and truncates it to zero bytes,
   * so no earlier version of an erased row survives in it (the main file
   * zeroes freed content: secure_delete). Waits for the transaction in
   * progress on the writer, never for other processes' readers unless
   * `wait` (at shutdown): true when the WAL is empty.
   */
  const truncateWal = (wait: boolean) =>
    db.connection().execute(() => {
      if (!wait) writer.pragma('busy_timeout = 0');
      try {
        const [result] = writer.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
        return Promise.resolve(result?.busy === 0);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return Promise.resolve(false);
        return Promise.reject(error as Error);
      } finally {
        if (!wait) writer.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
    });
  const retries = (() => {
    let timer: NodeJS.Timeout | undefined;
    const attempt = (index: number) => {
      timer = setTimeout(() => {
        truncateWal(false).then(
          (done) => {
            if (!done && index + 1 < CHECKPOINT_RETRY_MS.length) attempt(index + 1);
          },
          () => undefined,
        );
      }, CHECKPOINT_RETRY_MS[index]);
      timer.unref();
    };
    return {
      start: () => attempt(0),
      cancel: () => clearTimeout(timer),
    };
  })();

  return {
    kind: 'sqlite',
    db,
    sql: {
      greatest: (a, b) => sql<number>`max(${a}, ${b})`,
      lockSkipLocked: (query) => query,
      // Write transactions begin IMMEDIATE, so by the time a statement is built the write lock is held.
      currentMillis: () => sql<number>`${Date.now()}`,
      // Without ICU (better-sqlite3's build), lower() changes A-Z only.
      asciiLower: (text) => sql<string>`lower(${text})`,
    },
    prepare<R>(query: Parameters<Store['prepare']>[0]): PreparedQuery<R> {
      const compiled = compileStatement(query);
      let statement: BetterSqlite3.Statement | undefined;
      let columns: string[] = [];
      const prepared = () => {
        if (!statement) {
          statement = reader.prepare(compiled.sql);
          // better-sqlite3 builds row objects slowly (one C++ property set per column); rows as arrays
          // turned into objects here cost a third as much, a third of a page of 1000 customers.
          if (statement.reader) statement.raw(true);
          columns = statement.reader ? statement.columns().map((column) => column.name) : [];
        }
        return statement;
      };
      const toRow = (values: unknown[]): R => {
        // A migration run by another process can add a column under a `select *`; follow it.
        if (values.length !== columns.length) columns = statement!.columns().map((column) => column.name);
        const row: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
        return row as R;
      };
      return {
        all: (params) => {
          try {
            const rows = prepared().all(...compiled.bind(params)) as unknown[][];
            return Promise.resolve(rows.map(toRow));
          } catch (error) {
            return Promise.reject(error as Error);
          }
        },
        first: (params) => {
          try {
            const values = prepared().get(...compiled.bind(params)) as unknown[] | undefined;
            return Promise.resolve(values === undefined ? undefined : toRow(values));
          } catch (error) {
            return Promise.reject(error as Error);
          }
        },
      };
    },
    insertMany(_trx, table, rows, upsert) {
      // Kysely's SQLite driver runs the open transaction on this same single writer connection and
      // holds it for the transaction's callback, so these statements run inside that transaction.
      if (rows.length === 0) return Promise.resolve();
      try {
        const columns = Object.keys(rows[0]!);
        const key = `${table}\u0000${columns.join(',')}\u0000${upsert ? `${upsert.conflict.join(',')}\u0000${upsert.update.join(',')}` : ''}`;
        let statement = writeStatements.get(key);
        if (!statement) {
          const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
          let text = `insert into ${quoted(table)} (${columns.map(quoted).join(', ')}) values (${columns.map(() => '?').join(', ')})`;
          if (upsert) {
            text += ` on conflict (${upsert.conflict.map(quoted).join(', ')}) do update set ${upsert.update.map((c) => `${quoted(c)} = excluded.${quoted(c)}`).join(', ')}`;
          }
          statement = writer.prepare(text);
          writeStatements.set(key, statement);
        }
        for (const row of rows) statement.run(...columns.map((c) => (row as Record<string, unknown>)[c]));
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
    async withMigrationDb(run) {
      writer.pragma(`busy_timeout = ${MIGRATION_BUSY_TIMEOUT_MS}`);
      try {
        return await run(db);
      } finally {
        writer.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
    },
    async ping() {
      reader.prepare('select 1').get();
      await Promise.resolve();
    },
    // One file, one server: every read is current, so there is nothing to route and no token to hand out.
    readScope: (_token, work) => work(),
    readServed: () => undefined,
    writePosition: () => Promise.resolve(undefined),
    replicaStatuses: () => Promise.resolve([]),
    readStats: () => undefined,
    isUnavailableError(error) {
      const code = (error as { code?: unknown } | null)?.code;
      return code === 'SQLITE_BUSY' || code === 'SQLITE_IOERR' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL';
    },
    isUniqueViolation(error) {
      const code = (error as { code?: unknown } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    },
    poolStats() {
      // better-sqlite3 is synchronous: between two ticks no connection is busy, and nobody waits for one.
      const connections = reader === writer ? 1 : 2;
      let walBytes = 0;
      try {
        if (file !== ':memory:') walBytes = fs.statSync(`${file}-wal`).size;
      } catch {
        // no WAL file yet (nothing written since the last checkpoint truncated it)
      }
      return { total: connections, idle: connections, waiting: 0, walBytes };
    },
    async purgeErasedData() {
      if (file === ':memory:') return;
      retries.cancel();
      // The erasure has committed: a failed attempt is retried, never reported as the request's failure.
      if (!(await truncateWal(false).catch(() => false))) retries.start();
    },
    async close() {
      clearInterval(optimizer);
      retries.cancel();
      // The last connection to close removes the WAL, and only a writer can: close the reader first.
      if (reader !== writer) reader.close();
      if (file !== ':memory:') await truncateWal(true).catch(() => undefined);
      await db.destroy();
    },
  };
}
