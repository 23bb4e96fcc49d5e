import { sql } from 'kysely';
import type { DialectSql } from '../store.js';

export const postgresSql: DialectSql = {
  greatest: (a, b) => sql<number>`greatest(${a}, ${b})`,
  lockSkipLocked: (query) => query.forUpdate().skipLocked(),
  // The database's clock, read when the statement runs (after any row lock it waited for), so all
  // processes on all machines share one clock.
  currentMillis: () => sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`,
  asciiLower: (text) => sql<string>`translate(${text}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`,
};
