import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewCustomerRow } from '../src/store/repositories/customer-repository.js';
import { createSqliteStore } from '../src/store/sqlite/store.js';
import { createFilledSqliteStore } from './helpers/sqlite-file.js';

const ORG = '01JAAAAAAAAAAAAAAAAAAAAAAA';

function customer(i: number): NewCustomerRow {
  return {
    organization_id: ORG,
    id: `01JB${String(i).padStart(22, '0')}`,
    first_name: 'Ada',
    last_name: `Lovelace ${i}`,
    email: `ada.${i}@example.com`,
    email_normalized: `ada.${i}@example.com`,
    phone_number: `+6141${String(i).padStart(7, '0')}`,
    dob: null,
    gender: null,
    has_agreed_to_marketing: null,
    created_at: 1_600_000_000_000 + i * 1000,
    updated_at: 1_600_000_000_000 + i * 1000,
    last_points_earned_at: null,
    last_points_redeemed_at: null,
    last_spent_at: null,
  };
}

/** The plan SQLite picks for a search with the keyset condition and ORDER BY the list endpoint uses. */
function searchPlan(file: string, column: 'email_normalized' | 'phone_number', value: string): string {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const rows = db
      .prepare(
        `explain query plan select * from customers where organization_id = ? and (created_at, id) < (?, ?) and ${column} = ?
         order by created_at desc, id desc limit ?`,
      )
      .all(ORG, Number.MAX_SAFE_INTEGER, '\u{10FFFF}', value, 1001) as { detail: string }[];
    return rows.map((r) => r.detail).join('; ');
  } finally {
    db.close();
  }
}

describe('SQLite planner statistics', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('are made on open, so email and phone searches use their index instead of walking the organization', async () => {
    const { store, file } = await createFilledSqliteStore(dirs, ORG, 3000, customer);
    await store.close();

    // A database grown through the API has never been analyzed.
    const raw = new BetterSqlite3(file);
    raw.exec('drop table if exists sqlite_stat1; drop table if exists sqlite_stat4;');
    raw.close();
    expect(searchPlan(file, 'phone_number', '+61410001234')).toContain('customers_created_idx');

    const reopened = createSqliteStore(file);
    try {
      const stats = await sql<{ n: number }>`select count(*) as n from sqlite_stat1 where tbl = 'customers'`.execute(
        reopened.db,
      );
      expect(stats.rows[0]!.n).toBeGreaterThan(0);
      expect(searchPlan(file, 'phone_number', '+61410001234')).toContain('USING INDEX customers_phone_idx');
      expect(searchPlan(file, 'email_normalized', 'ada.1234@example.com')).toContain('USING INDEX customers_email_idx');
    } finally {
      await reopened.close();
    }
  });
});
