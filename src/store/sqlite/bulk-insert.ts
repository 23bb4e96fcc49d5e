import type { MultiRowInsertDialect } from '../multi-row-insert.js';

/** SQLite binds at most 32,766 parameters a statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
export const sqliteMultiRowInsert: MultiRowInsertDialect = {
  maxParameters: 32_000,
  placeholder: () => '?',
};
