import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  Database,
  OAuthAuthorizationCodesTable,
  OAuthClientsTable,
  OAuthRefreshTokensTable,
  OAuthRevocationsTable,
  OAuthSigningKeysTable,
  OAuthUsersTable,
} from '../schema.js';

export type SigningKeyRow = Selectable<OAuthSigningKeysTable>;
export type ClientRow = Selectable<OAuthClientsTable>;
export type UserRow = Selectable<OAuthUsersTable>;
export type AuthorizationCodeRow = Selectable<OAuthAuthorizationCodesTable>;
export type RefreshTokenRow = Selectable<OAuthRefreshTokensTable>;
export type RevocationRow = Selectable<OAuthRevocationsTable>;
type Db = Kysely<Database>;

// Signing keys

/** Keys still published in the JWKS: the signing ones and retired ones whose tokens may not have expired yet. */
export async function listPublishedSigningKeys(db: Db, now: number): Promise<SigningKeyRow[]> {
  return db
    .selectFrom('oauth_signing_keys')
    .selectAll()
    .where((eb) => eb.or([eb('publish_until', 'is', null), eb('publish_until', '>', now)]))
    .orderBy('created_at', 'desc')
    .orderBy('kid', 'desc')
    .execute();
}

export async function listAllSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  return db.selectFrom('oauth_signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
}

export async function insertSigningKey(db: Db, row: SigningKeyRow): Promise<void> {
  await db.insertInto('oauth_signing_keys').values(row).execute();
}

/** Retires every signing key but `keepKid`; they stay published until `publishUntil`. */
export async function retireSigningKeys(db: Db, keepKid: string, now: number, publishUntil: number): Promise<number> {
  const result = await db
    .updateTable('oauth_signing_keys')
    .set({ retired_at: now, publish_until: publishUntil })
    .where('retired_at', 'is', null)
    .where('kid', '!=', keepKid)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

// Clients

export async function insertClient(db: Db, row: ClientRow): Promise<void> {
  await db.insertInto('oauth_clients').values(row).execute();
}

export async function findClientById(db: Db, id: string): Promise<ClientRow | undefined> {
  return db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listClients(db: Db): Promise<ClientRow[]> {
  return db.selectFrom('oauth_clients').selectAll().orderBy('id').execute();
}

export async function listRevokedClientIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('oauth_clients').select('id').where('revoked_at', 'is not', null).execute();
  return rows.map((row) => row.id);
}

export async function revokeClient(db: Db, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('oauth_clients')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// Users

export async function insertUser(db: Db, row: UserRow): Promise<void> {
  await db.insertInto('oauth_users').values(row).execute();
}

export async function findUserByEmail(db: Db, emailNormalized: string): Promise<UserRow | undefined> {
  return db.selectFrom('oauth_users').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst();
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('oauth_users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.selectFrom('oauth_users').selectAll().orderBy('id').execute();
}

// Authorization codes

export async function insertAuthorizationCode(db: Db, row: AuthorizationCodeRow): Promise<void> {
  await db.insertInto('oauth_authorization_codes').values(row).execute();
}

export async function findAuthorizationCode(db: Db, codeHash: string): Promise<AuthorizationCodeRow | undefined> {
  return db.selectFrom('oauth_authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
}

/** Marks the code used and records its token family; false when another request used it first. */
export async function consumeAuthorizationCode(
  db: Db,
  codeHash: string,
  familyId: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('oauth_authorization_codes')
    .set({ used_at: now, family_id: familyId })
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function deleteExpiredAuthorizationCodes(db: Db, before: number): Promise<void> {
  await db.deleteFrom('oauth_authorization_codes').where('expires_at', '<', before).execute();
}

// Refresh tokens

export async function insertRefreshToken(db: Db, row: RefreshTokenRow): Promise<void> {
  await db.insertInto('oauth_refresh_tokens').values(row).execute();
}

export async function findRefreshToken(db: Db, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db.selectFrom('oauth_refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Marks the token as exchanged; false when it had been exchanged already (reuse). */
export async function rotateRefreshToken(db: Db, tokenHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('oauth_refresh_tokens')
    .set({ rotated_at: now })
    .where('token_hash', '=', tokenHash)
    .where('rotated_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function deleteRefreshTokenFamily(db: Db, familyId: string): Promise<void> {
  await db.deleteFrom('oauth_refresh_tokens').where('family_id', '=', familyId).execute();
}

// Revocations

export async function insertRevocation(db: Db, row: RevocationRow): Promise<void> {
  await db
    .insertInto('oauth_revocations')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function findRevocation(db: Db, id: string): Promise<RevocationRow | undefined> {
  return db.selectFrom('oauth_revocations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listActiveRevocations(db: Db, now: number): Promise<RevocationRow[]> {
  return db.selectFrom('oauth_revocations').selectAll().where('expires_at', '>', now).execute();
}

export async function deleteExpiredRevocations(db: Db, now: number): Promise<void> {
  await db.deleteFrom('oauth_revocations').where('expires_at', '<=', now).execute();
}

// Sign-in failures

export async function findSignInFailures(db: Db, keys: readonly string[]) {
  return db.selectFrom('oauth_signin_failures').selectAll().where('key', 'in', keys).execute();
}

/** Counts one failure for `key`, starting a new window when the current one began before `windowStart`. */
export async function recordSignInFailure(db: Db, key: string, now: number, windowStart: number): Promise<void> {
  await db
    .insertInto('oauth_signin_failures')
    .values({ key, window_started_at: now, failures: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when oauth_signin_failures.window_started_at < ${windowStart} then 1 else oauth_signin_failures.failures + 1 end`,
        window_started_at: sql<number>`case when oauth_signin_failures.window_started_at < ${windowStart} then ${now} else oauth_signin_failures.window_started_at end`,
      }),
    )
    .execute();
}

export async function clearSignInFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('oauth_signin_failures').where('key', '=', key).execute();
}
