import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ApiTokensTable, Database } from '../schema.js';
import { param, type Store } from '../store.js';

export type TokenRow = Selectable<ApiTokensTable>;
type Db = Kysely<Database> | Transaction<Database>;

export async function insertToken(db: Db, row: TokenRow): Promise<void> {
  await db.insertInto('api_tokens').values(row).execute();
}

export async function listTokens(db: Db): Promise<TokenRow[]> {
  return db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
}

export async function revokeToken(db: Db, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface TokenReads {
  findByHash(hash: string): Promise<TokenRow | undefined>;
}

export function createTokenReads(store: Store): TokenReads {
  const byHash = store.prepare<TokenRow>(
    store.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', param<string>('hash')),
  );
  return { findByHash: (hash: string) => byHash.first({ hash }) };
}
