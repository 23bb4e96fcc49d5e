import { createHash, randomBytes } from 'node:crypto';
import {
  consumeAuthorizationCode,
  deleteExpiredAuthorizationCodes,
  deleteExpiredRevocations,
  deleteRefreshTokenFamily,
  findAuthorizationCode,
  findRefreshToken,
  insertRefreshToken,
  insertRevocation,
  rotateRefreshToken,
  type RefreshTokenRow,
} from '../../store/repositories/oauth-repository.js';
import type { Store } from '../../store/store.js';
import { SCOPES, type Scope } from '../auth/token-service.js';
import { newId } from '../ids.js';
import type { AccessTokens } from './access-tokens.js';
import type { ClientCredentials, ClientService, OAuthClient } from './clients.js';
import {
  invalidClient,
  invalidGrant,
  invalidRequest,
  invalidScope,
  OAuthError,
  unauthorizedClient,
  unsupportedGrantType,
} from './oauth-errors.js';
import { parseScopeParameter, wantsRefreshToken } from './scopes.js';
import type { OperatorUser, UserService } from './users.js';

export type FormParams = Readonly<Record<string, string>>;

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replaceAll('+', ' '));
}

/** RFC 6749 2.3.1: HTTP Basic with the form-encoded client id and secret, or both in the body; never both ways. */
export function clientCredentialsFrom(params: FormParams, authorization: string | undefined): ClientCredentials {
  if (authorization !== undefined) {
    const match = /^Basic\s+([A-Za-z0-9+/=]{1,2048})\s*$/i.exec(authorization);
    if (!match) throw invalidClient('The Authorization header must be HTTP Basic with the client id and secret');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('The Basic credentials must be client_id:client_secret');
    let clientId: string;
    let clientSecret: string;
    try {
      clientId = decodeFormComponent(decoded.slice(0, colon));
      clientSecret = decodeFormComponent(decoded.slice(colon + 1));
    } catch {
      throw invalidClient('The Basic credentials are not form-encoded');
    }
    if (params.client_secret !== undefined)
      throw invalidRequest('Authenticate the client one way only: HTTP Basic or client_secret in the body');
    if (params.client_id !== undefined && params.client_id !== clientId)
      throw invalidRequest('client_id in the body differs from the one in the Authorization header');
    return { clientId, clientSecret };
  }
  if (params.client_id === undefined) throw invalidClient('No client authentication was given');
  return { clientId: params.client_id, clientSecret: params.client_secret };
}

function required(params: FormParams, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw invalidRequest(`${name} is required`);
  return value;
}

/** The token (RFC 6749 section 3.2) and revocation (RFC 7009) endpoints. */
export function createTokenEndpoint(deps: {
  store: Store;
  clients: ClientService;
  users: UserService;
  accessTokens: AccessTokens;
  refreshTokenTtlSeconds: number;
}) {
  const { store, clients, users, accessTokens } = deps;

  async function revokeFamily(familyId: string): Promise<void> {
    const now = Date.now();
    // Its access tokens live at most one access-token lifetime from now; the row can go after that.
    await insertRevocation(store.db, {
      id: `family:${familyId}`,
      kind: 'family',
      revoked_at: now,
      expires_at: now + accessTokens.ttlSeconds * 1000,
    });
    await deleteRefreshTokenFamily(store.db, familyId);
    accessTokens.invalidateRevocations();
  }

  async function userTokens(input: {
    issuer: string;
    client: OAuthClient;
    user: OperatorUser;
    scope: string[];
    organizationIds: string[];
    familyId: string;
    authTime: number;
    nonce: string | null;
    trx?: Store['db'];
  }): Promise<TokenResponse> {
    const apiScopes = SCOPES.filter((s) => input.scope.includes(s));
    const access = await accessTokens.issue({
      issuer: input.issuer,
      subject: input.user.id,
      clientId: input.client.id,
      scopes: apiScopes,
      organizationIds: input.organizationIds,
      familyId: input.familyId,
    });
    const response: TokenResponse = {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope: input.scope.join(' '),
    };
    if (wantsRefreshToken(input.scope)) {
      const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
      const now = Date.now();
      const row: RefreshTokenRow = {
        token_hash: hashOpaqueToken(refreshToken),
        family_id: input.familyId,
        client_id: input.client.id,
        user_id: input.user.id,
        scope: input.scope.join(' '),
        organization_ids: JSON.stringify(input.organizationIds),
        auth_time: input.authTime,
        created_at: now,
        expires_at: now + deps.refreshTokenTtlSeconds * 1000,
        rotated_at: null,
      };
      await insertRefreshToken(input.trx ?? store.db, row);
      response.refresh_token = refreshToken;
    }
    if (input.scope.includes('openid')) {
      response.id_token = await accessTokens.issueIdToken({
        issuer: input.issuer,
        userId: input.user.id,
        clientId: input.client.id,
        email: input.user.email,
        authTime: input.authTime,
        nonce: input.nonce,
      });
    }
    return response;
  }

  async function clientCredentialsGrant(params: FormParams, client: OAuthClient, issuer: string) {
    if (client.public || client.organizationIds === 'user')
      throw unauthorizedClient('A public client cannot use the client_credentials grant');
    let scopes: Scope[] = client.scopes;
    if (params.scope !== undefined) {
      const requested = parseScopeParameter(params.scope);
      if ('unknown' in requested) throw invalidScope(`Unknown scope "${requested.unknown}"`);
      if (requested.oidc.length > 0)
        throw invalidScope(`${requested.oidc.join(', ')} is for user sign-in, not client credentials`);
      const missing = requested.api.filter((s) => !client.scopes.includes(s));
      if (missing.length > 0) throw invalidScope(`The client is not granted ${missing.join(', ')}`);
      if (requested.api.length > 0) scopes = requested.api;
    }
    const access = await accessTokens.issue({
      issuer,
      subject: client.id,
      clientId: client.id,
      scopes,
      organizationIds: client.organizationIds,
    });
    const response: TokenResponse = {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope: scopes.join(' '),
    };
    return response;
  }

  async function authorizationCodeGrant(params: FormParams, client: OAuthClient, issuer: string) {
    const code = required(params, 'code');
    const redirectUri = required(params, 'redirect_uri');
    const verifier = params.code_verifier;
    if (verifier === undefined || verifier === '')
      throw invalidRequest('code_verifier is required (PKCE with S256 is mandatory)');
    if (!VERIFIER.test(verifier)) throw invalidRequest('code_verifier must be 43 to 128 unreserved characters');
    const now = Date.now();
    const codeHash = hashOpaqueToken(code);
    const row = await findAuthorizationCode(store.db, codeHash);
    if (row === undefined || row.client_id !== client.id) throw invalidGrant('The authorization code is invalid');
    if (row.used_at !== null) {
      // RFC 6749 4.1.2: a replayed code revokes what it was exchanged for.
      if (row.family_id !== null) await revokeFamily(row.family_id);
      throw invalidGrant('The authorization code was already used');
    }
    if (row.expires_at <= now) throw invalidGrant('The authorization code has expired');
    if (row.redirect_uri !== redirectUri) throw invalidGrant('redirect_uri differs from the authorization request');
    if (s256(verifier) !== row.code_challenge) throw invalidGrant('code_verifier does not match the code_challenge');
    const user = await users.findUser(row.user_id);
    if (user === undefined) throw invalidGrant('The user no longer exists');
    const familyId = newId(now);
    if (!(await consumeAuthorizationCode(store.db, codeHash, familyId, now)))
      throw invalidGrant('The authorization code was already used');
    await deleteExpiredAuthorizationCodes(store.db, now - 3600_000);
    return userTokens({
      issuer,
      client,
      user,
      scope: row.scope.split(' ').filter(Boolean),
      organizationIds: JSON.parse(row.organization_ids) as string[],
      familyId,
      authTime: row.auth_time,
      nonce: row.nonce,
    });
  }

  async function refreshTokenGrant(params: FormParams, client: OAuthClient, issuer: string) {
    const presented = required(params, 'refresh_token');
    const now = Date.now();
    const tokenHash = hashOpaqueToken(presented);
    const row = await findRefreshToken(store.db, tokenHash);
    if (row === undefined || row.client_id !== client.id) throw invalidGrant('The refresh token is invalid or revoked');
    if (row.rotated_at !== null) {
      // Reuse of a rotated token means it leaked (OAuth 2.0 Security BCP 4.14.2): end the whole family.
      await revokeFamily(row.family_id);
      throw invalidGrant('The refresh token was already used; its family is revoked');
    }
    if (row.expires_at <= now) throw invalidGrant('The refresh token has expired');
    const granted = row.scope.split(' ').filter(Boolean);
    let scope = granted;
    if (params.scope !== undefined) {
      const requested = parseScopeParameter(params.scope);
      if ('unknown' in requested) throw invalidScope(`Unknown scope "${requested.unknown}"`);
      const asked: string[] = [...requested.oidc, ...requested.api];
      const extra = asked.filter((s) => !granted.includes(s));
      if (extra.length > 0) throw invalidScope(`The refresh token does not grant ${extra.join(', ')}`);
      // The refresh token itself keeps the offline scope, or the next refresh would have no token to use.
      scope = granted.filter((s) => asked.includes(s) || s === 'offline_access' || s === 'offline');
    }
    const user = await users.findUser(row.user_id);
    if (user === undefined) throw invalidGrant('The user no longer exists');
    const response = await store.db.transaction().execute(async (trx) => {
      if (!(await rotateRefreshToken(trx, tokenHash, now))) return undefined;
      return userTokens({
        issuer,
        client,
        user,
        scope,
        organizationIds: JSON.parse(row.organization_ids) as string[],
        familyId: row.family_id,
        authTime: row.auth_time,
        nonce: null,
        trx,
      });
    });
    if (response === undefined) {
      await revokeFamily(row.family_id);
      throw invalidGrant('The refresh token was already used; its family is revoked');
    }
    return response;
  }

  return {
    async token(params: FormParams, authorization: string | undefined, issuer: string): Promise<TokenResponse> {
      const grantType = required(params, 'grant_type');
      const client = await clients.authenticateClient(clientCredentialsFrom(params, authorization), issuer);
      switch (grantType) {
        case 'client_credentials':
          return clientCredentialsGrant(params, client, issuer);
        case 'authorization_code':
          return authorizationCodeGrant(params, client, issuer);
        case 'refresh_token':
          return refreshTokenGrant(params, client, issuer);
        default:
          throw unsupportedGrantType(grantType);
      }
    },

    /** RFC 7009: revokes a refresh token (with its family) or an access token the client holds. */
    async revoke(params: FormParams, authorization: string | undefined, issuer: string): Promise<void> {
      const client = await clients.authenticateClient(clientCredentialsFrom(params, authorization), issuer);
      const token = required(params, 'token');
      const refresh = await findRefreshToken(store.db, hashOpaqueToken(token));
      if (refresh !== undefined) {
        if (refresh.client_id !== client.id)
          throw new OAuthError('unauthorized_client', 'The token was issued to another client');
        await revokeFamily(refresh.family_id);
        return;
      }
      const access = await accessTokens.inspect(token, issuer);
      if (access === undefined) return; // RFC 7009 2.2: an invalid token is not an error.
      if (access.clientId !== client.id)
        throw new OAuthError('unauthorized_client', 'The token was issued to another client');
      const now = Date.now();
      await deleteExpiredRevocations(store.db, now);
      if (access.exp * 1000 > now) {
        await insertRevocation(store.db, {
          id: `jti:${access.jti}`,
          kind: 'jti',
          revoked_at: now,
          expires_at: access.exp * 1000,
        });
        accessTokens.invalidateRevocations();
      }
    },
  };
}
export type TokenEndpoint = ReturnType<typeof createTokenEndpoint>;
