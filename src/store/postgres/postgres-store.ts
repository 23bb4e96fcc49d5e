import { createHash } from 'node:crypto';
import pg from 'pg';
import {
  Kysely,
  PostgresDialect,
  sql,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import { redactUrl } from '../../config.js';
import type { Database } from '../schema.js';
import { compileStatement, withTimeout, type PreparedQuery, type Store, type StoreOptions } from '../store.js';
import { createReadRouter, type PgBackend, type ReadRouter } from './read-router.js';
import { poolerMigrationDialect, withTransactionPrologue } from './transaction-dialect.js';
import { parseWalPosition } from './wal-position.js';

const INT8_OID = 20;

// int8 columns hold epoch milliseconds and counters, all well inside Number's safe range;
// reading them as numbers keeps rows identical to SQLite's.
const parseInt8 = (value: string) => Number(value);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID ? parseInt8 : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

// Connection-level failures: refused, reset, DNS, timeouts, the server going away (class 08, 57P0x),
// too many connections (53300), and statements cancelled by statement_timeout (57014).
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Query read timeout|not queryable|connection has been discarded/i.test(
    error.message,
  );
}

export const POSTGRES_DEFAULTS = {
  poolSize: 10,
  connectTimeoutMs: 5000,
  queryTimeoutMs: 15_000,
} as const;

function isCursor<R>(argument: unknown): argument is PostgresCursor<R> {
  return (
    typeof argument === 'object' && argument !== null && typeof (argument as { read?: unknown }).read === 'function'
  );
}

/**
 * Hands Kysely pool clients that are thrown away, not reused, once their
 * connection failed or a query on it timed out: pg leaves a timed-out query
 * running on its connection, so a reused client would queue every later
 * query behind one that may never answer. It also listens for connection
 * errors while a client is checked out, which pg would otherwise raise as an
 * unhandled 'error' event and crash the process.
 */
function guardPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken ??= error;
      };
      client.on('error', onError);
      function query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query<R>(
        first: string | PostgresCursor<R>,
        parameters?: ReadonlyArray<unknown>,
      ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
        if (isCursor<R>(first)) return client.query(first as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
        if (broken) return Promise.reject(broken);
        return (client.query(first, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>).catch(
          (error: unknown) => {
            if (isUnavailable(error)) broken ??= error as Error;
            throw error;
          },
        );
      }
      return {
        query,
        release(destroy?: boolean) {
          client.off('error', onError);
          client.release(broken ?? destroy === true);
        },
      };
    },
    end: () => pool.end(),
  };
}

/**
 * Kysely's pool for a store with replicas: a connection taken inside a read scope comes from the replica the
 * scope was given, every other one from the primary. A statement that fails on the replica because it cannot be
 * reached (or for a replay conflict) outside a transaction is repeated on the primary, so a replica dying under
 * load costs the reads in flight nothing but time.
 */
function routedPool(router: ReadRouter, guarded: ReadonlyMap<PgBackend, PostgresPool>): PostgresPool {
  const poolOf = (backend: PgBackend) => guarded.get(backend)!;
  return {
    async connect(): Promise<PostgresPoolClient> {
      const backend = await router.backendForRead();
      if (backend === router.primary) return poolOf(backend).connect();
      let current: PostgresPoolClient;
      try {
        current = await poolOf(backend).connect();
      } catch (error) {
        const fallback = router.failover(backend, error);
        if (!fallback) throw error;
        return poolOf(fallback).connect();
      }
      let movedToPrimary = false;
      let inTransaction = false;
      function query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query<R>(
        first: string | PostgresCursor<R>,
        parameters?: ReadonlyArray<unknown>,
      ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
        if (isCursor<R>(first)) return current.query(first);
        const retryable = !movedToPrimary && !inTransaction;
        // Kysely opens and ends transactions with these statements; inside one, a repeat elsewhere would be wrong.
        if (/^\s*(begin|start transaction)\b/i.test(first)) inTransaction = true;
        else if (/^\s*(commit|rollback)\b/i.test(first)) inTransaction = false;
        return current.query<R>(first, parameters ?? []).catch(async (error: unknown) => {
          const fallback = retryable ? router.failover(backend, error) : undefined;
          if (!fallback) throw error;
          current.release(true);
          current = await poolOf(fallback).connect();
          movedToPrimary = true;
          return current.query<R>(first, parameters ?? []);
        });
      }
      return { query, release: (destroy?: boolean) => current.release(destroy) };
    },
    end: () => Promise.resolve(),
  };
}

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
  const guarded = new Map([primary, ...replicas].map((backend) => [backend, guardPool(backend.pool)] as const));
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
    sql: {
      greatest: (a, b) => sql<number>`greatest(${a}, ${b})`,
      lockSkipLocked: (query) => query.forUpdate().skipLocked(),
      // The database's clock, read when the statement runs (after any row lock it waited for), so all
      // processes on all machines share one clock.
      currentMillis: () => sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`,
      asciiLower: (text) => sql<string>`translate(${text}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`,
    },
    prepare<R>(query: Parameters<Store['prepare']>[0]): PreparedQuery<R> {
      const compiled = compileStatement(query);
      // Named statements live in one server session; behind a transaction pooler the next run may be in another.
      const name = pooler ? undefined : `q_${createHash('sha1').update(compiled.sql).digest('hex').slice(0, 16)}`;
      const run = async (on: pg.Pool, values: unknown[]) =>
        (await on.query(name ? { name, text: compiled.sql, values } : { text: compiled.sql, values })).rows as R[];
      // pool.query releases its client with the error, so a failed connection is never reused.
      const all = async (params: Parameters<PreparedQuery<R>['all']>[0]) => {
        const values = compiled.bind(params);
        const backend = await router.backendForRead();
        try {
          return await run(backend.pool, values);
        } catch (error) {
          const fallback = router.failover(backend, error);
          if (!fallback) throw error;
          return run(fallback.pool, values);
        }
      };
      return { all, first: async (params) => (await all(params))[0] };
    },
    async insertMany(trx, table, rows, upsert) {
      if (rows.length === 0) return;
      // PostgreSQL allows 65535 bound parameters a statement.
      const chunk = Math.max(1, Math.floor(60_000 / Object.keys(rows[0]!).length));
      for (let i = 0; i < rows.length; i += chunk) {
        let query = trx.insertInto(table).values(rows.slice(i, i + chunk) as never);
        if (upsert) {
          query = query.onConflict((oc) =>
            oc
              .columns(upsert.conflict as never)
              .doUpdateSet(Object.fromEntries(upsert.update.map((c) => [c, sql.ref(`excluded.${c}`)])) as never),
          );
        }
        await query.execute();
      }
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
    isUnavailableError: isUnavailable,
    isUniqueViolation(error) {
      return (error as { code?: unknown } | null)?.code === '23505';
    },
    // Dead tuples are unreachable through SQL at once and reclaimed by (auto)VACUUM; the WAL is recycled by
    // checkpoints. Neither can be forced per transaction without stalling every other writer.
    purgeErasedData: () => Promise.resolve(),
    async close() {
      await router.close();
      await db.destroy();
      // Kysely ends no pool of ours (the routed pool's end is a no-op); pings and prepared reads use them directly.
      for (const backend of [primary, ...replicas]) if (!backend.pool.ended) await backend.pool.end();
    },
  };
}
