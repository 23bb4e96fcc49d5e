import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { listActiveRevocations, listRevokedClientIds } from '../../store/repositories/oauth-repository.js';
import type { Store } from '../../store/store.js';
import { SCOPES, type Principal, type Scope } from '../auth/token-service.js';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.js';

/** RFC 9068: the media type of JWT access tokens, so an ID token can never pass as one. */
const ACCESS_TOKEN_TYP = 'at+jwt';
const CACHE_LIMIT = 10_000;
const MAX_ORGANIZATIONS_CLAIM = 1000;

export interface AccessTokenGrant {
  issuer: string;
  /** The client for client credentials, the user for user tokens. */
  subject: string;
  clientId: string;
  scopes: readonly Scope[];
  organizationIds: readonly string[];
  /** The refresh-token family (one per authorization code), so revoking it also stops its access tokens. */
  familyId?: string | undefined;
}

interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope: string;
  organizations: string[];
  sid?: string;
}

interface Revocations {
  clients: ReadonlySet<string>;
  families: ReadonlySet<string>;
  jtis: ReadonlySet<string>;
  loadedAt: number;
}

interface CachedVerification {
  principal: Principal | null;
  issuer: string;
  /** Epoch ms after which the entry must not be used: the token's exp, or cacheTtlMs for a rejected token. */
  until: number;
  clientId: string;
  jti: string;
  familyId: string | undefined;
}

/** The audience of our access tokens: the API served at the issuer's origin. */
export function apiAudience(issuer: string): string {
  return issuer;
}

export function isJwtLike(token: string): boolean {
  return token.startsWith('eyJ') && token.split('.').length === 3;
}

function parseScopeClaim(scope: unknown): Scope[] | undefined {
  if (typeof scope !== 'string') return undefined;
  return scope.split(' ').filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
}

function parseOrganizationsClaim(organizations: unknown): string[] | undefined {
  if (!Array.isArray(organizations) || organizations.length > MAX_ORGANIZATIONS_CLAIM) return undefined;
  if (!organizations.every((id): id is string => typeof id === 'string')) return undefined;
  return organizations;
}

/**
 * Issues JWT access tokens and ID tokens, and verifies access tokens for the API without a database round trip:
 * keys are cached by `SigningKeys`, verified tokens in memory until they expire, and revocations (revoked clients,
 * refresh-token families, single tokens) come from a snapshot reloaded at most every `cacheTtlMs`.
 */
export function createAccessTokens(
  store: Store,
  keys: SigningKeys,
  options: { cacheTtlMs: number; ttlSeconds: number },
) {
  const cache = new Map<string, CachedVerification>();
  let revocations: Revocations | undefined;
  let loadingRevocations: Promise<Revocations> | undefined;

  async function loadRevocations(): Promise<Revocations> {
    const now = Date.now();
    const [clients, rows] = await Promise.all([listRevokedClientIds(store.db), listActiveRevocations(store.db, now)]);
    const families = new Set<string>();
    const jtis = new Set<string>();
    for (const row of rows) {
      const id = row.id.slice(row.id.indexOf(':') + 1);
      (row.kind === 'family' ? families : jtis).add(id);
    }
    revocations = { clients: new Set(clients), families, jtis, loadedAt: now };
    return revocations;
  }

  function currentRevocations(): Revocations | Promise<Revocations> {
    if (revocations && Date.now() - revocations.loadedAt < options.cacheTtlMs) return revocations;
    loadingRevocations ??= loadRevocations().finally(() => (loadingRevocations = undefined));
    return loadingRevocations;
  }

  function isRevoked(entry: CachedVerification, snapshot: Revocations): boolean {
    return (
      snapshot.clients.has(entry.clientId) ||
      snapshot.jtis.has(entry.jti) ||
      (entry.familyId !== undefined && snapshot.families.has(entry.familyId))
    );
  }

  async function verify(token: string, issuer: string): Promise<CachedVerification> {
    const now = Date.now();
    const rejected: CachedVerification = {
      principal: null,
      issuer,
      until: now + options.cacheTtlMs,
      clientId: '',
      jti: '',
      familyId: undefined,
    };
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      kid = typeof header.kid === 'string' && header.kid.length <= 64 ? header.kid : undefined;
    } catch {
      return rejected;
    }
    if (kid === undefined) return rejected;
    const key = await keys.verificationKey(kid);
    if (key === undefined) return rejected;
    let payload: AccessTokenClaims;
    try {
      ({ payload } = await jwtVerify<AccessTokenClaims>(token, key, {
        algorithms: [SIGNING_ALG],
        issuer,
        audience: apiAudience(issuer),
        typ: ACCESS_TOKEN_TYP,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      }));
    } catch {
      return rejected;
    }
    const scopes = parseScopeClaim(payload.scope);
    const organizationIds = parseOrganizationsClaim(payload.organizations);
    if (scopes === undefined || organizationIds === undefined || typeof payload.client_id !== 'string') return rejected;
    return {
      principal: {
        // One rate-limit budget per client and user, however many tokens they obtain.
        tokenId: `oauth:${payload.client_id}:${payload.sub}`,
        scopes: new Set(scopes),
        organizationIds,
        organizations: new Set(organizationIds),
      },
      issuer,
      until: payload.exp! * 1000,
      clientId: payload.client_id,
      jti: payload.jti!,
      familyId: typeof payload.sid === 'string' ? payload.sid : undefined,
    };
  }

  return {
    ttlSeconds: options.ttlSeconds,

    async issue(grant: AccessTokenGrant): Promise<{ token: string; expiresIn: number; jti: string }> {
      const { kid, key } = await keys.signingKey();
      const jti = randomUUID();
      const claims: AccessTokenClaims = {
        client_id: grant.clientId,
        scope: grant.scopes.join(' '),
        organizations: [...grant.organizationIds],
      };
      if (grant.familyId !== undefined) claims.sid = grant.familyId;
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: ACCESS_TOKEN_TYP })
        .setIssuer(grant.issuer)
        .setSubject(grant.subject)
        .setAudience(apiAudience(grant.issuer))
        .setIssuedAt()
        .setExpirationTime(`${options.ttlSeconds}s`)
        .setJti(jti)
        .sign(key);
      return { token, expiresIn: options.ttlSeconds, jti };
    },

    async issueIdToken(input: {
      issuer: string;
      userId: string;
      clientId: string;
      email: string;
      authTime: number;
      nonce: string | null;
    }): Promise<string> {
      const { kid, key } = await keys.signingKey();
      const claims: JWTPayload & Record<string, unknown> = {
        auth_time: Math.floor(input.authTime / 1000),
        azp: input.clientId,
        email: input.email,
      };
      if (input.nonce !== null) claims.nonce = input.nonce;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'JWT' })
        .setIssuer(input.issuer)
        .setSubject(input.userId)
        .setAudience(input.clientId)
        .setIssuedAt()
        .setExpirationTime(`${options.ttlSeconds}s`)
        .sign(key);
    },

    /**
     * The claims of a genuine access token issued by `issuer`, expired or not (RFC 7009 lets a client revoke
     * one it holds), or undefined.
     */
    async inspect(token: string, issuer: string): Promise<{ clientId: string; jti: string; exp: number } | undefined> {
      if (!isJwtLike(token)) return undefined;
      try {
        const kid = decodeProtectedHeader(token).kid;
        if (typeof kid !== 'string') return undefined;
        const key = await keys.verificationKey(kid);
        if (key === undefined) return undefined;
        const { payload } = await jwtVerify<AccessTokenClaims>(token, key, {
          algorithms: [SIGNING_ALG],
          issuer,
          audience: apiAudience(issuer),
          typ: ACCESS_TOKEN_TYP,
          // Any age: an expired token is revoked trivially, and its row is pruned at once.
          currentDate: new Date(0),
        });
        if (typeof payload.client_id !== 'string' || payload.jti === undefined || payload.exp === undefined)
          return undefined;
        return { clientId: payload.client_id, jti: payload.jti, exp: payload.exp };
      } catch {
        return undefined;
      }
    },

    /** The principal of a valid, unrevoked access token issued by `issuer`, or null. */
    async authenticate(token: string, issuer: string): Promise<Principal | null> {
      const now = Date.now();
      let entry = cache.get(token);
      if (entry === undefined || entry.until <= now || entry.issuer !== issuer) {
        entry = await verify(token, issuer);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(token, entry);
      }
      if (entry.principal === null || entry.until <= now) return null;
      const snapshot = await currentRevocations();
      return isRevoked(entry, snapshot) ? null : entry.principal;
    },

    /** Makes this process see a revocation it just wrote at once, instead of after cacheTtlMs. */
    invalidateRevocations(): void {
      revocations = undefined;
    },
  };
}
export type AccessTokens = ReturnType<typeof createAccessTokens>;
