import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { availableBackends } from './helpers/backends.js';
import { findFreePort, runCli } from './helpers/processes.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const postgres = (await availableBackends()).find((b) => b.name === 'postgres');

function withPort(url: string, port: number, options: { password?: string; database?: string } = {}): string {
  const parsed = new URL(url);
  parsed.host = `127.0.0.1:${port}`;
  if (options.password !== undefined) {
    parsed.username ||= 'postgres';
    parsed.password = options.password;
  }
  if (options.database !== undefined) parsed.pathname = `/${options.database}`;
  return parsed.toString();
}

describe.runIf(postgres)('PostgreSQL unreachable at start', () => {
  if (!postgres) return;
  let proxy: TcpProxy;
  let database: Awaited<ReturnType<NonNullable<typeof postgres>['createDatabase']>>;
  beforeAll(async () => {
    database = await postgres.createDatabase();
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.drop();
  });

  it('serve: nothing listening says so, with the URL but not the password, and exits 1', async () => {
    const port = await findFreePort();
    const url = withPort(database.url, port, { password: 's3cret-pw' });
    const result = await runCli(['serve'], { DATABASE_URL: url, PORT: String(await findFreePort()) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `error: Cannot connect to PostgreSQL at ${url.replace('s3cret-pw', '***')}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(result.stderr + result.stdout).not.toContain('s3cret-pw');
  });

  it('migrate: a server that never answers times out with a clear message and exits 1', async () => {
    proxy.setMode('blackhole');
    try {
      const url = withPort(database.url, proxy.port, { password: 'hunter2-pw' });
      const result = await runCli(['migrate'], { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT_MS: '300' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^error: Cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/cust_test_\w+: .*(timeout|did not answer)/,
      );
      expect(result.stderr).not.toContain('hunter2-pw');
    } finally {
      proxy.setMode('forward');
    }
  });

  it('serve: a database that does not exist is named in the error', async () => {
    const url = withPort(database.url, Number(new URL(database.url).port || 5432), {
      database: 'no_such_database_here',
    });
    const result = await runCli(['serve'], { DATABASE_URL: url, PORT: String(await findFreePort()) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: Cannot connect to PostgreSQL at ${url}: database "no_such_database_here" does not exist`,
    );
  });
});

describe.runIf(postgres)('PostgreSQL going away while serving', () => {
  if (!postgres) return;
  let proxy: TcpProxy;
  let server: RunningServer;
  let database: Awaited<ReturnType<NonNullable<typeof postgres>['createDatabase']>>;
  let direct: pg.Client;
  let orgId: string;
  let customerId: string;
  let token: string;

  beforeAll(async () => {
    database = await postgres.createDatabase();
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    server = await startServer(
      loadConfig({
        DATABASE_URL: withPort(database.url, proxy.port),
        PORT: '0',
        LOG_LEVEL: 'silent',
        TOKEN_CACHE_TTL_MS: '0',
        DATABASE_POOL_SIZE: '4',
        DATABASE_CONNECT_TIMEOUT_MS: '500',
        DATABASE_QUERY_TIMEOUT_MS: '1000',
      }),
    );
    const org = await server.services.organizations.createOrganization({ name: 'Outage' });
    orgId = org.id;
    token = (
      await server.services.tokens.createToken({
        organizationIds: [orgId],
        scopes: ['customers:read', 'customers:write'],
      })
    ).token;
    customerId = (await server.services.customers.createCustomer(orgId, { firstName: 'Ada', lastName: 'Lovelace' })).id;
    direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
  });
  afterAll(async () => {
    await server?.close();
    await direct?.end();
    await proxy?.close();
    await database?.drop();
  });

  // A hang fails the test here instead of at the test timeout, with a clear message.
  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  async function expectUnavailable(method: string, path: string, body?: unknown) {
    const response = await call(method, path, body);
    expect(response.status, `${method} ${path}`).toBe(503);
    expect(response.body).toMatchObject({ code: 'unavailable', instance: expect.stringMatching(/^[0-9A-Z]{26}$/) });
    expect(response.headers.get('retry-after')).toBe('1');
  }

  async function waitForRecovery() {
    for (let attempt = 0; attempt < 100; attempt++) {
      const response = await call('GET', `/organizations/${orgId}/customers/${customerId}`);
      if (response.status === 200) return;
      expect(response.status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the server did not recover after the database came back');
  }

  async function storedFirstName(): Promise<string> {
    const result = await direct.query<{ first_name: string }>(
      'select first_name from customers where organization_id = $1 and id = $2',
      [orgId, customerId],
    );
    return result.rows[0]!.first_name;
  }

  async function customerCount(): Promise<number> {
    const result = await direct.query<{ n: number }>(
      'select count(*)::int as n from customers where organization_id = $1',
      [orgId],
    );
    return result.rows[0]!.n;
  }

  it('a connection killed inside a transaction fails that transaction as unavailable, without crashing the process', async () => {
    const store = server.services.store;
    let killed = 0;
    const failure = await store.db
      .transaction()
      .execute(async (trx) => {
        const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        const result = await direct.query<{ n: number }>(
          'select count(*)::int as n from (select pg_terminate_backend($1)) t',
          [pid.rows[0]!.pid],
        );
        killed = result.rows[0]!.n;
        // The connection is gone between two statements of the transaction (the server says so at once).
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`select 1`.execute(trx);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(killed).toBe(1);
    expect(store.isUnavailableError(failure)).toBe(true);
    // The pool replaced the connection: the store and the API work on.
    expect((await sql<{ one: number }>`select 1 as one`.execute(store.db)).rows).toEqual([{ one: 1 }]);
    expect((await call('GET', `/organizations/${orgId}/customers/${customerId}`)).status).toBe(200);
  });

  const outages = {
    refuse: 'connections cut and refused',
    blackhole: 'a database that stops answering, then answers again',
    failover: 'a database that stops answering and whose old connections never come back',
  } as const;
  for (const [mode, title] of Object.entries(outages) as [keyof typeof outages, string][]) {
    it(`${title}: 503 unavailable, readyz 503, nothing written; then recovery`, async () => {
      expect((await call('GET', `/organizations/${orgId}/customers/${customerId}`)).status).toBe(200);
      expect((await call('GET', '/readyz')).status).toBe(200);
      const countBefore = await customerCount();

      proxy.setMode(mode === 'failover' ? 'blackhole' : mode);
      const ready = await call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ code: 'unavailable' });
      await Promise.all([
        expectUnavailable('GET', `/organizations/${orgId}/customers/${customerId}`),
        expectUnavailable('GET', `/organizations/${orgId}/customers?sort=updated`),
        expectUnavailable('GET', `/organizations/${orgId}/customers/${customerId}/memberships`),
        expectUnavailable('GET', '/organizations'),
        expectUnavailable('PATCH', `/organizations/${orgId}/customers/${customerId}`, { firstName: `Lost-${mode}` }),
        expectUnavailable('POST', `/organizations/${orgId}/customers`, { firstName: 'Lost', lastName: mode }),
      ]);
      // More requests than the pool has connections: none may wait behind a dead one.
      await Promise.all(
        Array.from({ length: 6 }, () => expectUnavailable('GET', `/organizations/${orgId}/customers/${customerId}`)),
      );
      expect((await call('GET', '/healthz')).status).toBe(200);

      if (mode === 'failover') proxy.forwardNewConnectionsOnly();
      else proxy.setMode('forward');
      await waitForRecovery();
      expect((await call('GET', '/readyz')).status).toBe(200);
      // Every pooled connection is usable again (more calls than the pool holds, each on whichever it gets).
      for (let i = 0; i < 8; i++) expect((await call('GET', '/organizations')).status).toBe(200);
      // The writes that failed left nothing behind; new writes work again.
      expect(await storedFirstName()).toBe('Ada');
      expect(await customerCount()).toBe(countBefore);
      const patched = await call('PATCH', `/organizations/${orgId}/customers/${customerId}`, {
        firstName: `Back-${mode}`,
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ firstName: `Back-${mode}` });
      expect(await storedFirstName()).toBe(`Back-${mode}`);
      const created = await call('POST', `/organizations/${orgId}/customers`, { firstName: 'New', lastName: mode });
      expect(created.status).toBe(201);
      expect(await customerCount()).toBe(countBefore + 1);
      await call('PATCH', `/organizations/${orgId}/customers/${customerId}`, { firstName: 'Ada' });
    });
  }
});
