import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { poolClientQuery } from './connection.js';
import type { ReadServed, ReadStats, ReplicaState, ReplicaStatus } from '../store.js';

/**
 * PostgreSQL WAL positions (LSNs) as PostgreSQL prints them, `16/B374D848`: the high and low 32 bits in hex.
 * They are the consistency tokens: a replica that has replayed position P shows every commit that ended at or
 * before P.
 */
const WAL_POSITION = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/** The position as a number that compares correctly; undefined when the text is not a position. */
export function parseWalPosition(text: string): bigint | undefined {
  const match = WAL_POSITION.exec(text);
  if (!match) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatWalPosition(position: bigint): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** One PostgreSQL server the process talks to, with its own pool. */
export interface PgBackend {
  /** `primary`, `replica-1`, `replica-2`, ... (the order of DATABASE_REPLICA_URLS). */
  readonly name: string;
  /** The URL without its password, for health reports. */
  readonly displayUrl: string;
  readonly pool: pg.Pool;
}

export interface ReadRouterOptions {
  primary: PgBackend;
  replicas: readonly PgBackend[];
  /** A replica further behind than this is skipped until it catches up. */
  maxLagMs: number;
  /** Longest wait for a replica to replay a request's consistency token before the primary serves it. */
  waitMs: number;
  /** How often the monitor samples the primary's WAL position and each replica's replay position. */
  checkIntervalMs?: number;
  /** Errors that mean a server cannot be reached (the store's own classification). */
  isUnavailable: (error: unknown) => boolean;
  onReplicaDown?: (name: string, error: Error) => void;
}

interface ReadScope {
  readonly minPosition: bigint | undefined;
  choice: Promise<PgBackend> | undefined;
  backend: PgBackend | undefined;
  /** A lower bound of the WAL position the serving backend's reads reflect. */
  position: bigint | undefined;
}

interface Waiter {
  readonly target: bigint;
  settle(replayed: boolean): void;
}

interface Replica {
  readonly backend: PgBackend;
  up: boolean;
  checked: boolean;
  replay: bigint;
  lagMs: number;
  error: string | undefined;
  readonly waiters: Set<Waiter>;
  polling: boolean;
}

const REPLAY_SQL = 'select pg_last_wal_replay_lsn()::text as position, pg_is_in_recovery() as recovery';
// Only flushed WAL is streamed to replicas, so that is the position they can reach.
const PRIMARY_SQL = 'select pg_current_wal_flush_lsn()::text as position';
// While a read waits for its token, the replica's replay position is polled this often (one query at a time per
// replica, however many reads wait).
const WAIT_POLL_MS = 2;
// Ten minutes of samples at the default interval; a replica further behind is far past any sensible max lag.
const MAX_SAMPLES = 3000;
// SQLSTATEs a read on a replica may hit that the primary does not: a query cancelled by a replay conflict (40001),
// and a write attempted on a read-only standby (25006). The read is repeated on the primary.
const RETRY_ON_PRIMARY_SQLSTATES = new Set(['40001', '25006']);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sends the reads of a read scope (a GET request) to the streaming replicas, round robin, and everything else to
 * the primary. A monitor samples the primary's WAL position and each replica's replay position; a replica that
 * does not answer, or whose replay is further behind than `maxLagMs`, is skipped until it recovers, and with no
 * replica left the primary serves. A scope with a minimum position (the client's consistency token) is served by
 * a replica only once it has replayed that position, waiting at most `waitMs`, else by the primary.
 */
export function createReadRouter(options: ReadRouterOptions) {
  const { primary, maxLagMs, waitMs } = options;
  const checkIntervalMs = options.checkIntervalMs ?? 200;
  const scopes = new AsyncLocalStorage<ReadScope>();
  const replicas: Replica[] = options.replicas.map((backend) => ({
    backend,
    up: false,
    checked: false,
    replay: 0n,
    lagMs: 0,
    error: 'not checked yet',
    waiters: new Set(),
    polling: false,
  }));
  // (time, primary WAL position) samples: a replica's lag is the age of the oldest sample it has not replayed.
  const samples: { at: number; position: bigint }[] = [];
  const readsServed = new Map<string, number>([
    [primary.name, 0],
    ...replicas.map((r) => [r.backend.name, 0] as const),
  ]);
  let tokenWaitsServed = 0;
  let tokenWaitsFellBack = 0;
  let roundRobin = 0;
  let closed = false;

  function lagOf(replay: bigint, now: number): number {
    for (const sample of samples) if (sample.position > replay) return now - sample.at;
    return 0;
  }

  function markDown(replica: Replica, error: Error) {
    const wasUp = replica.up;
    replica.up = false;
    replica.error = error.message;
    for (const waiter of [...replica.waiters]) waiter.settle(false);
    if (wasUp) options.onReplicaDown?.(replica.backend.name, error);
  }

  function observeReplay(replica: Replica, row: { position: string | null; recovery: boolean }) {
    if (!row.recovery) throw new Error('the server is not in recovery: not a replica (promoted?)');
    replica.replay = parseWalPosition(row.position ?? '') ?? 0n;
    replica.up = true;
    replica.error = undefined;
    replica.lagMs = lagOf(replica.replay, Date.now());
    for (const waiter of [...replica.waiters]) if (replica.replay >= waiter.target) waiter.settle(true);
  }

  async function checkReplica(replica: Replica, timeoutMs: number) {
    try {
      const result = await withTimeout(
        replica.backend.pool.query<{ position: string | null; recovery: boolean }>(REPLAY_SQL),
        timeoutMs,
      );
      observeReplay(replica, result.rows[0]!);
    } catch (error) {
      markDown(replica, error as Error);
    } finally {
      replica.checked = true;
    }
  }

  async function tick() {
    try {
      const result = await withTimeout(primary.pool.query<{ position: string }>(PRIMARY_SQL), 1000);
      samples.push({ at: Date.now(), position: parseWalPosition(result.rows[0]!.position) ?? 0n });
    } catch {
      // The primary's own health is /readyz's business; without a fresh sample lags are measured against older ones.
    }
    await Promise.all(replicas.map((replica) => checkReplica(replica, 1000)));
    const oldestNeeded = replicas.reduce((min, r) => (r.up && r.replay < min ? r.replay : min), 1n << 64n);
    while (samples.length > MAX_SAMPLES || (samples.length > 1 && samples[1]!.position <= oldestNeeded)) {
      samples.shift();
    }
  }

  let wakeMonitor: (() => void) | undefined;
  let monitor: Promise<void> | undefined;
  if (replicas.length > 0) {
    monitor = (async () => {
      while (!closed) {
        await tick();
        if (closed) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, checkIntervalMs);
          timer.unref();
          wakeMonitor = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  async function pollWhileWaiting(replica: Replica) {
    if (replica.polling) return;
    replica.polling = true;
    try {
      while (replica.waiters.size > 0 && !closed) {
        try {
          const result = await replica.backend.pool.query<{ position: string | null; recovery: boolean }>(REPLAY_SQL);
          observeReplay(replica, result.rows[0]!);
        } catch (error) {
          markDown(replica, error as Error);
          return;
        }
        if (replica.waiters.size > 0) await sleep(WAIT_POLL_MS);
      }
    } finally {
      replica.polling = false;
    }
  }

  function waitForReplay(replica: Replica, target: bigint): Promise<boolean> {
    if (replica.replay >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        target,
        settle(replayed) {
          clearTimeout(timer);
          replica.waiters.delete(waiter);
          resolve(replayed);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), waitMs);
      replica.waiters.add(waiter);
      void pollWhileWaiting(replica);
    });
  }

  const usable = (replica: Replica) => replica.up && replica.lagMs <= maxLagMs;

  async function choose(minPosition: bigint | undefined): Promise<{ backend: PgBackend; position?: bigint }> {
    const healthy = replicas.filter(usable);
    if (healthy.length === 0) return { backend: primary, position: samples.at(-1)?.position };
    const start = roundRobin++ % healthy.length;
    const order = [...healthy.slice(start), ...healthy.slice(0, start)];
    const ready = minPosition === undefined ? order[0] : order.find((r) => r.replay >= minPosition);
    if (ready) return { backend: ready.backend, position: ready.replay };
    // Nobody had replayed it at the last look: wait for the replica closest to it.
    const closest = order.reduce((best, r) => (r.replay > best.replay ? r : best));
    if (await waitForReplay(closest, minPosition!)) {
      tokenWaitsServed++;
      return { backend: closest.backend, position: closest.replay };
    }
    tokenWaitsFellBack++;
    return { backend: primary, position: undefined };
  }

  function serve(scope: ReadScope, backend: PgBackend, position: bigint | undefined) {
    scope.backend = backend;
    scope.position = position;
    readsServed.set(backend.name, (readsServed.get(backend.name) ?? 0) + 1);
    return backend;
  }

  function status(replica: Replica): ReplicaStatus {
    const state: ReplicaState = !replica.up ? 'down' : replica.lagMs > maxLagMs ? 'lagging' : 'ok';
    return {
      name: replica.backend.name,
      url: replica.backend.displayUrl,
      state,
      lagMs: replica.up ? replica.lagMs : undefined,
      replayPosition: replica.checked && replica.up ? formatWalPosition(replica.replay) : undefined,
      error: replica.error,
    };
  }

  return {
    primary,
    hasReplicas: replicas.length > 0,

    /** Runs `work` as a read scope: its reads go to a replica that has replayed `minPosition` (if given). */
    readScope<T>(minPosition: bigint | undefined, work: () => T): T {
      if (replicas.length === 0) return work();
      return scopes.run({ minPosition, choice: undefined, backend: undefined, position: undefined }, work);
    },

    /** The backend this context reads from: the primary outside a read scope; chosen once per scope. */
    async backendForRead(): Promise<PgBackend> {
      const scope = scopes.getStore();
      if (!scope) return primary;
      if (scope.backend) return scope.backend;
      scope.choice ??= choose(scope.minPosition).then(({ backend, position }) => serve(scope, backend, position));
      return scope.choice;
    },

    /**
     * A read on `backend` failed with `error`. Returns the primary when the read should be repeated there (the
     * replica could not be reached, cancelled the query for a replay conflict, or refused a write), marking an
     * unreachable replica down until the monitor hears from it again; undefined when the error is the read's own.
     */
    failover(backend: PgBackend, error: unknown): PgBackend | undefined {
      if (backend === primary) return undefined;
      const code = (error as { code?: unknown } | null)?.code;
      const unavailable = options.isUnavailable(error);
      if (!unavailable && !(typeof code === 'string' && RETRY_ON_PRIMARY_SQLSTATES.has(code))) return undefined;
      const replica = replicas.find((r) => r.backend === backend);
      if (replica && unavailable) markDown(replica, error as Error);
      const scope = scopes.getStore();
      if (scope) serve(scope, primary, undefined);
      return primary;
    },

    /** What served the current read scope, and the WAL position its reads reflect at least. */
    served(): ReadServed | undefined {
      const scope = scopes.getStore();
      if (!scope?.backend) return undefined;
      return {
        backend: scope.backend.name,
        position: scope.position === undefined ? undefined : formatWalPosition(scope.position),
      };
    },

    statuses: (): ReplicaStatus[] => replicas.map(status),

    /** Asks every replica now (for /readyz), within `timeoutMs`. */
    async checkNow(timeoutMs: number): Promise<ReplicaStatus[]> {
      await Promise.all(replicas.map((replica) => checkReplica(replica, timeoutMs)));
      return replicas.map(status);
    },

    stats: (): ReadStats => ({ readsServed, tokenWaitsServed, tokenWaitsFellBack }),

    async close() {
      closed = true;
      wakeMonitor?.();
      for (const replica of replicas) for (const waiter of [...replica.waiters]) waiter.settle(false);
      await monitor;
    },
  };
}
export type ReadRouter = ReturnType<typeof createReadRouter>;

/**
 * Kysely's pool for a store with replicas: a connection taken inside a read scope comes from the replica the
 * scope was given, every other one from the primary. A statement that fails on the replica because it cannot be
 * reached (or for a replay conflict) outside a transaction is repeated on the primary, so a replica dying under
 * load costs the reads in flight nothing but time.
 */
export function routedPool(router: ReadRouter, guarded: ReadonlyMap<PgBackend, PostgresPool>): PostgresPool {
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
      const query = poolClientQuery(
        (cursor) => current.query(cursor),
        <R>(first: string, parameters: ReadonlyArray<unknown>) => {
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
        },
      );
      return { query, release: (destroy?: boolean) => current.release(destroy) };
    },
    end: () => Promise.resolve(),
  };
}
