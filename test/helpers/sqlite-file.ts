import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateToLatest } from '../../src/store/open-store.js';
import { insertCustomers, type NewCustomerRow } from '../../src/store/repositories/customer-repository.js';
import { createSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/store.js';
import { insertOrganizationDirectly } from './bulk.js';

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
  await insertOrganizationDirectly(store, organizationId, 'Direct rows');
  await store.db.transaction().execute((trx) =>
    insertCustomers(
      trx,
      Array.from({ length: count }, (_, i) => customer(i)),
    ),
  );
  return { store, file };
}
