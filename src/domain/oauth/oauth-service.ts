import type { Store } from '../../store/store.js';
import { createAccessTokens } from './access-tokens.js';
import { createAuthorization } from './authorization.js';
import { createClientService } from './clients.js';
import { createSigningKeys } from './signing-keys.js';
import { createTokenEndpoint } from './token-endpoint.js';
import { createUserService } from './users.js';

export interface OAuthOptions {
  cacheTtlMs: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signInMaxFailuresPerAccount: number;
  signInMaxFailuresPerAddress: number;
}

/** The OpenID Connect issuer: signing keys, clients, operator users, tokens and the authorization step. */
export function createOAuthServices(store: Store, options: OAuthOptions) {
  const keys = createSigningKeys(store, {
    cacheTtlMs: options.cacheTtlMs,
    tokenLifetimeMs: options.accessTokenTtlSeconds * 1000,
  });
  const accessTokens = createAccessTokens(store, keys, {
    cacheTtlMs: options.cacheTtlMs,
    ttlSeconds: options.accessTokenTtlSeconds,
  });
  const clients = createClientService(store);
  const users = createUserService(store, {
    maxFailuresPerAccount: options.signInMaxFailuresPerAccount,
    maxFailuresPerAddress: options.signInMaxFailuresPerAddress,
  });
  return {
    keys,
    accessTokens,
    clients,
    users,
    tokenEndpoint: createTokenEndpoint({
      store,
      clients,
      users,
      accessTokens,
      refreshTokenTtlSeconds: options.refreshTokenTtlSeconds,
    }),
    authorization: createAuthorization({ store, clients, keys, users }),
  };
}
export type OAuthServices = ReturnType<typeof createOAuthServices>;
