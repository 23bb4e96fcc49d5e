import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database, IdempotencyKeysTable } from '../schema.js';

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
  await trx
    .deleteFrom('idempotency_keys')
    .where('organization_id', '=', organizationId)
    .where('expires_at', '<=', now)
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
