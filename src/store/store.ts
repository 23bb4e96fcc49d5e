import type { Compilable, Expression, Insertable, Kysely, RawBuilder, SelectQueryBuilder, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** A named placeholder inside a prepared query; replaced by the value of that name on each run. */
const PARAM_PREFIX = '\u0000param:';

export function param<T>(name: string): T {
  return `${PARAM_PREFIX}${name}` as unknown as T;
}

export type QueryParams = Record<string, string | number | null>;

/**
 * A query compiled once and run many times: a cached statement on SQLite, a
 * named (server-side prepared) statement on PostgreSQL. It reads committed
 * data only, never the inside of an open write transaction.
 */
export interface PreparedQuery<R> {
  all(params: QueryParams): Promise<R[]>;
  first(params: QueryParams): Promise<R | undefined>;
}

export interface CompiledStatement {
  readonly sql: string;
  readonly bind: (params: QueryParams) => unknown[];
}

/** The few SQL spellings that differ between dialects. */
export interface DialectSql {
  greatest(a: Expression<number>, b: Expression<number>): RawBuilder<number>;
  /**
   * Locks the selected rows for the rest of the transaction, skipping rows
   * another transaction holds (PostgreSQL `FOR UPDATE SKIP LOCKED`). A no-op
   * on SQLite, where a write transaction already excludes every other writer.
   */
  lockSkipLocked<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /** Epoch milliseconds, read when the statement runs. */
  currentMillis(): RawBuilder<number>;
}

export interface StoreOptions {
  /** PostgreSQL connections per process. */
  poolSize?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** Longest wait for one statement; past it the request fails with 503 instead of hanging. */
  queryTimeoutMs?: number | undefined;
  onPoolError?: ((error: Error) => void) | undefined;
}

/** Rows whose key already exists overwrite `update` columns instead of failing. */
export interface UpsertOptions<T extends keyof Database> {
  conflict: readonly (keyof Database[T] & string)[];
  update: readonly (keyof Database[T] & string)[];
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  readonly sql: DialectSql;
  prepare<R>(query: Compilable<R>): PreparedQuery<R>;
  /**
   * Inserts many rows (all with the same columns) inside `trx`, the fastest
   * way the dialect allows: cached single-row statements on SQLite,
   * multi-row statements on PostgreSQL. For bulk paths such as imports.
   */
  insertMany<T extends keyof Database>(
    trx: Transaction<Database>,
    table: T,
    rows: readonly Insertable<Database[T]>[],
    upsert?: UpsertOptions<T>,
  ): Promise<void>;
  /**
   * Runs `run` (Kysely's migrator) on a handle fit for migrations: one that
   * waits as long as another process's migration takes, under a lock that
   * lets only one process at a time apply migrations.
   */
  withMigrationDb<T>(run: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  /** True for errors that mean the database cannot be reached (as opposed to a bad query). */
  isUnavailableError(error: unknown): boolean;
  /** True for a unique-constraint violation. */
  isUniqueViolation(error: unknown): boolean;
  /** Connections now: open, idle, and callers waiting for one; SQLite adds the write-ahead log's size. */
  poolStats(): PoolStats;
  /**
   * Called after a transaction that erased personal data commits: makes what
   * it deleted unrecoverable from the database's files where the store can.
   * SQLite copies the WAL into the (secure_delete) main file and truncates it,
   * retrying in the background while readers block that; PostgreSQL leaves
   * the dead tuples to VACUUM (see the README).
   */
  purgeErasedData(): Promise<void>;
  /** Closes the connections; SQLite first checkpoints and truncates its WAL. */
  close(): Promise<void>;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  walBytes?: number;
}

export function compileStatement(query: Compilable<unknown>): CompiledStatement {
  const compiled = query.compile();
  const slots = compiled.parameters.map((value) =>
    typeof value === 'string' && value.startsWith(PARAM_PREFIX)
      ? { name: value.slice(PARAM_PREFIX.length) }
      : { constant: value },
  );
  return {
    sql: compiled.sql,
    bind: (params) =>
      slots.map((slot) => {
        if (!('name' in slot)) return slot.constant;
        const value = params[slot.name as string];
        if (value === undefined) throw new Error(`prepared query parameter "${slot.name}" is missing`);
        return value;
      }),
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
