import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database, IdempotencyKeysTable, IdempotencyTombstonesTable } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function findIdempotencyKey(trx: Db, organizationId: string, key: string) {
  return trx
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('key', '=', key)
    .executeTakeFirst();
}

export async function insertIdempotencyKey(trx: Db, row: Insertable<IdempotencyKeysTable>): Promise<void> {
  await trx.insertInto('idempotency_keys').values(row).execute();
}

export async function purgeExpiredIdempotencyKeys(trx: Db, organizationId: string, now: number): Promise<void> {
  for (const table of ['idempotency_keys', 'idempotency_tombstones'] as const) {
    await trx.deleteFrom(table).where('organization_id', '=', organizationId).where('expires_at', '<=', now).execute();
  }
}

export async function findIdempotencyTombstone(trx: Db, organizationId: string, keyHash: string) {
  return trx
    .selectFrom('idempotency_tombstones')
    .select('expires_at')
    .where('organization_id', '=', organizationId)
    .where('key_hash', '=', keyHash)
    .executeTakeFirst();
}

export async function findIdempotencyKeysOfCustomer(trx: Db, organizationId: string, customerId: string) {
  return trx
    .selectFrom('idempotency_keys')
    .select(['key', 'expires_at'])
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .execute();
}

export async function insertIdempotencyTombstones(
  trx: Db,
  rows: Insertable<IdempotencyTombstonesTable>[],
): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto('idempotency_tombstones')
    .values(rows)
    .onConflict((oc) => oc.columns(['organization_id', 'key_hash']).doNothing())
    .execute();
}

/** The stored responses hold the customer's personal data: erasure removes them. */
export async function deleteIdempotencyKeysOfCustomer(
  trx: Db,
  organizationId: string,
  customerId: string,
): Promise<void> {
  await trx
    .deleteFrom('idempotency_keys')
    .where('organization_id', '=', organizationId)
    .where('customer_id', '=', customerId)
    .execute();
}
