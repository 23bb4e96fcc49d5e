import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import {
  insertSigningKey,
  listAllSigningKeys,
  listPublishedSigningKeys,
  retireSigningKeys,
  type SigningKeyRow,
} from '../../store/repositories/oauth-repository.js';
import type { Store } from '../../store/store.js';
import { newId } from '../ids.js';

/** ECDSA P-256: small keys and signatures, and verification fast enough for the get-a-customer path. */
export const SIGNING_ALG = 'ES256';

export interface PublicJwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  crv?: string;
  x?: string;
  y?: string;
}

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  createdAt: string;
  status: 'signing' | 'retired';
  retiredAt?: string;
  /** When a retired key leaves the JWKS: by then every token it signed has expired. */
  publishedUntil?: string;
}

interface LoadedKeys {
  signing: { kid: string; key: CryptoKey } | undefined;
  verifying: Map<string, CryptoKey>;
  jwks: PublicJwk[];
  loadedAt: number;
}

function keyInfo(row: SigningKeyRow): SigningKeyInfo {
  const info: SigningKeyInfo = {
    kid: row.kid,
    alg: row.alg,
    createdAt: new Date(row.created_at).toISOString(),
    status: row.retired_at === null ? 'signing' : 'retired',
  };
  if (row.retired_at !== null) info.retiredAt = new Date(row.retired_at).toISOString();
  if (row.publish_until !== null) info.publishedUntil = new Date(row.publish_until).toISOString();
  return info;
}

async function newKeyRow(now: number): Promise<SigningKeyRow> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  return {
    kid: newId(now),
    alg: SIGNING_ALG,
    public_jwk: JSON.stringify(await exportJWK(publicKey)),
    private_jwk: JSON.stringify(await exportJWK(privateKey)),
    created_at: now,
    retired_at: null,
    publish_until: null,
  };
}

async function importKey(jwk: string, alg: string): Promise<CryptoKey> {
  return (await importJWK(JSON.parse(jwk) as JWK, alg)) as CryptoKey;
}

/**
 * The issuer's signing keys, kept in the database so every process signs and verifies with the same ones. Each
 * process caches them: the signing key and the JWKS are reloaded every `cacheTtlMs` (so `keys rotate` reaches a
 * running server within that time), and a token whose `kid` is unknown triggers one reload.
 */
export function createSigningKeys(store: Store, options: { cacheTtlMs: number; tokenLifetimeMs: number }) {
  let loaded: LoadedKeys | undefined;
  let inflight: { promise: Promise<LoadedKeys>; generation: number } | undefined;
  let generation = 0;

  async function load(): Promise<LoadedKeys> {
    const now = Date.now();
    let rows = await listPublishedSigningKeys(store.db, now);
    if (!rows.some((row) => row.retired_at === null)) {
      // First start (or every key retired by hand): make one. Two processes racing here both insert a key;
      // both are published and the newer one signs, which is harmless.
      await insertSigningKey(store.db, await newKeyRow(now));
      rows = await listPublishedSigningKeys(store.db, now);
    }
    const verifying = new Map<string, CryptoKey>();
    const jwks: PublicJwk[] = [];
    for (const row of rows) {
      verifying.set(row.kid, await importKey(row.public_jwk, row.alg));
      // Only the public members, whatever else the stored JWK carries.
      const { kty, crv, x, y } = JSON.parse(row.public_jwk) as JWK;
      const jwk: PublicJwk = { kty: kty!, kid: row.kid, alg: row.alg, use: 'sig' };
      if (crv !== undefined) jwk.crv = crv;
      if (x !== undefined) jwk.x = x;
      if (y !== undefined) jwk.y = y;
      jwks.push(jwk);
    }
    const active = rows.find((row) => row.retired_at === null)!;
    loaded = {
      signing: { kid: active.kid, key: await importKey(active.private_jwk, active.alg) },
      verifying,
      jwks,
      loadedAt: now,
    };
    return loaded;
  }

  /** A reload that started after `since` (a generation number): joins one in flight or starts the next. */
  async function reloadAfter(since: number): Promise<LoadedKeys> {
    for (;;) {
      const current = inflight;
      if (current === undefined) {
        const promise = load().finally(() => {
          if (inflight?.promise === promise) inflight = undefined;
        });
        inflight = { promise, generation: ++generation };
        return promise;
      }
      if (current.generation > since) return current.promise;
      await current.promise.catch(() => undefined);
    }
  }

  async function fresh(): Promise<LoadedKeys> {
    if (loaded && Date.now() - loaded.loadedAt < options.cacheTtlMs) return loaded;
    return reloadAfter(generation);
  }

  return {
    async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
      return (await fresh()).signing!;
    },

    async jwks(): Promise<{ keys: PublicJwk[] }> {
      return { keys: (await fresh()).jwks };
    },

    /** The public key for `kid`, or undefined when no published key has it (even after one reload). */
    async verificationKey(kid: string): Promise<CryptoKey | undefined> {
      const since = generation;
      const current = loaded ?? (await fresh());
      const key = current.verifying.get(kid);
      if (key !== undefined) return key;
      return (await reloadAfter(since)).verifying.get(kid);
    },

    async listKeys(): Promise<SigningKeyInfo[]> {
      return (await listAllSigningKeys(store.db)).map(keyInfo);
    },

    /** Creates a new signing key; the previous ones stay in the JWKS until every token they signed has expired. */
    async rotate(): Promise<{ key: SigningKeyInfo; retired: number }> {
      const now = Date.now();
      const row = await newKeyRow(now);
      // A process may keep signing with the old key until its cache expires, hence the extra cacheTtlMs.
      const publishUntil = now + options.tokenLifetimeMs + options.cacheTtlMs;
      const retired = await store.db.transaction().execute(async (trx) => {
        await insertSigningKey(trx, row);
        return retireSigningKeys(trx, row.kid, now, publishUntil);
      });
      loaded = undefined;
      return { key: keyInfo(row), retired };
    },
  };
}
export type SigningKeys = ReturnType<typeof createSigningKeys>;
