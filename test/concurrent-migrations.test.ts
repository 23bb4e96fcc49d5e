import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { availableBackends, describeEachBackend, type Backend } from './helpers/backends.js';
import { ROOT, runCli } from './helpers/processes.js';

const ALL_MIGRATIONS = Object.keys(await migrationProvider.getMigrations()).sort();

async function appliedMigrations(store: Store): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
  return result.rows.map((row) => row.name);
}

type ThreadResult = { applied: string[] } | { error: string };

// Runs in each thread: open a store, wait at the barrier until every thread is ready, migrate.
const MIGRATE_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { openStore, migrateToLatest } = await import(workerData.openStoreModule);
  const { parseDatabaseUrl } = await import(workerData.configModule);
  const store = await openStore(parseDatabaseUrl(workerData.url), { poolSize: 1 });
  const waiting = new Int32Array(workerData.barrier);
  Atomics.add(waiting, 0, 1);
  while (Atomics.load(waiting, 0) < workerData.threads) Atomics.wait(waiting, 0, Atomics.load(waiting, 0), 20);
  try {
    parentPort.postMessage({ applied: await migrateToLatest(store) });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  } finally {
    await store.close();
  }
})();`;

function migrateFromThreads(url: string, threads: number): Promise<ThreadResult[]> {
  const barrier = new SharedArrayBuffer(4);
  const workerData = {
    url,
    threads,
    barrier,
    openStoreModule: pathToFileURL(path.join(ROOT, 'dist/store/open-store.js')).href,
    configModule: pathToFileURL(path.join(ROOT, 'dist/config.js')).href,
  };
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<ThreadResult>((resolve, reject) => {
          const worker = new Worker(MIGRATE_THREAD, { eval: true, workerData });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
}

async function tableNames(store: Store): Promise<string[]> {
  return (await store.db.introspection.getTables()).map((table) => table.name).sort();
}

await describeEachBackend('migrations started at once by many processes', (backend: Backend) => {
  let databases: { url: string; drop(): Promise<void> }[] = [];
  beforeAll(() => {
    databases = [];
  });
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });
  const freshDatabase = async () => {
    const database = await backend.createDatabase();
    databases.push(database);
    return database;
  };

  it('six threads released at the same instant migrate one fresh database: each migration applied exactly once', async () => {
    // Threads, not stores in this thread: better-sqlite3 waits for SQLite's write lock synchronously, and a
    // barrier lines the starts up far tighter than process start-up would.
    const database = await freshDatabase();
    const results = await migrateFromThreads(database.url, 6);
    expect(results.filter((r) => 'error' in r)).toEqual([]);
    const applied = results.map((r) => ('applied' in r ? r.applied : []));
    expect(applied.flat().sort()).toEqual(ALL_MIGRATIONS);
    expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
    const store = await openStore(parseDatabaseUrl(database.url));
    try {
      expect(await appliedMigrations(store)).toEqual(ALL_MIGRATIONS);
      expect(await tableNames(store)).toEqual(expect.arrayContaining(['api_tokens', 'customers', 'organizations']));
      expect(await migrateToLatest(store)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('four `customers-api migrate` processes started at once all succeed with one applied set', async () => {
    const database = await freshDatabase();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => runCli(['migrate', '--json'], { DATABASE_URL: database.url })),
    );
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
    const reports = results.map((result) => JSON.parse(result.stdout) as { applied: string[] });
    expect(reports.flatMap((report) => report.applied).sort()).toEqual(ALL_MIGRATIONS);
    const store = await openStore(parseDatabaseUrl(database.url));
    try {
      expect(await appliedMigrations(store)).toEqual(ALL_MIGRATIONS);
    } finally {
      await store.close();
    }
  });
});

const postgres = (await availableBackends()).find((b) => b.name === 'postgres');

describe.runIf(postgres)('migration lock on PostgreSQL', () => {
  if (!postgres) return;
  it('is the advisory lock Kysely takes, held for the whole run', async () => {
    // Guards the assumption the scale-out story rests on: if Kysely stopped locking, the test above could
    // pass by luck on a fast machine; this one watches the lock while a migration runs.
    const database = await postgres.createDatabase();
    const store = await openStore(parseDatabaseUrl(database.url));
    const observer = await openStore(parseDatabaseUrl(database.url));
    try {
      let sawLock = false;
      await store.withMigrationDb((db) =>
        new Migrator({
          db,
          provider: {
            async getMigrations() {
              return {
                ...(await migrationProvider.getMigrations()),
                'zzzz-observe-lock': {
                  async up() {
                    const locks = await sql<{ n: number }>`select count(*)::int as n from pg_locks
                      where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`.execute(
                      observer.db,
                    );
                    sawLock = locks.rows[0]!.n > 0;
                  },
                },
              };
            },
          },
        }).migrateToLatest(),
      );
      expect(sawLock).toBe(true);
    } finally {
      await store.close();
      await observer.close();
      await database.drop();
    }
  });
});
