import type { MultiRowInsertDialect } from '../multi-row-insert.js';

/**
 * SQLite binds up to 32,766 parameters a statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32), but a prepared statement
 * costs memory by its parameters (2.7 MB for 1,600 rows of 20 columns, 0.34 MB for 200: measured in better-sqlite3),
 * and the writer keeps every size an import uses prepared (`cacheStatements`): with 32,000 an import held ~35 such
 * statements. 4,000 keeps them to a few MB in all; the rows' work (the B-tree inserts) is the same either way.
 */
export const sqliteMultiRowInsert: MultiRowInsertDialect = {
  maxParameters: 4_000,
  placeholder: () => '?',
};
