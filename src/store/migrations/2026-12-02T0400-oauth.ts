import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// The OpenID Connect issuer's tables. They are global like api_tokens: a client or an operator user is granted
// organizations, it does not belong to one.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oauth_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Set when a newer key took over signing; the key stays published until the last token it signed expires.
    .addColumn('retired_at', 'bigint')
    .addColumn('publish_until', 'bigint')
    .execute();

  await db.schema
    .createTable('oauth_clients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    // SHA-256 of a 256-bit random secret; null for a public client (PKCE, token_endpoint_auth_method none).
    .addColumn('secret_hash', 'text')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('organization_ids', 'text', (c) => c.notNull())
    .addColumn('redirect_uris', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('oauth_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    // Lower-cased, so sign-in is case-insensitive and two accounts never differ only by case.
    .addColumn('email_normalized', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('organization_ids', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();

  await db.schema
    .createTable('oauth_authorization_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('organization_ids', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text')
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    // The refresh-token family the code was exchanged for, revoked when the code is replayed (RFC 6749 4.1.2).
    .addColumn('family_id', 'text')
    .execute();
  await db.schema
    .createIndex('oauth_authorization_codes_expires_idx')
    .on('oauth_authorization_codes')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('oauth_refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('organization_ids', 'text', (c) => c.notNull())
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    // Set when the token was exchanged for its successor; presenting it again is reuse.
    .addColumn('rotated_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('oauth_refresh_tokens_family_idx')
    .on('oauth_refresh_tokens')
    .column('family_id')
    .execute();

  // Revoked refresh-token families and revoked access tokens (by jti), read by every API process as a small
  // snapshot refreshed every TOKEN_CACHE_TTL_MS, so JWT checks need no database round trip per request.
  await db.schema
    .createTable('oauth_revocations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint', (c) => c.notNull())
    // After this no token it covers can still be valid, so the row can be pruned.
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oauth_revocations_expires_idx').on('oauth_revocations').column('expires_at').execute();

  // Failed sign-ins per account and per client address, in the database so every process enforces one limit.
  await db.schema
    .createTable('oauth_signin_failures')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_started_at', 'bigint', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'oauth_signin_failures',
    'oauth_revocations',
    'oauth_refresh_tokens',
    'oauth_authorization_codes',
    'oauth_users',
    'oauth_clients',
    'oauth_signing_keys',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
