import type { MultiRowInsertDialect } from '../multi-row-insert.js';

/** PostgreSQL binds at most 65,535 parameters a statement (the protocol's 16-bit count). */
export const postgresMultiRowInsert: MultiRowInsertDialect = {
  maxParameters: 60_000,
  placeholder: (index) => `$${index + 1}`,
};
