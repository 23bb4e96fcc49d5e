import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant } from './helpers/fixtures.js';
import { tablesContaining } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** The files SQLite keeps a database in, with the ones that hold `needle` (as UTF-8 bytes). */
function filesContaining(databaseFile: string, needle: string): string[] {
  return [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`].filter(
    (file) => fs.existsSync(file) && fs.readFileSync(file).includes(Buffer.from(needle, 'utf8')),
  );
}

await describeEachBackend('erasure on disk', (backend) => {
  let server: TestServer;
  const closed = { done: false };
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    if (!closed.done) await server?.close();
  });

  const databaseFile = () => (server.config.database.kind === 'sqlite' ? server.config.database.path : undefined);

  /** A customer whose surname and email occur nowhere else, written several times (several page versions). */
  async function personalData(tenant: Awaited<ReturnType<typeof createTenant>>) {
    const tag = randomBytes(6).toString('hex');
    const surname = `Erasable${tag}`;
    const email = `erase.${tag}@example.com`;
    const customer = await server.createCustomer(tenant.orgId, { lastName: surname, email }, tenant.write);
    for (let i = 0; i < 5; i++) {
      const updated = await server.request('PATCH', `/organizations/${tenant.orgId}/customers/${customer.id}`, {
        token: tenant.write,
        body: { firstName: `Version${i}` },
      });
      expect(updated.status).toBe(200);
    }
    const points = await server.request('PUT', `/organizations/${tenant.orgId}/customers/${customer.id}/points/p1`, {
      token: tenant.write,
      body: { amount: 10 },
    });
    expect(points.status, points.text).toBeLessThan(300);
    return { customer, surname, email };
  }

  it('leaves the erased values in no table and, on SQLite, in none of the files (WAL included), also after shutdown', async () => {
    const tenant = await createTenant(server);
    const { customer, surname, email } = await personalData(tenant);
    const file = databaseFile();
    // The test can fail: before the erasure the values are on disk (in the WAL at least).
    if (file) expect(filesContaining(file, surname).length).toBeGreaterThan(0);

    const erased = await server.request('DELETE', `/organizations/${tenant.orgId}/customers/${customer.id}`, {
      token: tenant.write,
    });
    expect(erased.status).toBe(204);
    expect(
      (await server.request('GET', `/organizations/${tenant.orgId}/customers/${customer.id}`, { token: tenant.read }))
        .status,
    ).toBe(404);
    expect(await tablesContaining(server.store, surname)).toEqual([]);
    expect(await tablesContaining(server.store, email)).toEqual([]);
    if (!file) return;
    expect(filesContaining(file, surname)).toEqual([]);
    expect(filesContaining(file, email)).toEqual([]);
    expect(fs.statSync(`${file}-wal`).size).toBe(0);

    // More writes after the erasure, then a shutdown: still nowhere, and the WAL is gone.
    await server.createCustomer(tenant.orgId, { lastName: 'After' }, tenant.write);
    await server.app.close();
    await server.store.close();
    expect(filesContaining(file, surname)).toEqual([]);
    expect(filesContaining(file, email)).toEqual([]);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const reopened = new BetterSqlite3(file, { readonly: true });
    try {
      expect(
        (reopened.prepare('select count(*) as n from customers where last_name = ?').get('After') as { n: number }).n,
      ).toBe(1);
    } finally {
      reopened.close();
    }
    closed.done = true;
    await server.close().catch(() => undefined);
  });
});

await describeEachBackend('erasure on disk while another process reads', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('retries the WAL truncation a reader blocks, without holding up the erasure or other writes', async () => {
    if (server.config.database.kind !== 'sqlite') return;
    const file = server.config.database.path;
    const tenant = await createTenant(server);
    const tag = randomBytes(6).toString('hex');
    const surname = `Blocked${tag}`;
    const customer = await server.createCustomer(tenant.orgId, { lastName: surname }, tenant.write);
    // Another process's long read: it pins the WAL, so a truncating checkpoint cannot complete meanwhile.
    const other = new BetterSqlite3(file, { readonly: true });
    other.exec('begin');
    other.prepare('select count(*) from customers').get();
    try {
      const erased = await server.request('DELETE', `/organizations/${tenant.orgId}/customers/${customer.id}`, {
        token: tenant.write,
      });
      expect(erased.status).toBe(204);
      const next = await server.request('POST', `/organizations/${tenant.orgId}/customers`, {
        token: tenant.write,
        body: { firstName: 'Not', lastName: 'Stalled' },
      });
      expect(next.status).toBe(201);
      expect(filesContaining(file, surname)).toContain(`${file}-wal`);
    } finally {
      other.exec('commit');
      other.close();
    }
    await vi.waitFor(() => expect(filesContaining(file, surname)).toEqual([]), { timeout: 20_000, interval: 100 });
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    expect(await tablesContaining(server.store, surname)).toEqual([]);
  });
});
