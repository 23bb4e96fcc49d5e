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
  /**
   * The text with A-Z lowered and nothing else changed, the same on both dialects (SQLite's `lower` folds ASCII
   * only, PostgreSQL's folds by locale), for case-insensitive matching that agrees across backends.
   */
  asciiLower(text: Expression<string>): RawBuilder<string>;
}

export interface StoreOptions {
  /** PostgreSQL connections per process (per server: the primary and each replica). */
  poolSize?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** Longest wait for one statement; past it the request fails with 503 instead of hanging. */
  queryTimeoutMs?: number | undefined;
  onPoolError?: ((error: Error) => void) | undefined;
  /**
   * `transaction` when the PostgreSQL URLs point at a pooler in transaction mode (PgBouncer `pool_mode =
   * transaction`): no named prepared statements, no session settings or session locks, since consecutive
   * statements may run on different server sessions.
   */
  pooler?: 'none' | 'transaction' | undefined;
  /** Where migrations run, when not through `url` (e.g. PostgreSQL itself while `url` is a pooler). */
  migrationUrl?: string | undefined;
  /** Streaming replicas that serve read scopes. */
  replicaUrls?: readonly string[] | undefined;
  /** A replica whose replay is further behind than this is skipped until it catches up. */
  replicaMaxLagMs?: number | undefined;
  /** Longest wait for a replica to replay a read's consistency token before the primary serves the read. */
  replicaWaitMs?: number | undefined;
  onReplicaDown?: ((name: string, error: Error) => void) | undefined;
}

export type ReplicaState = 'ok' | 'lagging' | 'down';

export interface ReplicaStatus {
  /** `replica-1`, `replica-2`, ... in the order of DATABASE_REPLICA_URLS. */
  name: string;
  /** Its URL without the password. */
  url: string;
  state: ReplicaState;
  /** How far its replay is behind the primary (to the monitor's resolution); absent while down. */
  lagMs: number | undefined;
  /** The WAL position it had replayed when last checked. */
  replayPosition: string | undefined;
  error: string | undefined;
}

export interface ReadStats {
  /** Read requests by the backend that served them (`primary`, `replica-1`, ...). */
  readsServed: ReadonlyMap<string, number>;
  /** Reads with a consistency token that a replica served after waiting for its replay. */
  tokenWaitsServed: number;
  /** Reads with a consistency token that went to the primary because no replica replayed it in time. */
  tokenWaitsFellBack: number;
}

/** What served the current read scope, and a position its reads reflect at least (a token for the client). */
export interface ReadServed {
  backend: string;
  position: string | undefined;
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
   * Runs this statement text, wherever it runs from then on (inside transactions too), as a named server-side
   * prepared statement on PostgreSQL, parsed and planned once per connection; not behind a transaction pooler,
   * where a session's statements are not the next transaction's. For the few big statements a write runs again and
   * again. A no-op on SQLite, whose connection keeps every statement prepared already.
   */
  nameStatement(sqlText: string): void;
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
  /**
   * Runs `work` (a read-only request) with its reads served by a streaming replica that has replayed
   * `consistencyToken` when one is given (see `writePosition`). Without replicas (and on SQLite) it just runs
   * `work`. Everything outside a read scope (every write and all it reads) uses the primary.
   */
  readScope<T>(consistencyToken: string | undefined, work: () => T): T;
  /** What served the current read scope; undefined outside one or before its first read. */
  readServed(): ReadServed | undefined;
  /**
   * A consistency token for the writes committed so far: PostgreSQL's flushed WAL position, asked after the
   * commit. A read carrying it sees those writes, on any replica. Undefined on SQLite (one server, always current).
   */
  writePosition(): Promise<string | undefined>;
  /** The replicas and their state: the monitor's last look, or asked now when `checkTimeoutMs` is given. */
  replicaStatuses(checkTimeoutMs?: number): Promise<ReplicaStatus[]>;
  readStats(): ReadStats | undefined;
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
  /**
   * Runs a bulk load (an import) with the writer sized for it: on SQLite a larger page cache for the writer
   * connection and a WAL checkpointed every 128 MiB instead of every 4 MiB, both given back (and the WAL
   * checkpointed) when the last bulk load running in this process ends; PostgreSQL runs `load` as it is.
   */
  bulkLoad<T>(load: () => Promise<T>): Promise<T>;
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

// Statements a write runs again and again in a few shapes, compiled once per store and shape (bounded).
const shapedStatements = new WeakMap<Store, Map<string, CompiledStatement>>();
const SHAPED_STATEMENTS = 500;

/**
 * The statement `build` makes for `shape` (its values as `param`s), built and compiled once per store and shape:
 * building and compiling with Kysely took more CPU than running the small writes it makes (a member count update
 * measured 27 µs a run built against 8 µs compiled).
 */
export function shapedStatement(store: Store, shape: string, build: () => Compilable<unknown>): CompiledStatement {
  let statements = shapedStatements.get(store);
  if (!statements) shapedStatements.set(store, (statements = new Map<string, CompiledStatement>()));
  let statement = statements.get(shape);
  if (!statement) {
    if (statements.size >= SHAPED_STATEMENTS) statements.clear();
    statements.set(shape, (statement = compileStatement(build())));
  }
  return statement;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const WAL_POSITION = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

/** Whether `text` has the form of a consistency token (a PostgreSQL WAL position such as `16/B374D848`). */
export function isConsistencyToken(text: string): boolean {
  return WAL_POSITION.test(text);
}
