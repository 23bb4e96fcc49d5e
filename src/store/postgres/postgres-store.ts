import { createHash } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { redactUrl } from '../../config.js';
import type { Database } from '../schema.js';
import { compileStatement, withTimeout, type PreparedQuery, type Store } from '../store.js';

const INT8_OID = 20;

// int8 columns hold epoch milliseconds and counters, all well inside Number's safe range;
// reading them as numbers keeps rows identical to SQLite's.
const parseInt8 = (value: string) => Number(value);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID ? parseInt8 : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

// Connection-level failures: refused, reset, DNS, timeouts, and the server going away (class 08, 57P0x).
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']);

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|not queryable/i.test(
    error.message,
  );
}

export interface PostgresStoreOptions {
  maxConnections?: number;
  onPoolError?: (error: Error) => void;
}

export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    types,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (error) => options.onPoolError?.(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  return {
    kind: 'postgres',
    db,
    sql: {
      greatest: (a, b) => sql<number>`greatest(${a}, ${b})`,
    },
    prepare<R>(query: Parameters<Store['prepare']>[0]): PreparedQuery<R> {
      const compiled = compileStatement(query);
      const name = `q_${createHash('sha1').update(compiled.sql).digest('hex').slice(0, 16)}`;
      const all = async (params: Parameters<PreparedQuery<R>['all']>[0]) => {
        const result = await pool.query({ name, text: compiled.sql, values: compiled.bind(params) });
        return result.rows as R[];
      };
      return { all, first: async (params) => (await all(params))[0] };
    },
    async ping(timeoutMs = 2000) {
      await withTimeout(pool.query('select 1'), timeoutMs, `PostgreSQL at ${redactUrl(url)} did not answer within ${timeoutMs} ms`);
    },
    isUnavailableError: isUnavailable,
    isUniqueViolation(error) {
      return (error as { code?: unknown } | null)?.code === '23505';
    },
    async close() {
      await db.destroy();
    },
  };
}
