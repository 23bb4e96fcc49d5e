import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateToLatest } from '../../src/store/open-store.js';
import { insertCustomers, type NewCustomerRow } from '../../src/store/repositories/customer-repository.js';
import { insertOrganization } from '../../src/store/repositories/organization-repository.js';
import { createSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/store.js';

/**
 * A migrated SQLite store in a fresh folder (added to `dirs`, for the caller to remove) holding organization
 * `organizationId` and `count` customers made by `customer`, inserted directly in one transaction.
 */
export async function createFilledSqliteStore(
  dirs: string[],
  organizationId: string,
  count: number,
  customer: (i: number) => NewCustomerRow,
): Promise<{ store: Store; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-api-sqlite-'));
  dirs.push(dir);
  const file = path.join(dir, 'test.db');
  const store = createSqliteStore(file);
  await migrateToLatest(store);
  await insertOrganization(store.db, {
    id: organizationId,
    name: 'Direct rows',
    currency: 'AUD',
    timezone: 'UTC',
    created_at: 0,
    clock: 0,
    event_sequence: 0,
  });
  await store.db.transaction().execute((trx) =>
    insertCustomers(
      trx,
      Array.from({ length: count }, (_, i) => customer(i)),
    ),
  );
  return { store, file };
}
