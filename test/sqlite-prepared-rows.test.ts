import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewCustomerRow } from '../src/store/repositories/customer-repository.js';
import { param } from '../src/store/store.js';
import { createFilledSqliteStore } from './helpers/sqlite-file.js';

const ORG = '01JAAAAAAAAAAAAAAAAAAAAAAA';

function customer(i: number): NewCustomerRow {
  return {
    organization_id: ORG,
    id: `01JB${String(i).padStart(22, '0')}`,
    first_name: 'Ada',
    last_name: `Lovelace ${i}`,
    email: i % 2 === 0 ? `ada.${i}@example.com` : null,
    email_normalized: i % 2 === 0 ? `ada.${i}@example.com` : null,
    phone_number: i % 3 === 0 ? `+6141${String(i).padStart(7, '0')}` : null,
    dob: i % 4 === 0 ? '1990-01-02' : null,
    gender: i % 5 === 0 ? 'FEMALE' : null,
    has_agreed_to_marketing: i % 2,
    created_at: 1_600_000_000_000 + i * 1000,
    updated_at: 1_600_000_000_000 + i * 1500,
    points_balance: i,
    total_points_earned: 2 * i,
    total_points_redeemed: i,
    total_spend: 100 * i,
    last_points_earned_at: i % 2 === 0 ? 1_600_000_000_123 + i : null,
    last_points_redeemed_at: null,
    last_spent_at: 1_600_000_000_456 + i,
  };
}

describe('SQLite prepared reads', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function openFilled() {
    return createFilledSqliteStore(dirs, ORG, 50, customer);
  }

  it('return the same rows, nulls and numbers included, as an ordinary query', async () => {
    const { store } = await openFilled();
    try {
      const query = store.db
        .selectFrom('customers')
        .selectAll()
        .where('organization_id', '=', param<string>('org'))
        .orderBy('id');
      const prepared = store.prepare(query);
      const expected = await store.db
        .selectFrom('customers')
        .selectAll()
        .where('organization_id', '=', ORG)
        .orderBy('id')
        .execute();
      expect(expected).toHaveLength(50);
      expect(await prepared.all({ org: ORG })).toStrictEqual(expected);
      expect(await prepared.first({ org: ORG })).toStrictEqual(expected[0]);
      expect(await prepared.first({ org: 'nobody' })).toBeUndefined();
      expect(await prepared.all({ org: 'nobody' })).toStrictEqual([]);
    } finally {
      await store.close();
    }
  });

  it('follow a column added by another process after the statement was prepared', async () => {
    const { store, file } = await openFilled();
    try {
      const prepared = store.prepare(
        store.db
          .selectFrom('customers')
          .selectAll()
          .where('organization_id', '=', param<string>('org'))
          .where('id', '=', param<string>('id')),
      );
      const id = customer(7).id;
      expect(await prepared.first({ org: ORG, id })).not.toHaveProperty('nickname');
      const other = new BetterSqlite3(file);
      other.exec("alter table customers add column nickname text not null default 'Ada the 7th'");
      other.close();
      const row = (await prepared.first({ org: ORG, id })) as Record<string, unknown>;
      expect(row.nickname).toBe('Ada the 7th');
      expect(row.last_name).toBe('Lovelace 7');
      expect(row.points_balance).toBe(7);
    } finally {
      await store.close();
    }
  });
});
