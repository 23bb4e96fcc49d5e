import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest, notFound } from '../../errors.js';
import {
  findClientById,
  insertClient,
  listClients,
  revokeClient,
  type ClientRow,
} from '../../store/repositories/oauth-repository.js';
import type { Store } from '../../store/store.js';
import { requireGrantableOrganizations, SCOPES, type Scope } from '../auth/token-service.js';
import { newId } from '../ids.js';
import { invalidClient } from './oauth-errors.js';

/** The operator console (served at /console) signs in as this built-in public client. */
export const CONSOLE_CLIENT_ID = 'customers-console';
export const CONSOLE_REDIRECT_PATHS = ['/console/callback', '/console/'] as const;

export interface OAuthClient {
  id: string;
  name: string;
  /** Public clients (token_endpoint_auth_method none) have no secret and must use PKCE. */
  public: boolean;
  scopes: Scope[];
  /** The organizations installed for the client; `user` for the console: whatever the signed-in user may see. */
  organizationIds: string[] | 'user';
  redirectUris: string[];
  builtIn: boolean;
  createdAt?: string;
  revokedAt?: string;
}

const SECRET_PREFIX = 'cs_';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function hashSecret(secret: string): Buffer {
  // Secrets are 256-bit random strings, so an unsalted SHA-256 is safe (the same reasoning as API tokens).
  return createHash('sha256').update(secret).digest();
}

/** RFC 8252 / OAuth 2.0 Security BCP: absolute, no fragment, https unless the host is a loopback address. */
export function validateRedirectUri(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`redirect URI "${raw}" is not an absolute URL`);
  }
  if (raw.length > 2000) throw badRequest('a redirect URI has at most 2000 characters');
  if (url.hash !== '' || raw.includes('#')) throw badRequest(`redirect URI "${raw}" must not have a fragment`);
  if (url.username !== '' || url.password !== '') throw badRequest(`redirect URI "${raw}" must not carry credentials`);
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw badRequest(`redirect URI "${raw}" must be https (http only for 127.0.0.1, [::1] or localhost)`);
  return raw;
}

function rowToClient(row: ClientRow): OAuthClient {
  const client: OAuthClient = {
    id: row.id,
    name: row.name,
    public: row.secret_hash === null,
    scopes: row.scopes.split(',') as Scope[],
    organizationIds: JSON.parse(row.organization_ids) as string[],
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    builtIn: false,
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.revoked_at !== null) client.revokedAt = new Date(row.revoked_at).toISOString();
  return client;
}

export function consoleClient(issuer: string): OAuthClient {
  return {
    id: CONSOLE_CLIENT_ID,
    name: 'Customers console',
    public: true,
    scopes: [...SCOPES],
    organizationIds: 'user',
    redirectUris: CONSOLE_REDIRECT_PATHS.map((path) => `${issuer}${path}`),
    builtIn: true,
  };
}

export interface ClientCredentials {
  clientId: string;
  /** Undefined for a public client (token_endpoint_auth_method none). */
  clientSecret: string | undefined;
}

export function createClientService(store: Store) {
  async function findActive(id: string, issuer: string): Promise<{ client: OAuthClient; row?: ClientRow } | undefined> {
    if (id === CONSOLE_CLIENT_ID) return { client: consoleClient(issuer) };
    if (id.length > 64) return undefined;
    const row = await findClientById(store.db, id);
    if (row === undefined || row.revoked_at !== null) return undefined;
    return { client: rowToClient(row), row };
  }

  return {
    async createClient(input: {
      name: string;
      organizationIds: readonly string[];
      scopes: readonly Scope[];
      redirectUris: readonly string[];
      public: boolean;
    }): Promise<OAuthClient & { clientSecret?: string }> {
      const name = input.name.trim();
      if (name === '' || name.length > 200) throw badRequest('a client needs a --name of 1 to 200 characters');
      const organizationIds = await requireGrantableOrganizations(store, input.organizationIds, 'a client');
      const redirectUris = [...new Set(input.redirectUris.map(validateRedirectUri))];
      if (input.public && redirectUris.length === 0)
        throw badRequest('a public client signs users in, so it needs at least one --redirect-uri');
      const secret = input.public ? undefined : `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
      const now = Date.now();
      const row: ClientRow = {
        id: newId(now).toLowerCase(),
        name,
        secret_hash: secret === undefined ? null : hashSecret(secret).toString('hex'),
        scopes: input.scopes.join(','),
        organization_ids: JSON.stringify(organizationIds),
        redirect_uris: JSON.stringify(redirectUris),
        created_at: now,
        revoked_at: null,
      };
      await insertClient(store.db, row);
      const client = rowToClient(row);
      return secret === undefined ? client : { ...client, clientSecret: secret };
    },

    async listClients(): Promise<OAuthClient[]> {
      return (await listClients(store.db)).map(rowToClient);
    },

    async revokeClient(id: string): Promise<void> {
      if (id === CONSOLE_CLIENT_ID) throw badRequest('the built-in console client cannot be revoked');
      if (!(await revokeClient(store.db, id, Date.now()))) throw notFound('Active client');
    },

    /** An active client by id (for /authorize), or undefined. */
    async findClient(id: string, issuer: string): Promise<OAuthClient | undefined> {
      return (await findActive(id, issuer))?.client;
    },

    /**
     * Client authentication at the token and revocation endpoints (RFC 6749 2.3): a confidential client must
     * present its secret; a public client only its id.
     */
    async authenticateClient(credentials: ClientCredentials, issuer: string): Promise<OAuthClient> {
      const found = await findActive(credentials.clientId, issuer);
      if (found === undefined) throw invalidClient('Unknown or revoked client');
      const { client, row } = found;
      if (client.public) {
        if (credentials.clientSecret !== undefined) throw invalidClient('A public client has no secret');
        return client;
      }
      if (credentials.clientSecret === undefined) throw invalidClient('The client secret is required');
      const expected = Buffer.from(row!.secret_hash!, 'hex');
      if (!timingSafeEqual(hashSecret(credentials.clientSecret), expected)) throw invalidClient('Wrong client secret');
      return client;
    },
  };
}
export type ClientService = ReturnType<typeof createClientService>;
