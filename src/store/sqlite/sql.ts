import { sql } from 'kysely';
import type { DialectSql } from '../store.js';

export const sqliteSql: DialectSql = {
  greatest: (a, b) => sql<number>`max(${a}, ${b})`,
  lockSkipLocked: (query) => query,
  // Write transactions begin IMMEDIATE, so by the time a statement is built the write lock is held.
  currentMillis: () => sql<number>`${Date.now()}`,
  // Without ICU (better-sqlite3's build), lower() changes A-Z only.
  asciiLower: (text) => sql<string>`lower(${text})`,
};
