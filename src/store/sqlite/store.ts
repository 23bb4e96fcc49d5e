import fs from 'node:fs';
import path from 'node:path';
import { Kysely } from 'kysely';
import { insertRows } from '../multi-row-insert.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { sqliteMultiRowInsert } from './bulk-insert.js';
import {
  BUSY_TIMEOUT_MS,
  bulkLoadSizing,
  MIGRATION_BUSY_TIMEOUT_MS,
  OPTIMIZE_EVERY_MS,
  cacheStatements,
  openConnection,
  optimize,
} from './connection.js';
import { ImmediateSqliteDialect } from './dialect.js';
import { sqliteErrors } from './errors.js';
import { prepareOn } from './prepared.js';
import { sqliteReadRouting } from './read-routing.js';
import { sqliteSql } from './sql.js';

/** Waits between checkpoint attempts that readers (another process's open read) blocked; then a later erasure or
 * the shutdown checkpoint tries again. */
const CHECKPOINT_RETRY_MS = [50, 200, 1000, 5000, 15_000, 60_000];

export function createSqliteStore(file: string): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const writer = openConnection(file, false);
  // A second connection serves prepared reads: in WAL mode it sees only committed data, never a write in progress.
  const reader = file === ':memory:' ? writer : openConnection(file, true);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: cacheStatements(writer) }) });
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
    sql: sqliteSql,
    prepare: (query) => prepareOn(reader, query),
    nameStatement: () => {},
    insertMany: (trx, table, rows, upsert) => insertRows(sqliteMultiRowInsert, trx, table, rows, upsert),
    ...sqliteReadRouting,
    ...sqliteErrors,
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
    bulkLoad: bulkLoadSizing(writer, (change) => db.connection().execute(() => Promise.resolve(change()))),
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
