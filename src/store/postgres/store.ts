import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { redactUrl } from '../../config.js';
import { insertRows } from '../multi-row-insert.js';
import type { Database } from '../schema.js';
import { withTimeout, type Store, type StoreOptions } from '../store.js';
import { postgresMultiRowInsert } from './bulk-insert.js';
import { copyRows, COPY_MIN_ROWS } from './copy.js';
import { guardPool, types } from './connection.js';
import { poolerMigrationDialect, withTransactionPrologue } from './dialect.js';
import { isUnavailable, postgresErrors } from './errors.js';
import { prepareOn, statementName } from './prepared.js';
import { createReadRouter, parseWalPosition, routedPool, type PgBackend } from './read-routing.js';
import { postgresSql } from './sql.js';

export const POSTGRES_DEFAULTS = {
  poolSize: 10,
  connectTimeoutMs: 5000,
  queryTimeoutMs: 15_000,
} as const;

// Each is prepared once per connection that runs it; a process names a few (segment evaluations, one per rule set).
const MAX_NAMED_STATEMENTS = 500;

export function createPostgresStore(url: string, options: StoreOptions = {}): Store {
  const queryTimeoutMs = options.queryTimeoutMs ?? POSTGRES_DEFAULTS.queryTimeoutMs;
  const pooler = options.pooler === 'transaction';
  // Slightly shorter than the client's wait, so a live but slow server cancels cleanly (and keeps the connection) first.
  const statementTimeoutMs = Math.max(queryTimeoutMs - 500, Math.ceil(queryTimeoutMs / 2));
  // A transaction left open by a crashed or partitioned client must not hold the organization's row lock forever.
  const idleInTransactionMs = Math.max(queryTimeoutMs * 2, 10_000);
  const poolConfigFor = (connectionString: string): pg.PoolConfig => ({
    connectionString,
    max: options.poolSize ?? POSTGRES_DEFAULTS.poolSize,
    // Bounds every wait on the database, so a database that hangs or vanishes turns into 503s, never hung requests:
    // connecting, a query's answer (client side, covers a dead network), and the statement itself (server side).
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    // Session settings sent at connect; a pooler in transaction mode shares sessions (PgBouncer refuses these
    // startup parameters), so there every transaction sets them for itself instead (below).
    ...(pooler
      ? {}
      : { statement_timeout: statementTimeoutMs, idle_in_transaction_session_timeout: idleInTransactionMs }),
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    application_name: 'customers-api',
    types,
  });
  const openPool = (connectionString: string) => {
    const created = new pg.Pool(poolConfigFor(connectionString));
    // An idle client losing its connection must not crash the process; the next query reconnects.
    created.on('error', (error) => options.onPoolError?.(error));
    return created;
  };
  const pool = openPool(url);
  const primary: PgBackend = { name: 'primary', displayUrl: redactUrl(url), pool };
  const replicas: PgBackend[] = (options.replicaUrls ?? []).map((replicaUrl, i) => ({
    name: `replica-${i + 1}`,
    displayUrl: redactUrl(replicaUrl),
    pool: openPool(replicaUrl),
  }));
  const router = createReadRouter({
    primary,
    replicas,
    maxLagMs: options.replicaMaxLagMs ?? 5000,
    waitMs: options.replicaWaitMs ?? 200,
    isUnavailable,
    onReplicaDown: options.onReplicaDown,
  });
  // Statement texts run as named statements (`nameStatement`), by text; their names, like prepared reads', hash it.
  const named = new Map<string, string>();
  const guarded = new Map([primary, ...replicas].map((backend) => [backend, guardPool(backend.pool, named)] as const));
  const kyselyPool = replicas.length > 0 ? routedPool(router, guarded) : guarded.get(primary)!;
  const dialect = new PostgresDialect({ pool: kyselyPool });
  const db = new Kysely<Database>({
    dialect: pooler
      ? withTransactionPrologue(
          dialect,
          `set local statement_timeout = ${statementTimeoutMs}; set local idle_in_transaction_session_timeout = ${idleInTransactionMs}`,
        )
      : dialect,
  });

  return {
    kind: 'postgres',
    db,
    sql: postgresSql,
    // Plain inserts of many rows (an import's customers, search rows, events) go as COPY; upserts as INSERT.
    insertMany: (trx, table, rows, upsert) =>
      upsert || rows.length < COPY_MIN_ROWS
        ? insertRows(postgresMultiRowInsert, trx, table, rows, upsert)
        : copyRows(trx, table, rows),
    prepare: (query) => prepareOn(router, pooler, query),
    nameStatement(sqlText) {
      if (pooler || named.has(sqlText)) return;
      if (named.size >= MAX_NAMED_STATEMENTS) named.clear();
      named.set(sqlText, statementName(sqlText));
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async ping(timeoutMs = 2000) {
      await withTimeout(
        pool.query('select 1'),
        timeoutMs,
        `PostgreSQL at ${redactUrl(url)} did not answer within ${timeoutMs} ms`,
      );
    },
    async withMigrationDb(run) {
      // Migrations get their own connection without the request timeouts: waiting for another
      // process's migration (a PostgreSQL advisory lock) or building an index may take long.
      const direct = options.migrationUrl !== undefined || !pooler;
      const migrationPool = new pg.Pool({
        ...poolConfigFor(options.migrationUrl ?? url),
        max: 1,
        query_timeout: undefined,
        ...(direct ? { statement_timeout: 0, idle_in_transaction_session_timeout: 0 } : {}),
      });
      migrationPool.on('error', (error) => options.onPoolError?.(error));
      const migrationDialect = new PostgresDialect({ pool: guardPool(migrationPool) });
      const migrationDb = new Kysely<Database>({
        // Through a transaction pooler, Kysely's session-level migration lock could be taken on one server session
        // and the migrations run on another; there the lock is taken inside the migration transaction instead.
        dialect: direct ? migrationDialect : poolerMigrationDialect(migrationDialect),
      });
      try {
        return await run(migrationDb);
      } finally {
        await migrationDb.destroy();
      }
    },
    readScope(consistencyToken, work) {
      const minPosition = consistencyToken === undefined ? undefined : parseWalPosition(consistencyToken);
      return router.readScope(minPosition, work);
    },
    readServed: () => router.served(),
    async writePosition() {
      // Asked after the commit: with synchronous_commit on (the default), the commit is flushed by then.
      const result = await pool.query<{ position: string }>('select pg_current_wal_flush_lsn()::text as position');
      return result.rows[0]!.position;
    },
    async replicaStatuses(checkTimeoutMs) {
      return checkTimeoutMs === undefined ? router.statuses() : router.checkNow(checkTimeoutMs);
    },
    readStats: () => (router.hasReplicas ? router.stats() : undefined),
    ...postgresErrors,
    // Dead tuples are unreachable through SQL at once and reclaimed by (auto)VACUUM; the WAL is recycled by
    // checkpoints. Neither can be forced per transaction without stalling every other writer.
    purgeErasedData: () => Promise.resolve(),
    bulkLoad: (load) => load(),
    async close() {
      await router.close();
      await db.destroy();
      // Kysely ends no pool of ours (the routed pool's end is a no-op); pings and prepared reads use them directly.
      for (const backend of [primary, ...replicas]) if (!backend.pool.ended) await backend.pool.end();
    },
  };
}
