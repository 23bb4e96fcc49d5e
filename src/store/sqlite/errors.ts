import type { Store } from '../store.js';

/** SQLite's result codes, as better-sqlite3 reports them, sorted into the store's two questions. */
export const sqliteErrors: Pick<Store, 'isUnavailableError' | 'isUniqueViolation'> = {
  isUnavailableError(error) {
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'SQLITE_BUSY' || code === 'SQLITE_IOERR' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL';
  },
  isUniqueViolation(error) {
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
};
