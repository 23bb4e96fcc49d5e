import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { parseDatabaseUrl } from '../src/config.js';
import { createCustomerService } from '../src/domain/customers/customer-service.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, errorFields, expectErrorJson, readAllPages } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const PEOPLE = [
  { firstName: 'José', lastName: 'Álvarez', email: 'jose.alvarez@example.com' },
  { firstName: 'Zoë', lastName: "O'Brien", email: 'zoe@obrien.ie' },
  { firstName: 'Jean-Luc', lastName: 'Picard', phoneNumber: '+33612345678' },
  { firstName: '太郎', lastName: '山田', email: 'taro@example.jp' },
  { firstName: 'John', lastName: 'Smith', email: 'John.Smith@Example.com', phoneNumber: '0411 222 333' },
  { firstName: 'Johanna', lastName: 'Smithers', email: 'jo@smithers.net' },
  { firstName: 'Bob', lastName: 'Blacksmith', email: 'bob@example.com' },
  { firstName: 'Anne-Marie', lastName: 'Müller-Lüdenscheidt' },
];

await describeEachBackend('partial search (q)', (backend) => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  const byName = new Map<string, Customer>();
  beforeAll(async () => {
    server = await startTestServer(backend);
    tenant = await createTenant(server);
    for (const person of PEOPLE) byName.set(person.lastName, await server.createCustomer(tenant.orgId, person));
    // Another organization with the same names: never in this one's results.
    const other = await createTenant(server);
    for (const person of PEOPLE) await server.createCustomer(other.orgId, person, other.write);
  });
  afterAll(async () => server?.close());

  const search = (q: string, extra = '') =>
    server.request<Customer[]>('GET', `/organizations/${tenant.orgId}/customers?q=${encodeURIComponent(q)}${extra}`, {
      token: tenant.read,
    });
  const lastNames = async (q: string, extra = '') => {
    const response = await search(q, extra);
    expect(response.status, response.text).toBe(200);
    return response.body.map((c) => c.lastName);
  };
  const ids = (...lastNames: string[]) => lastNames.map((n) => byName.get(n)!.id).sort();

  it('finds names case- and accent-insensitively, apostrophes, hyphens and CJK included', async () => {
    expect(await lastNames('jose')).toEqual(['Álvarez']);
    expect(await lastNames('JOSÉ ÁLV')).toEqual(['Álvarez']);
    expect(await lastNames('alvarez')).toEqual(['Álvarez']);
    expect(await lastNames("o'brien")).toEqual(["O'Brien"]);
    expect(await lastNames('zoe o')).toEqual(["O'Brien"]);
    expect(await lastNames('luc')).toEqual(['Picard']);
    expect(await lastNames('jean-luc picard')).toEqual(['Picard']);
    expect(await lastNames('muller-lud')).toEqual(['Müller-Lüdenscheidt']);
    expect(await lastNames('lüdenscheidt')).toEqual(['Müller-Lüdenscheidt']);
    expect(await lastNames('山田')).toEqual(['山田']);
    expect(await lastNames('太郎')).toEqual(['山田']);
    expect(await lastNames('太郎 山田')).toEqual(['山田']);
    expect(await lastNames('nobody here')).toEqual([]);
  });

  it('finds email and phone fragments, a phone in any notation', async () => {
    expect(await lastNames('0411 222')).toEqual(['Smith']);
    expect(await lastNames('+61 411-222')).toEqual(['Smith']);
    expect(await lastNames('(0411) 222 333')).toEqual(['Smith']);
    expect(await lastNames('612 345')).toEqual(['Picard']);
    const example = (await search('@example.com')).body.map((c) => c.id).sort();
    expect(example).toEqual(ids('Álvarez', 'Smith', 'Blacksmith'));
    expect(await lastNames('SMITHERS.NET')).toEqual(['Smithers']);
  });

  it('ranks the exact email or phone first, then names starting with the text, then the rest; ties by id', async () => {
    const smi = await search('smi');
    const prefix = ids('Smith', 'Smithers');
    expect(smi.body.map((c) => c.id)).toEqual([...prefix, byName.get('Blacksmith')!.id]);
    const exactEmail = await search('john.smith@example.com');
    expect(exactEmail.body.map((c) => c.lastName)).toEqual(['Smith']);
    // `jo`: a 2-character query, served by the term index: words starting with it.
    // José Álvarez, John Smith and Johanna Smithers all have a name starting with it: rank 1, by id.
    expect((await search('jo')).body.map((c) => c.id)).toEqual(ids('Álvarez', 'Smith', 'Smithers'));
    const phone = await search('+61411222333');
    expect(phone.body.map((c) => c.lastName)).toEqual(['Smith']);
    // sort= orders the matches by time instead.
    const byCreated = (await search('smi', '&sort=created')).body.map((c) => c.lastName);
    expect(byCreated).toEqual(['Blacksmith', 'Smithers', 'Smith']);
  });

  it('refuses a q shorter than 2 characters, and q with email or phoneNumber, with a 400 naming q', async () => {
    for (const q of ['a', ' b ', '']) {
      const response = await search(q);
      expect(errorFields(expectErrorJson(response, 400)), q).toEqual(['q']);
    }
    const both = await search('smith', '&email=john.smith%40example.com');
    expect(errorFields(expectErrorJson(both, 400))).toEqual(['q']);
    const control = await search('jo\u0001');
    expectErrorJson(control, 400);
  });

  it('sees every write at once: created, renamed, erased, imported', async () => {
    const created = await server.createCustomer(tenant.orgId, { firstName: 'Xavier', lastName: 'Quintero' });
    expect((await search('quinter')).body.map((c) => c.id)).toEqual([created.id]);
    const renamed = await server.request('PATCH', `/organizations/${tenant.orgId}/customers/${created.id}`, {
      token: tenant.write,
      body: { lastName: 'Ybarra', phoneNumber: '0499 888 777' },
    });
    expect(renamed.status).toBe(200);
    expect((await search('quinter')).body).toEqual([]);
    expect((await search('ybarr')).body.map((c) => c.id)).toEqual([created.id]);
    expect((await search('0499 888')).body.map((c) => c.id)).toEqual([created.id]);
    expect((await search('yb')).body.map((c) => c.id)).toEqual([created.id]);
    const erased = await server.request('DELETE', `/organizations/${tenant.orgId}/customers/${created.id}`, {
      token: tenant.write,
    });
    expect(erased.status).toBe(204);
    expect((await search('ybarr')).body).toEqual([]);
    expect((await search('yb')).body).toEqual([]);

    async function* records() {
      yield [{ line: 1, value: { firstName: 'Imported', lastName: 'Zabaleta', email: 'zab@example.org' } }];
    }
    await server.services.customerImport.importCustomers(tenant.orgId, records());
    const imported = (await search('zabal')).body;
    expect(imported.map((c) => c.email)).toEqual(['zab@example.org']);
    async function* again() {
      yield [{ line: 1, value: { id: imported[0]!.id, firstName: 'Imported', lastName: 'Zorrilla' } }];
    }
    await server.services.customerImport.importCustomers(tenant.orgId, again());
    expect((await search('zabal')).body).toEqual([]);
    expect((await search('zorril')).body.map((c) => c.id)).toEqual([imported[0]!.id]);
  });

  it('pages through a large result by keyset, every match once, in relevance order', async () => {
    const paged = await createTenant(server);
    for (let i = 0; i < 23; i++) {
      await server.createCustomer(
        paged.orgId,
        { firstName: i % 2 === 0 ? 'Pagey' : 'Mr', lastName: i % 2 === 0 ? `Person${i}` : `Apagey${i}` },
        paged.write,
      );
    }
    const all = await readAllPages<Customer>(
      server,
      `/organizations/${paged.orgId}/customers?q=pagey&limit=5`,
      paged.read,
    );
    expect(all).toHaveLength(23);
    expect(new Set(all.map((c) => c.id)).size).toBe(23);
    const prefix = all.slice(0, 12);
    expect(prefix.every((c) => c.firstName === 'Pagey')).toBe(true);
    expect(prefix.map((c) => c.id)).toEqual(prefix.map((c) => c.id).sort());
    const rest = all.slice(12);
    expect(rest.map((c) => c.id)).toEqual(rest.map((c) => c.id).sort());
    const bySort = await readAllPages<Customer>(
      server,
      `/organizations/${paged.orgId}/customers?q=pagey&sort=updated&limit=4`,
      paged.read,
    );
    expect(bySort.map((c) => c.id)).toEqual(
      all
        .map((c) => c.id)
        .sort()
        .reverse(),
    );
    // A cursor of one q does not continue another: the contradicting parameter is named.
    const first = await server.request('GET', `/organizations/${paged.orgId}/customers?q=pagey&limit=5`, {
      token: paged.read,
    });
    const cursor = new URL(first.headers.get('x-next-page')!).searchParams.get('after')!;
    const other = await server.request('GET', `/organizations/${paged.orgId}/customers?q=person&after=${cursor}`, {
      token: paged.read,
    });
    expect(errorFields(expectErrorJson(other, 400))).toEqual(['q']);
    // The cursor is self-contained: `after` alone continues the same search.
    const alone = await server.request<Customer[]>('GET', `/organizations/${paged.orgId}/customers?after=${cursor}`, {
      token: paged.read,
    });
    expect(alone.status, alone.text).toBe(200);
    expect(alone.body.map((c) => c.id)).toEqual(all.slice(5, 10).map((c) => c.id));
  });

  it('backfills customers stored before search existed', async () => {
    const database = await backend.createDatabase();
    const store = await openStore(parseDatabaseUrl(database.url));
    try {
      const { error } = await store.withMigrationDb((db) =>
        new Migrator({ db, provider: migrationProvider }).migrateTo('2026-12-02T0640-payments'),
      );
      expect(error).toBeUndefined();
      await sql`insert into organizations (id, name, currency, timezone, created_at) values ('org1', 'Old', 'AUD', 'UTC', 0)`.execute(
        store.db,
      );
      // More than one backfill batch.
      for (let batch = 0; batch < 3; batch++) {
        const values = Array.from({ length: 500 }, (_, i) => {
          const n = batch * 500 + i;
          return sql`('org1', ${`01HOLD${String(n).padStart(20, '0')}`}, ${`Olde${n}`}, ${n === 1234 ? 'Núñez' : 'Shape'}, ${`old${n}@example.com`}, 1000, 1000)`;
        });
        await sql`insert into customers (organization_id, id, first_name, last_name, email, created_at, updated_at)
          values ${sql.join(values)}`.execute(store.db);
      }
      expect(await migrateToLatest(store)).toContain('2026-12-02T0645-customer-search');
      const service = createCustomerService(store, { defaultPhoneRegion: 'AU' });
      const found = await service.listCustomers('org1', { q: 'nunez' });
      expect(found.items.map((c) => c.firstName)).toEqual(['Olde1234']);
      const many = await service.listCustomers('org1', { q: 'old1', limit: 1000 });
      // old1@, old10-19@, old100-199@, old1000-1499@.
      expect(many.items).toHaveLength(611);
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
