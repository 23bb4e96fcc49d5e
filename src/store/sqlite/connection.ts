import BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

export const BUSY_TIMEOUT_MS = 5000;
// Another process may be applying a long migration (an index over millions of rows) while this one starts.
export const MIGRATION_BUSY_TIMEOUT_MS = 2 * 60_000;

/**
 * Without planner statistics SQLite prefers the index that already gives the
 * ORDER BY, so an email or phone search walks every customer of the
 * organization (O(N)) instead of using the search index. `PRAGMA optimize`
 * keeps sqlite_stat1 current as tables grow; a bounded analysis_limit keeps
 * each run to milliseconds even on millions of rows.
 */
export const OPTIMIZE_EVERY_MS = 10 * 60_000;

/** Best effort: when another process holds the write lock (a long migration, say), the next run catches up. */
export function optimize(connection: BetterSqlite3.Database) {
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

export function openConnection(file: string, readonly: boolean): BetterSqlite3.Database {
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
  connection.pragma(readonly ? 'cache_size = -65536' : `cache_size = ${WRITER_CACHE_SIZE}`);
  return connection;
}

/** The writer's page cache between bulk loads (KiB, negative as `cache_size` takes it). */
export const WRITER_CACHE_SIZE = -16_384;

/**
 * The writer's settings while an import runs. Measured on 100,000 NDJSON rows into an empty organization (bench
 * ANALYSIS.md, "Import, round two"): a 64 MiB cache keeps the indexes being written in memory, and a checkpoint
 * every 32768 pages (128 MiB of WAL) instead of SQLite's 1000 stops every commit from copying its pages back into
 * the main file and syncing it; COMMIT went from 69% to 27% of the import's statement time.
 */
export const BULK_LOAD_PRAGMAS = { cache_size: -65_536, wal_autocheckpoint: 32_768 } as const;
const NORMAL_PRAGMAS = { cache_size: WRITER_CACHE_SIZE, wal_autocheckpoint: 1000 } as const;

/**
 * Sizes `connection` for bulk loads while at least one runs (imports may overlap in a server), and gives the
 * memory back when the last one ends: a smaller cache_size frees the pages above it, and a passive checkpoint
 * moves what the WAL gathered into the main file without waiting for readers. `between` runs its callback
 * between the connection's transactions (the store's single writer), never inside another request's.
 */
export function bulkLoadSizing(connection: BetterSqlite3.Database, between: (change: () => void) => Promise<void>) {
  let running = 0;
  const apply = (pragmas: typeof BULK_LOAD_PRAGMAS | typeof NORMAL_PRAGMAS) => {
    for (const [name, value] of Object.entries(pragmas)) connection.pragma(`${name} = ${value}`);
  };
  return async function bulkLoad<T>(load: () => Promise<T>): Promise<T> {
    if (running++ === 0) await between(() => apply(BULK_LOAD_PRAGMAS));
    try {
      return await load();
    } finally {
      if (--running === 0 && connection.open) {
        await between(() => {
          apply(NORMAL_PRAGMAS);
          try {
            connection.pragma('wal_checkpoint(PASSIVE)');
          } catch {
            // SQLITE_BUSY: the next automatic checkpoint catches up.
          }
        });
      }
    }
  };
}
