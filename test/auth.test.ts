import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('auth', (backend) => {
  let server: TestServer;
  let orgId: string;
  let customerId: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    orgId = (await server.createOrganization()).id;
    customerId = (await server.createCustomer(orgId)).id;
  });
  afterAll(async () => server?.close());

  const unauthorizedCases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['an unknown token', { authorization: 'Bearer cat_unknown' }],
    ['a token with spaces', { authorization: 'Bearer a b' }],
  ];
  for (const [name, headers] of unauthorizedCases) {
    it(`401s with ${name}`, async () => {
      for (const path of [
        '/organizations',
        `/organizations/${orgId}/customers`,
        `/organizations/${orgId}/customers/${customerId}`,
      ]) {
        const res = await server.request('GET', path, { headers });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({
          code: 'unauthorized',
          message: expect.any(String),
          instance: expect.any(String),
        });
      }
      const write = await server.request('POST', `/organizations/${orgId}/customers`, {
        headers,
        body: { firstName: 'A', lastName: 'B' },
      });
      expect(write.status).toBe(401);
    });
  }

  it('accepts the scheme case-insensitively', async () => {
    const token = await server.createToken([orgId], ['customers:read']);
    const res = await server.request('GET', `/organizations/${orgId}/customers/${customerId}`, {
      headers: { authorization: `bearer ${token}` },
    });
    expect(res.status).toBe(200);
  });

  it('hides organizations the token does not grant behind a 404 identical to a missing one', async () => {
    const other = await server.createOrganization();
    const otherCustomer = await server.createCustomer(other.id);
    const token = await server.createToken([orgId], ['customers:read', 'customers:write']);
    const paths = [
      `/organizations/${other.id}`,
      `/organizations/${other.id}/customers`,
      `/organizations/${other.id}/customers/${otherCustomer.id}`,
      `/organizations/${other.id}/customers/${otherCustomer.id}/memberships`,
    ];
    for (const path of paths) {
      const denied = await server.request('GET', path, { token });
      const missing = await server.request('GET', path.replace(other.id, '01FCCGYZA9JPQ97HBSTKW0KT7P'), { token });
      expect(denied.status, path).toBe(404);
      expect(missing.status, path).toBe(404);
      expect((denied.body as { code: string }).code).toBe('not_found');
      expect((denied.body as { message: string }).message).toBe((missing.body as { message: string }).message);
    }
    const write = await server.request('PATCH', `/organizations/${other.id}/customers/${otherCustomer.id}`, {
      token,
      body: { firstName: 'Hacked' },
    });
    expect(write.status).toBe(404);
    const row = await server.store.db
      .selectFrom('customers')
      .select('first_name')
      .where('id', '=', otherCustomer.id)
      .executeTakeFirstOrThrow();
    expect(row.first_name).toBe(otherCustomer.firstName);
  });

  it('403s a write without customers:write and a read without customers:read, changing nothing', async () => {
    const readOnly = await server.createToken([orgId], ['customers:read']);
    const before = await server.store.db
      .selectFrom('customers')
      .selectAll()
      .where('organization_id', '=', orgId)
      .execute();
    const create = await server.request('POST', `/organizations/${orgId}/customers`, {
      token: readOnly,
      body: { firstName: 'A', lastName: 'B' },
    });
    expect(create.status).toBe(403);
    expect(create.body).toMatchObject({ code: 'forbidden', message: expect.stringContaining('customers:write') });
    const patch = await server.request('PATCH', `/organizations/${orgId}/customers/${customerId}`, {
      token: readOnly,
      body: { firstName: 'X' },
    });
    expect(patch.status).toBe(403);
    expect(
      await server.store.db.selectFrom('customers').selectAll().where('organization_id', '=', orgId).execute(),
    ).toEqual(before);

    const writeOnly = await server.createToken([orgId], ['customers:write']);
    const read = await server.request('GET', `/organizations/${orgId}/customers`, { token: writeOnly });
    expect(read.status).toBe(403);
    expect(read.body).toMatchObject({ code: 'forbidden' });
  });

  it('caches token lookups and stops accepting a revoked token within the cache TTL', async () => {
    const created = await server.services.tokens.createToken({ organizationIds: [orgId], scopes: ['customers:read'] });
    const path = `/organizations/${orgId}/customers/${customerId}`;
    expect((await server.request('GET', path, { token: created.token })).status).toBe(200);
    // Revoke behind the server's back (as the CLI of another process would): the cached entry still answers...
    await server.store.db
      .updateTable('api_tokens')
      .set({ revoked_at: Date.now() })
      .where('id', '=', created.id)
      .execute();
    expect((await server.request('GET', path, { token: created.token })).status).toBe(200);
    // ...until the TTL (200 ms in tests, 5 s by default) passes.
    await new Promise((r) => setTimeout(r, 300));
    const after = await server.request('GET', path, { token: created.token });
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ code: 'unauthorized' });
  });

  it('stores only a hash of the token', async () => {
    const created = await server.services.tokens.createToken({ organizationIds: [orgId], scopes: ['customers:read'] });
    const rows = await server.store.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(created.token);
    expect(JSON.stringify(rows)).not.toContain(created.token.slice(4));
  });

  it('leaves health endpoints public', async () => {
    expect((await server.request('GET', '/healthz')).status).toBe(200);
    const ready = await server.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', database: 'ok' });
  });
});

await describeEachBackend('token cache (bounded LRU with TTL)', (backend) => {
  let server: TestServer;
  const lookups: string[] = [];
  beforeAll(async () => {
    server = await startTestServer(
      backend,
      { TOKEN_CACHE_TTL_MS: '600000' },
      {
        wrapTokenReads: (reads) => ({
          findByHash(hash) {
            lookups.push(hash);
            return reads.findByHash(hash);
          },
        }),
      },
    );
  });
  afterAll(async () => server?.close());

  it('keeps valid tokens cached through a burst of distinct bad tokens, and forgets a token revoked here', async () => {
    const orgId = (await server.createOrganization()).id;
    const tokens = await Promise.all(
      [1, 2].map(() => server.services.tokens.createToken({ organizationIds: [orgId], scopes: ['customers:read'] })),
    );
    const path = `/organizations/${orgId}/customers`;
    for (const { token } of tokens) expect((await server.request('GET', path, { token })).status).toBe(200);
    expect(lookups).toHaveLength(2);

    // More distinct bad tokens than the cache holds (10,000 of each kind): the old cache cleared itself here.
    const burst = 12_000;
    for (let i = 0; i < burst; i += 100) {
      const batch = Array.from({ length: 100 }, (_, j) => server.services.tokens.authenticate(`cat_bad${i + j}`));
      expect(new Set(await Promise.all(batch))).toEqual(new Set([null]));
    }
    expect(lookups).toHaveLength(2 + burst);
    const rejected = await server.request('GET', path, { token: 'cat_bad-over-http' });
    expect(rejected.status).toBe(401);
    expect(rejected.body).toMatchObject({ code: 'unauthorized' });
    expect(lookups).toHaveLength(3 + burst);

    // The valid entries answer without a database lookup; a recent bad token does too.
    for (const { token } of tokens) {
      const response = await server.request<unknown[]>('GET', path, { token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual([]);
    }
    expect((await server.request('GET', path, { token: `cat_bad${burst - 1}` })).status).toBe(401);
    expect(lookups).toHaveLength(3 + burst);

    // Revoked through this process: refused at once, the other token still cached.
    await server.services.tokens.revokeToken(tokens[0]!.id);
    const revoked = await server.request('GET', path, { token: tokens[0]!.token });
    expect(revoked.status).toBe(401);
    expect(lookups).toHaveLength(4 + burst);
    expect((await server.request('GET', path, { token: tokens[1]!.token })).status).toBe(200);
    expect(lookups).toHaveLength(4 + burst);
    const stored = await server.store.db.selectFrom('api_tokens').select(['id', 'revoked_at']).orderBy('id').execute();
    expect(stored.map((row) => row.revoked_at !== null)).toEqual(
      tokens
        .map((t) => t.id)
        .sort()
        .map((id) => id === tokens[0]!.id),
    );
  }, 120_000);
});
