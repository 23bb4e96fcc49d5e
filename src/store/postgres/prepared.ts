import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Compilable } from 'kysely';
import { compileStatement, type PreparedQuery } from '../store.js';
import type { ReadRouter } from './read-routing.js';

/** The name a statement text is prepared under: the same text has the same name in every process. */
export function statementName(sqlText: string): string {
  return `q_${createHash('sha1').update(sqlText).digest('hex').slice(0, 16)}`;
}

/**
 * A query compiled once and run as a named (server-side prepared) statement, on the backend the read scope
 * chose; a read that fails because that replica is unreachable is repeated on the primary.
 */
export function prepareOn<R>(router: ReadRouter, pooler: boolean, query: Compilable<R>): PreparedQuery<R> {
  const compiled = compileStatement(query);
  // Named statements live in one server session; behind a transaction pooler the next run may be in another.
  const name = pooler ? undefined : statementName(compiled.sql);
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
}
