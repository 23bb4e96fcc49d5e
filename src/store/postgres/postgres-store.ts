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

export function createPostgresStore(url: string, options: StoreOptions = {}): Store {
  const queryTimeoutMs = options.queryTimeoutMs ?? POSTGRES_DEFAULTS.queryTimeoutMs;
  const poolConfig: pg.PoolConfig = {
    connectionString: url,
    max: options.poolSize ?? POSTGRES_DEFAULTS.poolSize,
    // Bounds every wait on the database, so a database that hangs or vanishes turns into 503s, never hung requests:
    // connecting, a query's answer (client side, covers a dead network), and the statement itself (server side).
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    // Slightly shorter, so a live but slow server cancels cleanly (and keeps the connection) first.
    statement_timeout: Math.max(queryTimeoutMs - 500, Math.ceil(queryTimeoutMs / 2)),
    // A transaction left open by a crashed or partitioned client must not hold the organization's row lock forever.
    idle_in_transaction_session_timeout: Math.max(queryTimeoutMs * 2, 10_000),
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    application_name: 'customers-api',
    types,
  };
  const pool = new pg.Pool(poolConfig);
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (error) => options.onPoolError?.(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guardPool(pool) }) });

  return {
    kind: 'postgres',
    db,
    sql: {
      greatest: (a, b) => sql<number>`greatest(${a}, ${b})`,
      lockSkipLocked: (query) => query.forUpdate().skipLocked(),
      // The database's clock, read when the statement runs (after any row lock it waited for), so all
      // processes on all machines share one clock.
      currentMillis: () => sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`,
    },
    prepare<R>(query: Parameters<Store['prepare']>[0]): PreparedQuery<R> {
      const compiled = compileStatement(query);
      const name = `q_${createHash('sha1').update(compiled.sql).digest('hex').slice(0, 16)}`;
      // pool.query releases its client with the error, so a failed connection is never reused.
      const all = async (params: Parameters<PreparedQuery<R>['all']>[0]) => {
        const result = await pool.query({ name, text: compiled.sql, values: compiled.bind(params) });
        return result.rows as R[];
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
      // process's migration (Kysely holds a PostgreSQL advisory lock) or building an index may take long.
      const migrationPool = new pg.Pool({
        ...poolConfig,
        max: 1,
        query_timeout: undefined,
        statement_timeout: 0,
        idle_in_transaction_session_timeout: 0,
      });
      migrationPool.on('error', (error) => options.onPoolError?.(error));
      const migrationDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guardPool(migrationPool) }) });
      try {
        return await run(migrationDb);
      } finally {
        await migrationDb.destroy();
      }
    },
    isUnavailableError: isUnavailable,
    isUniqueViolation(error) {
      return (error as { code?: unknown } | null)?.code === '23505';
    },
    // Dead tuples are unreachable through SQL at once and reclaimed by (auto)VACUUM; the WAL is recycled by
    // checkpoints. Neither can be forced per transaction without stalling every other writer.
    purgeErasedData: () => Promise.resolve(),
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ran a query itself; pings and prepared reads use the pool directly.
      if (!pool.ended) await pool.end();
    },
  };
}
