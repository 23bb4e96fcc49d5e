import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { basicAuth, createClientWithCli, discover, eventually, type RegisteredClient } from './helpers/oauth.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** openid-client surfaces a 401 with WWW-Authenticate as a challenge error whose response body is unread. */
async function invalidClientError(grant: Promise<unknown>): Promise<unknown> {
  const error = await grant.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
  const challenge = error as client.WWWAuthenticateChallengeError;
  expect(challenge.status).toBe(401);
  expect(challenge.cause[0]?.scheme).toBe('basic');
  return challenge.response.json();
}

// Operator CLI runs (a process each) are slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

await describeEachBackend('OAuth client credentials (openid-client)', (backend) => {
  let server: TestServer;
  let orgA: string;
  let orgB: string;
  let customerA: string;
  let customerB: string;
  let reader: RegisteredClient;

  beforeAll(async () => {
    server = await startTestServer(backend, { ACCESS_TOKEN_TTL_SECONDS: '600' });
    orgA = (await server.createOrganization('Installed')).id;
    orgB = (await server.createOrganization('Not installed')).id;
    customerA = (await server.createCustomer(orgA, { email: 'a@example.com' })).id;
    customerB = (await server.createCustomer(orgB)).id;
    reader = await createClientWithCli(server, [
      '--name',
      'Reader add-on',
      '--org',
      orgA,
      '--scopes',
      'customers:read,webhooks:manage',
    ]);
  }, 60_000);
  afterAll(async () => server?.close());

  const get = (path: string, token: string) => server.request('GET', path, { token });

  it('prints the client id and a secret once, and stores only a hash of the secret', async () => {
    expect(reader.client_id).toMatch(/^[0-9a-z]{26}$/);
    expect(reader.client_secret).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
    expect(reader.token_endpoint_auth_method).toBe('client_secret_basic');
    const row = await server.store.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('id', '=', reader.client_id)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(reader.client_secret);
    expect(JSON.parse(row.organization_ids)).toEqual([orgA]);
    const list = await runCli(['client', 'list', '--json'], { DATABASE_URL: server.databaseUrl });
    const listed = JSON.parse(list.stdout) as { id: string; builtIn: boolean }[];
    expect(listed.map((c) => c.id)).toEqual(['customers-console', reader.client_id]);
    expect(list.stdout).not.toContain(reader.client_secret);
  });

  it('publishes a discovery document that openid-client accepts, and a JWKS without private keys', async () => {
    const config = await discover(server, reader.client_id, client.ClientSecretBasic(reader.client_secret));
    const metadata = config.serverMetadata();
    expect(metadata).toMatchObject({
      issuer: server.baseUrl,
      token_endpoint: `${server.baseUrl}/token`,
      authorization_endpoint: `${server.baseUrl}/authorize`,
      jwks_uri: `${server.baseUrl}/jwks`,
      revocation_endpoint: `${server.baseUrl}/revoke`,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    });
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access', 'customers:read']));
    const jwks = await server.request<{ keys: Record<string, unknown>[] }>('GET', '/jwks');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.body.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
    const stored = await server.store.db.selectFrom('oauth_signing_keys').select('kid').execute();
    expect(jwks.body.keys.map((k) => k.kid)).toEqual(stored.map((k) => k.kid));
  });

  it('issues a JWT with client_secret_basic that reads the installed organization, 403s writes and 404s others', async () => {
    const config = await discover(server, reader.client_id, client.ClientSecretBasic(reader.client_secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'customers:read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    expect(tokens.scope).toBe('customers:read');
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: server.baseUrl,
      sub: reader.client_id,
      aud: server.baseUrl,
      client_id: reader.client_id,
      scope: 'customers:read',
      organizations: [orgA],
      jti: expect.any(String),
    });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    // An independent check of the signature against the published JWKS.
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    await expect(jwtVerify(tokens.access_token, jwks, { issuer: server.baseUrl })).resolves.toBeTruthy();

    const read = await get(`/organizations/${orgA}/customers/${customerA}`, tokens.access_token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: customerA, email: 'a@example.com' });
    const orgs = await get('/organizations', tokens.access_token);
    expect(orgs.status).toBe(200);
    expect((orgs.body as { id: string }[]).map((o) => o.id)).toEqual([orgA]);

    const before = await server.store.db.selectFrom('customers').select('id').execute();
    const write = await server.request('POST', `/organizations/${orgA}/customers`, {
      token: tokens.access_token,
      body: { firstName: 'No', lastName: 'Scope' },
    });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ code: 'forbidden' });
    expect(await server.store.db.selectFrom('customers').select('id').execute()).toEqual(before);

    const other = await get(`/organizations/${orgB}/customers/${customerB}`, tokens.access_token);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 'not_found' });
  });

  it('issues a token with client_secret_post, defaulting to every scope of the client', async () => {
    const config = await discover(server, reader.client_id, client.ClientSecretPost(reader.client_secret));
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.scope).toBe('customers:read webhooks:manage');
    const list = await get(`/organizations/${orgA}/webhooks`, tokens.access_token);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([]);
  });

  it('refuses a wrong secret with invalid_client, 401 and WWW-Authenticate; a scope the client lacks with invalid_scope', async () => {
    const config = await discover(server, reader.client_id, client.ClientSecretBasic('cs_wrong'));
    expect(await invalidClientError(client.clientCredentialsGrant(config))).toEqual({
      error: 'invalid_client',
      error_description: 'Wrong client secret',
    });
    const raw = await fetch(`${server.baseUrl}/token`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(reader.client_id, 'cs_wrong'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(raw.headers.get('cache-control')).toBe('no-store');
    expect(await raw.json()).toEqual({ error: 'invalid_client', error_description: 'Wrong client secret' });

    const good = await discover(server, reader.client_id, client.ClientSecretBasic(reader.client_secret));
    const scopeError = await client
      .clientCredentialsGrant(good, { scope: 'customers:write' })
      .catch((e: unknown) => e as client.ResponseBodyError);
    expect(scopeError).toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('stops a revoked client: its tokens 401 within TOKEN_CACHE_TTL_MS and it gets no new ones', async () => {
    const doomed = await createClientWithCli(server, ['--name', 'Doomed', '--org', orgA, '--scopes', 'customers:read']);
    const config = await discover(server, doomed.client_id, client.ClientSecretBasic(doomed.client_secret));
    const { access_token } = await client.clientCredentialsGrant(config);
    expect((await get(`/organizations/${orgA}/customers/${customerA}`, access_token)).status).toBe(200);
    const revoke = await runCli(['client', 'revoke', doomed.client_id], { DATABASE_URL: server.databaseUrl });
    expect(revoke.code, revoke.stderr).toBe(0);
    const row = await server.store.db
      .selectFrom('oauth_clients')
      .select('revoked_at')
      .where('id', '=', doomed.client_id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).toEqual(expect.any(Number));
    await eventually(
      async () => (await get(`/organizations/${orgA}/customers/${customerA}`, access_token)).status === 401,
      'the revoked client token to be refused',
    );
    const refused = await get(`/organizations/${orgA}/customers/${customerA}`, access_token);
    expect(refused.body).toMatchObject({ code: 'unauthorized' });
    expect(await invalidClientError(client.clientCredentialsGrant(config))).toMatchObject({ error: 'invalid_client' });
  });

  it('revokes a single access token through RFC 7009 /revoke', async () => {
    const config = await discover(server, reader.client_id, client.ClientSecretBasic(reader.client_secret));
    const first = await client.clientCredentialsGrant(config);
    const second = await client.clientCredentialsGrant(config);
    await client.tokenRevocation(config, first.access_token);
    const { jti } = decodeJwt(first.access_token);
    const stored = await server.store.db
      .selectFrom('oauth_revocations')
      .selectAll()
      .where('id', '=', `jti:${jti}`)
      .executeTakeFirst();
    expect(stored).toMatchObject({ kind: 'jti', expires_at: decodeJwt(first.access_token).exp! * 1000 });
    expect((await get(`/organizations/${orgA}/customers/${customerA}`, first.access_token)).status).toBe(401);
    expect((await get(`/organizations/${orgA}/customers/${customerA}`, second.access_token)).status).toBe(200);
    // RFC 7009 2.2: an unknown token is no error.
    await expect(client.tokenRevocation(config, 'not-a-token')).resolves.toBeUndefined();
  });

  it('rotates keys with the CLI: new tokens use the new key, old tokens stay valid, both keys are published', async () => {
    const config = await discover(server, reader.client_id, client.ClientSecretBasic(reader.client_secret));
    const old = await client.clientCredentialsGrant(config);
    const oldKid = decodeProtectedHeader(old.access_token).kid;
    // The CLI reads the same configuration as the server: the retired key stays published for its token lifetime.
    const env = { DATABASE_URL: server.databaseUrl, ACCESS_TOKEN_TTL_SECONDS: '600', TOKEN_CACHE_TTL_MS: '200' };
    const rotated = await runCli(['keys', 'rotate', '--json'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKey = JSON.parse(rotated.stdout) as { kid: string; status: string; retired: number };
    expect(newKey).toMatchObject({ status: 'signing', retired: 1 });
    expect(newKey.kid).not.toBe(oldKid);

    let fresh = '';
    await eventually(async () => {
      fresh = (await client.clientCredentialsGrant(config)).access_token;
      return decodeProtectedHeader(fresh).kid === newKey.kid;
    }, 'the server to sign with the new key');
    expect((await get(`/organizations/${orgA}/customers/${customerA}`, fresh)).status).toBe(200);
    expect((await get(`/organizations/${orgA}/customers/${customerA}`, old.access_token)).status).toBe(200);
    const jwks = await server.request<{ keys: { kid: string }[] }>('GET', '/jwks');
    expect(jwks.body.keys.map((k) => k.kid).sort()).toEqual([oldKid, newKey.kid].sort());
    const list = await runCli(['keys', 'list', '--json'], env);
    const keys = JSON.parse(list.stdout) as { kid: string; status: string; publishedUntil?: string }[];
    expect(keys.find((k) => k.kid === oldKid)).toMatchObject({ status: 'retired', publishedUntil: expect.any(String) });
    expect(keys.find((k) => k.kid === newKey.kid)).toMatchObject({ status: 'signing' });
    // Published for the longest token lifetime plus the cache time, no longer.
    const retiredUntil = Date.parse(keys.find((k) => k.kid === oldKid)!.publishedUntil!);
    expect(retiredUntil - Date.now()).toBeLessThanOrEqual(600_000 + 200);
  });
});

await describeEachBackend('OAuth access token expiry', (backend) => {
  let server: TestServer;
  let orgId: string;
  let customerId: string;
  beforeAll(async () => {
    server = await startTestServer(backend, { ACCESS_TOKEN_TTL_SECONDS: '3' });
    orgId = (await server.createOrganization()).id;
    customerId = (await server.createCustomer(orgId)).id;
  });
  afterAll(async () => server?.close());

  it('honours ACCESS_TOKEN_TTL_SECONDS: the token works, then 401s once expired', async () => {
    const registered = await createClientWithCli(server, [
      '--name',
      'Short',
      '--org',
      orgId,
      '--scopes',
      'customers:read',
    ]);
    const config = await discover(server, registered.client_id, client.ClientSecretPost(registered.client_secret));
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.expires_in).toBe(3);
    const claims = decodeJwt(tokens.access_token);
    expect(claims.exp! - claims.iat!).toBe(3);
    const path = `/organizations/${orgId}/customers/${customerId}`;
    expect((await server.request('GET', path, { token: tokens.access_token })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, claims.exp! * 1000 - Date.now()) + 100));
    const expired = await server.request('GET', path, { token: tokens.access_token });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ code: 'unauthorized' });
  });
});
