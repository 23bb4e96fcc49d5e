import pg from 'pg';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { isCopyFromStdin, runCopy } from './copy.js';
import { isUnavailable } from './errors.js';

const INT8_OID = 20;

// int8 columns hold epoch milliseconds and counters, all well inside Number's safe range;
// reading them as numbers keeps rows identical to SQLite's.
const parseInt8 = (value: string) => Number(value);
export const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID ? parseInt8 : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

export function isCursor<R>(argument: unknown): argument is PostgresCursor<R> {
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
/**
 * A pool client's `query` (Kysely's two overloads: a statement with its parameters, or a streaming cursor) from
 * one function for each.
 */
export function poolClientQuery(
  cursorQuery: <R>(cursor: PostgresCursor<R>) => PostgresCursor<R>,
  statementQuery: <R>(sqlText: string, parameters: ReadonlyArray<unknown>) => Promise<PostgresQueryResult<R>>,
): PostgresPoolClient['query'] {
  function query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query<R>(
    first: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    return isCursor<R>(first) ? cursorQuery(first) : statementQuery<R>(first, parameters ?? []);
  }
  return query;
}

export function guardPool(pool: pg.Pool, named?: ReadonlyMap<string, string>): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken ??= error;
      };
      client.on('error', onError);
      const query = poolClientQuery(
        (cursor) => client.query(cursor as unknown as pg.Submittable) as unknown as typeof cursor,
        (sqlText, parameters) => {
          if (broken) return Promise.reject(broken);
          if (parameters.length === 1 && isCopyFromStdin(sqlText)) {
            return runCopy(client, sqlText, parameters[0] as string).catch((error: unknown) => {
              if (isUnavailable(error)) broken ??= error as Error;
              throw error;
            }) as unknown as Promise<never>;
          }
          const name = named?.get(sqlText);
          const values = parameters as unknown[];
          return (
            (name === undefined
              ? client.query(sqlText, values)
              : client.query({ name, text: sqlText, values })) as unknown as Promise<never>
          ).catch((error: unknown) => {
            if (isUnavailable(error)) broken ??= error as Error;
            throw error;
          });
        },
      );
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
