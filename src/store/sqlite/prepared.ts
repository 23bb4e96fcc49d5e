import type BetterSqlite3 from 'better-sqlite3';
import type { Compilable } from 'kysely';
import { compileStatement, type PreparedQuery } from '../store.js';

/**
 * A query compiled once and run on the read-only connection, which in WAL mode sees committed data only. Rows
 * come back as arrays and are turned into objects here.
 */
export function prepareOn<R>(reader: BetterSqlite3.Database, query: Compilable<R>): PreparedQuery<R> {
  const compiled = compileStatement(query);
  let statement: BetterSqlite3.Statement | undefined;
  let columns: string[] = [];
  const prepared = () => {
    if (!statement) {
      statement = reader.prepare(compiled.sql);
      // better-sqlite3 builds row objects slowly (one C++ property set per column); rows as arrays
      // turned into objects here cost a third as much, a third of a page of 1000 customers.
      if (statement.reader) statement.raw(true);
      columns = statement.reader ? statement.columns().map((column) => column.name) : [];
    }
    return statement;
  };
  const toRow = (values: unknown[]): R => {
    // A migration run by another process can add a column under a `select *`; follow it.
    if (values.length !== columns.length) columns = statement!.columns().map((column) => column.name);
    const row: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
    return row as R;
  };
  return {
    all: (params) => {
      try {
        const rows = prepared().all(...compiled.bind(params)) as unknown[][];
        return Promise.resolve(rows.map(toRow));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
    first: (params) => {
      try {
        const values = prepared().get(...compiled.bind(params)) as unknown[] | undefined;
        return Promise.resolve(values === undefined ? undefined : toRow(values));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
  };
}
