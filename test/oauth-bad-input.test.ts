import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { basicAuth, createClientWithCli, type RegisteredClient } from './helpers/oauth.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const FORM = 'application/x-www-form-urlencoded';

// Operator CLI runs (a process each) are slow on a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

await describeEachBackend('OAuth bad input', (backend) => {
  let server: TestServer;
  let orgId: string;
  let customerId: string;
  let registered: RegisteredClient;
  let auth: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    orgId = (await server.createOrganization()).id;
    customerId = (await server.createCustomer(orgId)).id;
    registered = await createClientWithCli(server, ['--name', 'Add-on', '--org', orgId, '--scopes', 'customers:read']);
    auth = basicAuth(registered.client_id, registered.client_secret!);
  }, 60_000);
  afterAll(async () => server?.close());

  async function storedState() {
    const db = server.store.db;
    return {
      revocations: await db.selectFrom('oauth_revocations').selectAll().execute(),
      refresh: await db.selectFrom('oauth_refresh_tokens').selectAll().execute(),
      codes: await db.selectFrom('oauth_authorization_codes').selectAll().execute(),
      clients: await db.selectFrom('oauth_clients').selectAll().execute(),
    };
  }

  async function post(path: string, body: string, headers: Record<string, string>) {
    const response = await fetch(`${server.baseUrl}${path}`, { method: 'POST', headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as unknown };
  }

  const tokenCases: [string, string, Record<string, string>, string, number][] = [
    [
      'a JSON body',
      '{"grant_type":"client_credentials"}',
      { 'content-type': 'application/json' },
      'invalid_request',
      400,
    ],
    ['a text body', 'grant_type=client_credentials', { 'content-type': 'text/plain' }, 'invalid_request', 400],
    ['no body at all', '', {}, 'invalid_request', 400],
    ['broken percent-encoding', 'grant_type=%ZZ', { 'content-type': FORM }, 'invalid_request', 400],
    [
      'a repeated parameter',
      'grant_type=client_credentials&grant_type=refresh_token',
      { 'content-type': FORM },
      'invalid_request',
      400,
    ],
    [
      'a control character',
      'grant_type=client_credentials&scope=a%00b',
      { 'content-type': FORM },
      'invalid_request',
      400,
    ],
    [
      'an oversized field',
      `grant_type=client_credentials&scope=${'x'.repeat(2000)}`,
      { 'content-type': FORM },
      'invalid_request',
      400,
    ],
    [
      'an oversized body',
      `grant_type=client_credentials&pad=${'x'.repeat(20_000)}`,
      { 'content-type': FORM },
      'invalid_request',
      400,
    ],
    [
      'an unknown grant type',
      'grant_type=password&username=a&password=b',
      { 'content-type': FORM },
      'unsupported_grant_type',
      400,
    ],
    ['an unknown scope', 'grant_type=client_credentials&scope=admin', { 'content-type': FORM }, 'invalid_scope', 400],
    [
      'a code grant without a code',
      'grant_type=authorization_code&redirect_uri=x',
      { 'content-type': FORM },
      'invalid_request',
      400,
    ],
    [
      'an unknown code',
      `grant_type=authorization_code&code=abc&redirect_uri=x&code_verifier=${'a'.repeat(43)}`,
      { 'content-type': FORM },
      'invalid_grant',
      400,
    ],
    [
      'an unknown refresh token',
      'grant_type=refresh_token&refresh_token=rt_nope',
      { 'content-type': FORM },
      'invalid_grant',
      400,
    ],
  ];
  for (const [name, body, headers, error, status] of tokenCases) {
    it(`answers ${error} to /token with ${name}, and stores nothing`, async () => {
      const before = await storedState();
      const response = await post('/token', body, { authorization: auth, ...headers });
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error, error_description: expect.any(String) });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await storedState()).toEqual(before);
    });
  }

  it('answers invalid_request to /token and /revoke with broken percent-encoding in the query, never a 500', async () => {
    for (const path of ['/token?x=%ZZ', '/revoke?x=%ZZ']) {
      const response = await post(path, 'grant_type=client_credentials&token=t', {
        authorization: auth,
        'content-type': FORM,
      });
      expect(response.status, path).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    }
  });

  const clientCases: [string, Record<string, string>, string][] = [
    ['no client authentication', {}, 'grant_type=client_credentials'],
    ['garbage Basic credentials', { authorization: 'Basic !!!' }, 'grant_type=client_credentials'],
    [
      'Basic without a colon',
      { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` },
      'grant_type=client_credentials',
    ],
    ['a Bearer header', { authorization: 'Bearer abc' }, 'grant_type=client_credentials'],
    ['an unknown client', {}, 'grant_type=client_credentials&client_id=unknown&client_secret=x'],
    ['an overlong client id', {}, `grant_type=client_credentials&client_id=${'a'.repeat(200)}&client_secret=x`],
  ];
  for (const [name, headers, body] of clientCases) {
    it(`answers invalid_client (401, WWW-Authenticate) to ${name}`, async () => {
      const response = await post('/token', body, { 'content-type': FORM, ...headers });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: 'invalid_client' });
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    });
  }

  it('refuses two client authentication methods at once', async () => {
    const response = await post('/token', `grant_type=client_credentials&client_secret=${registered.client_secret!}`, {
      'content-type': FORM,
      authorization: auth,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request' });
  });

  it('answers /revoke without a token with invalid_request, and with a bad client with invalid_client', async () => {
    const missing = await post('/revoke', '', { 'content-type': FORM, authorization: auth });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'invalid_request' });
    const bad = await post('/revoke', 'token=x', { 'content-type': FORM, authorization: basicAuth('nobody', 'x') });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ error: 'invalid_client' });
  });

  it('keeps the API error body on every other route: a form body there is a 415', async () => {
    const response = await post(`/organizations/${orgId}/customers`, 'firstName=A', {
      'content-type': FORM,
      authorization: 'Bearer cat_whatever',
    });
    expect([401, 415]).toContain(response.status);
    expect(response.body).toMatchObject({ code: expect.any(String), instance: expect.any(String) });
  });

  describe('tampered JWTs on the API', () => {
    let kid: string;
    let privateKey: CryptoKey;
    const path = () => `/organizations/${orgId}/customers/${customerId}`;
    const claims = () => ({ client_id: registered.client_id, scope: 'customers:read', organizations: [orgId] });

    beforeAll(async () => {
      // A genuine token first, so the signing key exists; then sign tokens with the real key to vary one claim.
      const ok = await post('/token', 'grant_type=client_credentials', { 'content-type': FORM, authorization: auth });
      expect(ok.status).toBe(200);
      const row = await server.store.db
        .selectFrom('oauth_signing_keys')
        .selectAll()
        .where('retired_at', 'is', null)
        .executeTakeFirstOrThrow();
      kid = row.kid;
      privateKey = (await importJWK(JSON.parse(row.private_jwk) as JWK, 'ES256')) as CryptoKey;
    });

    function sign(
      key: CryptoKey,
      overrides: { iss?: string; aud?: string; exp?: number; typ?: string; kid?: string } = {},
      payload: Record<string, unknown> = claims(),
    ) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid: overrides.kid ?? kid, typ: overrides.typ ?? 'at+jwt' })
        .setIssuer(overrides.iss ?? server.baseUrl)
        .setAudience(overrides.aud ?? server.baseUrl)
        .setSubject(registered.client_id)
        .setIssuedAt(now - 10)
        .setExpirationTime(overrides.exp ?? now + 600)
        .setJti(`t-${Math.random()}`)
        .sign(key);
    }

    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    it('accepts a token signed with the real key (the control case)', async () => {
      const response = await server.request('GET', path(), { token: await sign(privateKey) });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: customerId });
    });

    const cases: [string, () => Promise<string>][] = [
      [
        'alg none',
        async () => {
          const now = Math.floor(Date.now() / 1000);
          const body = {
            ...claims(),
            iss: server.baseUrl,
            aud: server.baseUrl,
            sub: 'x',
            iat: now,
            exp: now + 600,
            jti: 'n',
          };
          return `${b64({ alg: 'none', kid, typ: 'at+jwt' })}.${b64(body)}.`;
        },
      ],
      ['a key that is not ours, under our kid', async () => sign((await generateKeyPair('ES256')).privateKey)],
      [
        'HS256 keyed with our public key',
        async () => {
          const row = await server.store.db
            .selectFrom('oauth_signing_keys')
            .select('public_jwk')
            .executeTakeFirstOrThrow();
          return new SignJWT(claims())
            .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
            .setIssuer(server.baseUrl)
            .setAudience(server.baseUrl)
            .setSubject('x')
            .setIssuedAt()
            .setExpirationTime('10m')
            .setJti('h')
            .sign(new TextEncoder().encode(row.public_jwk));
        },
      ],
      ['an expired token', async () => sign(privateKey, { exp: Math.floor(Date.now() / 1000) - 5 })],
      ['another audience', async () => sign(privateKey, { aud: 'https://api.example.com' })],
      ['another issuer', async () => sign(privateKey, { iss: 'https://auth.example.com' })],
      ['an ID token (typ JWT)', async () => sign(privateKey, { typ: 'JWT' })],
      ['an unknown kid', async () => sign(privateKey, { kid: 'unknown-kid' })],
      [
        'a payload edited after signing',
        async () => {
          const [header, , signature] = (await sign(privateKey)).split('.');
          const other = (await server.createOrganization()).id;
          return `${header}.${b64({ ...claims(), organizations: [orgId, other] })}.${signature}`;
        },
      ],
      [
        'organizations that are not a list of ids',
        async () => sign(privateKey, {}, { ...claims(), organizations: orgId }),
      ],
      ['a truncated token', async () => (await sign(privateKey)).slice(0, -20)],
      ['JWT-shaped garbage', async () => 'eyJhbGciOi.eyJzdWIi.c2ln'],
    ];
    for (const [name, make] of cases) {
      it(`answers 401 with our error body to ${name}`, async () => {
        const token = await make();
        const response = await server.request('GET', path(), { token });
        expect(response.status).toBe(401);
        expect(response.body).toMatchObject({ code: 'unauthorized', instance: expect.any(String) });
      });
    }

    it('refuses a JWT used for an organization it does not grant with a 404, as a static token would', async () => {
      const other = await server.createOrganization();
      const response = await server.request('GET', `/organizations/${other.id}/customers`, {
        token: await sign(privateKey),
      });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ code: 'not_found' });
    });
  });

  describe('/authorize', () => {
    const client = () => registered.client_id;
    const query = (params: Record<string, string>) => new URLSearchParams(params).toString();
    const valid = () => ({
      response_type: 'code',
      client_id: client(),
      redirect_uri: 'http://127.0.0.1:9/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const csrf = 'B'.repeat(43);
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${server.baseUrl}${path}`, { ...init, redirect: 'manual' });
    const withCookie = { 'content-type': FORM, cookie: `authorize_csrf=${csrf}` };

    const cases: [string, () => Promise<Response>, number, string][] = [
      ['no parameters', () => call(`/authorize`), 400, 'client_id is missing'],
      ['a repeated parameter', () => call(`/authorize?client_id=a&client_id=b`), 400, 'The request is malformed'],
      ['broken percent-encoding', () => call(`/authorize?state=%ZZ`), 400, 'The request is malformed'],
      [
        'an oversized client_id',
        () => call(`/authorize?${query({ client_id: 'x'.repeat(65) })}`),
        400,
        'client_id is too long',
      ],
      [
        'an oversized redirect_uri',
        () => call(`/authorize?${query({ ...valid(), redirect_uri: `https://a.example/${'x'.repeat(3000)}` })}`),
        400,
        'redirect_uri is too long',
      ],
      [
        'a redirect_uri the client never registered',
        () => call(`/authorize?${query(valid())}`),
        400,
        'redirect_uri is not registered for this application',
      ],
      [
        'a JSON body',
        () =>
          call(`/authorize`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(valid()),
          }),
        400,
        'The request is malformed',
      ],
      [
        'a text body',
        () => call(`/authorize`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: query(valid()) }),
        400,
        'The request is malformed',
      ],
      [
        'an oversized form',
        () =>
          call(`/authorize`, {
            method: 'POST',
            headers: { 'content-type': FORM },
            body: `state=${'x'.repeat(20_000)}`,
          }),
        400,
        'The request is malformed',
      ],
      [
        'a sign-in form without the CSRF cookie',
        () =>
          call(`/authorize`, {
            method: 'POST',
            headers: { 'content-type': FORM },
            body: query({ ...valid(), step: 'sign_in', csrf, email: 'a@example.com', password: 'x'.repeat(12) }),
          }),
        403,
        'This form has expired',
      ],
      [
        'a sign-in form whose CSRF token differs from the cookie',
        () =>
          call(`/authorize`, {
            method: 'POST',
            headers: withCookie,
            body: query({
              ...valid(),
              step: 'sign_in',
              csrf: 'C'.repeat(43),
              email: 'a@example.com',
              password: 'x'.repeat(12),
            }),
          }),
        403,
        'This form has expired',
      ],
      [
        'a consent form with a forged ticket for an unregistered redirect_uri',
        () =>
          call(`/authorize`, {
            method: 'POST',
            headers: withCookie,
            body: query({ ...valid(), step: 'consent', csrf, ticket: 'eyJ.eyJ.sig', decision: 'allow' }),
          }),
        400,
        'redirect_uri is not registered for this application',
      ],
      [
        'an unknown step',
        () =>
          call(`/authorize`, {
            method: 'POST',
            headers: withCookie,
            body: query({ ...valid(), step: 'approve', csrf }),
          }),
        400,
        'The form is incomplete',
      ],
    ];
    for (const [name, send, status, message] of cases) {
      it(`shows ${status} as an HTML page for ${name}, redirects nowhere and stores nothing`, async () => {
        const before = await storedState();
        const answer = await send();
        expect(answer.status).toBe(status);
        expect(answer.headers.get('location')).toBeNull();
        expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(answer.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(await answer.text()).toContain(message);
        expect(await storedState()).toEqual(before);
        expect(await server.store.db.selectFrom('oauth_signin_failures').selectAll().execute()).toEqual([]);
      });
    }
  });
});
