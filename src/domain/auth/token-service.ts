import { createHash, randomBytes } from 'node:crypto';
import { badRequest, notFound } from '../../errors.js';
import { findOrganizationsByIds } from '../../store/repositories/organization-repository.js';
import {
  createTokenReads,
  insertToken,
  listTokens,
  revokeToken,
  type TokenReads,
  type TokenRow,
} from '../../store/repositories/token-repository.js';
import type { Store } from '../../store/store.js';
import { newId } from '../ids.js';
import { createTokenCache } from './token-cache.js';

export const SCOPES = ['customers:read', 'customers:write', 'webhooks:manage'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  readonly tokenId: string;
  readonly scopes: ReadonlySet<Scope>;
  readonly organizationIds: readonly string[];
  readonly organizations: ReadonlySet<string>;
}

export interface TokenInfo {
  id: string;
  name?: string;
  scopes: Scope[];
  organizationIds: string[];
  createdAt: string;
  revokedAt?: string;
}

const TOKEN_PREFIX = 'cat_';

/** Tokens are 256-bit random secrets, so an unsalted SHA-256 is a safe way to store and look them up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function parseScopes(raw: string | readonly string[]): Scope[] {
  const parts = (typeof raw === 'string' ? raw.split(',') : raw.flatMap((s) => s.split(',')))
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw badRequest(`scopes must list at least one of ${SCOPES.join(', ')}`);
  for (const part of parts) {
    if (!(SCOPES as readonly string[]).includes(part))
      throw badRequest(`unknown scope "${part}"; scopes are ${SCOPES.join(', ')}`);
  }
  return [...new Set(parts)] as Scope[];
}

/** The distinct organization ids a credential (token, OAuth client, user) is granted; each must exist. */
export async function requireGrantableOrganizations(
  store: Store,
  ids: readonly string[],
  what: string,
): Promise<string[]> {
  const organizationIds = [...new Set(ids)];
  if (organizationIds.length === 0) throw badRequest(`${what} needs at least one organization (--org)`);
  const found = await findOrganizationsByIds(store.db, organizationIds);
  const missing = organizationIds.filter((id) => !found.some((row) => row.id === id));
  if (missing.length > 0) throw notFound(`Organization ${missing.join(', ')}`);
  return organizationIds;
}

function tokenRowToInfo(row: TokenRow): TokenInfo {
  const info: TokenInfo = {
    id: row.id,
    scopes: row.scopes.split(',') as Scope[],
    organizationIds: JSON.parse(row.organization_ids) as string[],
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.name !== null) info.name = row.name;
  if (row.revoked_at !== null) info.revokedAt = new Date(row.revoked_at).toISOString();
  return info;
}

function rowToPrincipal(row: TokenRow): Principal {
  const organizationIds = JSON.parse(row.organization_ids) as string[];
  return {
    tokenId: row.id,
    scopes: new Set(row.scopes.split(',') as Scope[]),
    organizationIds,
    organizations: new Set(organizationIds),
  };
}

export function createTokenService(
  store: Store,
  options: { cacheTtlMs: number; wrapReads?: ((reads: TokenReads) => TokenReads) | undefined },
) {
  const defaultReads = createTokenReads(store);
  const reads = options.wrapReads ? options.wrapReads(defaultReads) : defaultReads;
  const cache = createTokenCache({ ttlMs: options.cacheTtlMs });

  return {
    async createToken(input: {
      organizationIds: readonly string[];
      scopes: readonly Scope[];
      name?: string | undefined;
    }) {
      const organizationIds = await requireGrantableOrganizations(store, input.organizationIds, 'a token');
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const now = Date.now();
      const row: TokenRow = {
        id: newId(now),
        token_hash: hashToken(token),
        name: input.name ?? null,
        scopes: input.scopes.join(','),
        organization_ids: JSON.stringify(organizationIds),
        created_at: now,
        revoked_at: null,
      };
      await insertToken(store.db, row);
      return { token, ...tokenRowToInfo(row) };
    },

    async revokeToken(id: string): Promise<void> {
      if (!(await revokeToken(store.db, id, Date.now()))) throw notFound('Active token');
      // Other processes notice within the cache TTL; this one at once.
      cache.forget(id);
    },

    async listTokens(): Promise<TokenInfo[]> {
      return (await listTokens(store.db)).map(tokenRowToInfo);
    },

    /** What the cache knows of a token (a principal, or null for unknown or revoked); undefined when it must be read. */
    cachedPrincipal: (token: string): Principal | null | undefined => cache.get(token),

    /** The principal a bearer token stands for, or null when it is unknown or revoked. */
    async authenticate(token: string): Promise<Principal | null> {
      const cached = cache.get(token);
      if (cached !== undefined) return cached;
      const row = await reads.findByHash(hashToken(token));
      const principal = row && row.revoked_at === null ? rowToPrincipal(row) : null;
      cache.set(token, principal);
      return principal;
    },
  };
}
export type TokenService = ReturnType<typeof createTokenService>;
