import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { cacheStatements } from '../src/store/sqlite/connection.js';

describe('SQLite statement cache', () => {
  it('prepares each SQL text once and evicts the least recently used beyond its capacity', () => {
    const database = new BetterSqlite3(':memory:');
    let prepared = 0;
    const prepare = database.prepare.bind(database);
    database.prepare = ((text: string) => {
      prepared++;
      return prepare(text);
    }) as typeof database.prepare;
    const cached = cacheStatements(database, 2);

    const one = cached.prepare('select 1 as n');
    expect(cached.prepare('select 1 as n')).toBe(one);
    expect(prepared).toBe(1);
    cached.prepare('select 2 as n');
    cached.prepare('select 1 as n'); // now the most recently used
    cached.prepare('select 3 as n'); // evicts "select 2"
    expect(prepared).toBe(3);
    expect(cached.prepare('select 1 as n')).toBe(one);
    cached.prepare('select 2 as n');
    expect(prepared).toBe(4);
    cached.close();
    expect(database.open).toBe(false);
  });

  it('runs repeated reads, writes and streams through Kysely with the same results as without it', async () => {
    const database = new BetterSqlite3(':memory:');
    const db = new Kysely<{ t: { id: number; name: string } }>({
      dialect: new SqliteDialect({ database: cacheStatements(database) }),
    });
    await sql`create table t (id integer primary key, name text not null)`.execute(db);
    for (let i = 1; i <= 5; i++)
      await db
        .insertInto('t')
        .values({ id: i, name: `n${i}` })
        .execute();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('t').set({ name: 'changed' }).where('id', '=', 2).execute();
      await trx.updateTable('t').set({ name: 'changed too' }).where('id', '=', 3).execute();
    });
    const streamed: string[] = [];
    for await (const row of db.selectFrom('t').select('name').orderBy('id').stream()) streamed.push(row.name);
    expect(streamed).toEqual(['n1', 'changed', 'changed too', 'n4', 'n5']);
    // The same statement again after the stream finished.
    expect(await db.selectFrom('t').select('name').orderBy('id').execute()).toEqual(streamed.map((name) => ({ name })));
    await expect(db.insertInto('t').values({ id: 1, name: 'duplicate' }).execute()).rejects.toThrow(/UNIQUE/);
    expect(await db.selectFrom('t').select('name').where('id', '=', 1).executeTakeFirst()).toEqual({ name: 'n1' });
    await db.destroy();
    expect(database.open).toBe(false);
  });
});
