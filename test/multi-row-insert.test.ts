import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementSizes } from '../src/store/multi-row-insert.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { describeEachBackend, type TestDatabase } from './helpers/backends.js';
import { insertOrganizationDirectly } from './helpers/bulk.js';

describe('statementSizes', () => {
  it('splits a row count into full chunks, powers of two and a last statement of at most 16 rows', () => {
    expect(statementSizes(0, 100)).toEqual([]);
    expect(statementSizes(1, 100)).toEqual([1]);
    expect(statementSizes(5, 100)).toEqual([5]);
    expect(statementSizes(16, 100)).toEqual([16]);
    expect(statementSizes(17, 100)).toEqual([16, 1]);
    expect(statementSizes(250, 100)).toEqual([100, 100, 32, 16, 2]);
    expect(statementSizes(61, 100)).toEqual([32, 16, 13]);
    for (let total = 0; total < 600; total++) {
      const sizes = statementSizes(total, 128);
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(total);
      expect(sizes.every((size) => size <= 128)).toBe(true);
      // Uneven batches share a handful of statement texts: the remainder is distinct powers of two, the last of
      // them possibly any count up to 16.
      const remainder = sizes.filter((size) => size < 128);
      const powerOfTwo = (size: number) => (size & (size - 1)) === 0;
      expect(new Set(remainder).size).toBe(remainder.length);
      expect(remainder.slice(0, -1).every(powerOfTwo)).toBe(true);
      if (remainder.length > 0) expect(powerOfTwo(remainder.at(-1)!) || remainder.at(-1)! <= 16).toBe(true);
    }
  });
});

await describeEachBackend('store.insertMany', (backend) => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await backend.createDatabase();
    store = await openStore(database.target);
    await migrateToLatest(store);
    await insertOrganizationDirectly(store, 'org-insert-many', 'Insert many');
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  const customer = (i: number, firstName: string) => ({
    organization_id: 'org-insert-many',
    id: `c${String(i).padStart(6, '0')}`,
    first_name: firstName,
    last_name: '',
    created_at: i,
    updated_at: i,
  });

  it('inserts more rows than one statement may bind, inside the caller transaction, and upserts on conflict', async () => {
    const count = 5_003; // past SQLite's 32,000-parameter chunk at the customers table's width
    await store.db.transaction().execute(async (trx) => {
      await store.insertMany(
        trx,
        'customers',
        Array.from({ length: count }, (_, i) => customer(i, `first ${i}`)) as never,
      );
    });
    const total = await store.db
      .selectFrom('customers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('organization_id', '=', 'org-insert-many')
      .executeTakeFirstOrThrow();
    expect(Number(total.n)).toBe(count);

    await store.db.transaction().execute(async (trx) => {
      await store.insertMany(trx, 'customers', [customer(7, 'renamed'), customer(count, 'new')] as never, {
        conflict: ['organization_id', 'id'],
        update: ['first_name'],
      });
    });
    const rows = await store.db
      .selectFrom('customers')
      .select(['id', 'first_name'])
      .where('id', 'in', ['c000007', `c${String(count).padStart(6, '0')}`])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: 'c000007', first_name: 'renamed' },
      { id: `c${String(count).padStart(6, '0')}`, first_name: 'new' },
    ]);
  });

  it('rolls back with the transaction it was given', async () => {
    await expect(
      store.db.transaction().execute(async (trx) => {
        await store.insertMany(trx, 'customers', [customer(900_000, 'gone')] as never);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const row = await store.db.selectFrom('customers').select('id').where('id', '=', 'c900000').executeTakeFirst();
    expect(row).toBeUndefined();
  });
});
