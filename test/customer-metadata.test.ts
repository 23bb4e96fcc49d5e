import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { parseDatabaseUrl } from '../src/config.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import { createCustomerService } from '../src/domain/customers/customer-service.js';
import { describeEachBackend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { createTenant, errorFields, expectErrorJson, readEvents } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('customer metadata', (backend) => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    tenant = await createTenant(server);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-metadata-'));
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const customersPath = () => `/organizations/${tenant.orgId}/customers`;
  const post = (body: unknown) => server.request<Customer>('POST', customersPath(), { token: tenant.write, body });
  const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    server.request<Customer>('PATCH', `${customersPath()}/${id}`, { token: tenant.write, body, headers });
  const get = (id: string) => server.request<Customer>('GET', `${customersPath()}/${id}`, { token: tenant.read });

  it('is set on create, returned on every body, and omitted when empty', async () => {
    const created = await post({
      firstName: 'Zoë',
      lastName: "O'Brien",
      metadata: { tier: 'gold', 'favourite.dish': 'pâté', empty: '' },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.metadata).toEqual({ empty: '', 'favourite.dish': 'pâté', tier: 'gold' });
    expect((await get(created.body.id)).body.metadata).toEqual(created.body.metadata);
    const list = await server.request<Customer[]>('GET', customersPath(), { token: tenant.read });
    expect(list.body.find((c) => c.id === created.body.id)?.metadata).toEqual(created.body.metadata);

    const plain = await post({ firstName: 'No', lastName: 'Meta' });
    expect(plain.body).not.toHaveProperty('metadata');
    const emptyObject = await post({ firstName: 'Empty', lastName: 'Meta', metadata: {} });
    expect(emptyObject.status).toBe(201);
    expect(emptyObject.body).not.toHaveProperty('metadata');
  });

  it('merges on PATCH: a key with null removes it, metadata null clears all, If-Match still applies', async () => {
    const created = await post({ firstName: 'Ana', lastName: 'Silva', metadata: { a: '1', b: '2' } });
    const merged = await patch(created.body.id, { metadata: { b: null, c: '3' } });
    expect(merged.status, merged.text).toBe(200);
    expect(merged.body.metadata).toEqual({ a: '1', c: '3' });

    const current = await get(created.body.id);
    const etag = current.headers.get('etag')!;
    const stale = await patch(created.body.id, { metadata: { a: 'stale' } }, { 'if-match': '"nope"' });
    expect(stale.status).toBe(412);
    const matched = await patch(created.body.id, { metadata: { a: 'fresh' } }, { 'if-match': etag });
    expect(matched.status, matched.text).toBe(200);
    expect(matched.body.metadata).toEqual({ a: 'fresh', c: '3' });

    // Setting what is already there changes nothing, so updatedAt stays.
    const same = await patch(created.body.id, { metadata: { a: 'fresh' } });
    expect(same.body.updatedAt).toBe(matched.body.updatedAt);

    const cleared = await patch(created.body.id, { metadata: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('metadata');
    const row = await server.store.db
      .selectFrom('customers')
      .select('metadata')
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(row.metadata).toBeNull();
    const removedLast = await patch((await post({ firstName: 'One', lastName: 'Key', metadata: { k: 'v' } })).body.id, {
      metadata: { k: null },
    });
    expect(removedLast.body).not.toHaveProperty('metadata');
  });

  it('refuses invalid metadata with a 400 naming the field, and changes nothing', async () => {
    const created = await post({ firstName: 'Kept', lastName: 'Safe', metadata: { keep: 'me' } });
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    const cases: [unknown, string][] = [
      [{ ['x'.repeat(41)]: 'v' }, 'metadata'],
      [{ key: 'v'.repeat(501) }, 'metadata.key'],
      [{ key: 5 }, 'metadata.key'],
      [{ key: { nested: 'no' } }, 'metadata.key'],
      [['a'], 'metadata'],
      ['text', 'metadata'],
      [tooMany, 'metadata'],
      [{ '': 'v' }, 'metadata'],
    ];
    for (const [metadata, field] of cases) {
      const onCreate = await post({ firstName: 'Bad', lastName: 'Meta', metadata });
      expect(errorFields(expectErrorJson(onCreate, 400)), JSON.stringify(metadata)).toContain(field);
      const onPatch = await patch(created.body.id, { metadata });
      expect(errorFields(expectErrorJson(onPatch, 400)), JSON.stringify(metadata)).toContain(field);
    }
    const nullOnCreate = await post({ firstName: 'Bad', lastName: 'Meta', metadata: { key: null } });
    expectErrorJson(nullOnCreate, 400);
    // 50 keys stored, then a PATCH adding one more: refused on the merged result.
    const full = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    const fifty = await post({ firstName: 'Fifty', lastName: 'Keys', metadata: full });
    expect(fifty.status).toBe(201);
    const oneMore = await patch(fifty.body.id, { metadata: { extra: 'v' } });
    expect(errorFields(expectErrorJson(oneMore, 400))).toEqual(['metadata']);
    const swap = await patch(fifty.body.id, { metadata: { k0: null, extra: 'v' } });
    expect(swap.status).toBe(200);
    expect(Object.keys(swap.body.metadata!)).toHaveLength(50);
    expect((await get(created.body.id)).body.metadata).toEqual({ keep: 'me' });
  });

  it('is in the feed (and so in webhook payloads)', async () => {
    const created = await post({ firstName: 'Feed', lastName: 'Meta', metadata: { source: 'pos' } });
    await patch(created.body.id, { metadata: { source: 'web' } });
    const events = (await readEvents(server, tenant.orgId, tenant.read)).filter(
      (e) => (e.customer as Customer | undefined)?.id === created.body.id,
    );
    expect(events.map((e) => [e.event, (e.customer as Customer).metadata])).toEqual([
      ['customer.created', { source: 'pos' }],
      ['customer.updated', { source: 'web' }],
    ]);
  });

  it('exports a CSV column per key and NDJSON objects; both import back the same metadata', async () => {
    const source = await createTenant(server);
    const env = { DATABASE_URL: server.databaseUrl };
    const write = (body: unknown) =>
      server.request<Customer>('POST', `/organizations/${source.orgId}/customers`, { token: source.write, body });
    await write({ firstName: 'A', lastName: 'One', email: 'a@example.com', metadata: { tier: 'gold', 'x,y': 'q"t' } });
    await write({ firstName: 'B', lastName: 'Two', email: 'b@example.com', metadata: { region: 'north' } });
    await write({ firstName: 'C', lastName: 'Three', email: 'c@example.com' });
    const original = await exportAll(source.orgId);

    const csvFile = path.join(dir, 'meta.csv');
    expect((await runCli(['export', '--org', source.orgId, '--format', 'csv', '--output', csvFile], env)).code).toBe(0);
    const [header] = fs.readFileSync(csvFile, 'utf8').split('\n');
    expect(header!.endsWith(',metadata.region,metadata.tier,"metadata.x,y"')).toBe(true);
    const ndjsonFile = path.join(dir, 'meta.ndjson');
    expect((await runCli(['export', '--org', source.orgId, '--output', ndjsonFile], env)).code).toBe(0);
    expect(fs.readFileSync(ndjsonFile, 'utf8')).toContain('"metadata":{"tier":"gold","x,y":"q\\"t"}');

    for (const file of [csvFile, ndjsonFile]) {
      const target = await createTenant(server);
      const imported = await runCli(['import', '--org', target.orgId, file, '--json'], env);
      expect(imported.code, imported.stderr).toBe(0);
      const strip = (customers: Customer[]) =>
        customers.map(({ id, firstName, metadata }) => ({ id, firstName, metadata }));
      expect(strip(await exportAll(target.orgId))).toEqual(strip(original));
      // Importing the same file again finds nothing changed: metadata compares equal.
      const again = await runCli(['import', '--org', target.orgId, file, '--json'], env);
      expect(JSON.parse(again.stdout)).toMatchObject({ unchanged: 3, updated: 0 });
    }

    // Invalid metadata in an import is a rejected row naming the field.
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, `firstName,lastName,metadata.tier\nGood,Row,gold\nBad,Row,${'v'.repeat(501)}\n`);
    const target = await createTenant(server);
    const result = await runCli(['import', '--org', target.orgId, bad, '--json'], env);
    expect(JSON.parse(result.stdout)).toMatchObject({ inserted: 1, rejected: 1 });
    expect(fs.readFileSync(`${bad}.rejects.ndjson`, 'utf8')).toContain('metadata');
  });

  async function exportAll(organizationId: string): Promise<Customer[]> {
    const customers: Customer[] = [];
    for await (const page of server.services.customerImport.exportCustomers(organizationId)) customers.push(...page);
    return customers;
  }

  it('migrates customers stored before metadata existed: they read back without metadata and accept it', async () => {
    const database = await backend.createDatabase();
    const store = await openStore(parseDatabaseUrl(database.url));
    try {
      const { error } = await store.withMigrationDb((db) =>
        new Migrator({ db, provider: migrationProvider }).migrateTo('2026-12-02T0530-idempotency-tombstones'),
      );
      expect(error).toBeUndefined();
      await sql`insert into organizations (id, name, currency, timezone, created_at) values ('org1', 'Old', 'AUD', 'UTC', 0)`.execute(
        store.db,
      );
      await sql`insert into customers (organization_id, id, first_name, last_name, created_at, updated_at)
        values ('org1', '01HOLDCUSTOMER000000000000', 'Old', 'Shape', 1000, 1000)`.execute(store.db);
      expect(await migrateToLatest(store)).toContain('2026-12-02T0620-customer-metadata');
      const service = createCustomerService(store, { defaultPhoneRegion: 'AU' });
      const old = await service.getCustomer('org1', '01HOLDCUSTOMER000000000000');
      expect(old).toMatchObject({ firstName: 'Old', lastName: 'Shape' });
      expect(old).not.toHaveProperty('metadata');
      const updated = await service.updateCustomer('org1', old.id, { metadata: { now: 'set' } });
      expect(updated.metadata).toEqual({ now: 'set' });
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
