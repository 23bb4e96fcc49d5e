import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { parseDatabaseUrl } from '../src/config.js';
import { createCustomerService } from '../src/domain/customers/customer-service.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import { phoneSuffixes } from '../src/store/customer-search-text.js';
import { writeCustomerSearch } from '../src/store/repositories/customer-search-repository.js';
import type { Store } from '../src/store/store.js';
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

type SuffixRow = { organization_id: string; suffix: string; customer_id: string };
const bySuffixKey = (a: SuffixRow, b: SuffixRow) =>
  a.organization_id.localeCompare(b.organization_id) ||
  (a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0) ||
  a.customer_id.localeCompare(b.customer_id);

async function storedSuffixes(store: Store, organizationId?: string): Promise<SuffixRow[]> {
  const rows = await store.db
    .selectFrom('customer_search_suffixes')
    .select(['organization_id', 'suffix', 'customer_id'])
    .$if(organizationId !== undefined, (q) => q.where('organization_id', '=', organizationId!))
    .execute();
  return rows.sort(bySuffixKey);
}

/** What the suffix table must hold: every phone suffix (`phoneSuffixes`) of every search row. */
async function expectedSuffixes(store: Store, organizationId?: string): Promise<SuffixRow[]> {
  const rows = await store.db
    .selectFrom('customer_search')
    .select(['organization_id', 'customer_id', 'phone'])
    .$if(organizationId !== undefined, (q) => q.where('organization_id', '=', organizationId!))
    .execute();
  return rows
    .flatMap((row) =>
      phoneSuffixes(row.phone).map((suffix) => ({
        organization_id: row.organization_id,
        suffix,
        customer_id: row.customer_id,
      })),
    )
    .sort(bySuffixKey);
}

const PHONE_SUFFIXES = '2026-12-06T0200-phone-suffixes';

type Tenant = Awaited<ReturnType<typeof createTenant>>;

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
  const lastNamesIn = async (t: Tenant, q: string) => {
    const response = await server.request<Customer[]>(
      'GET',
      `/organizations/${t.orgId}/customers?q=${encodeURIComponent(q)}`,
      { token: t.read },
    );
    expect(response.status, response.text).toBe(200);
    return response.body.map((c) => c.lastName);
  };
  const suffixRows = (organizationId: string) => storedSuffixes(server.store, organizationId);
  /** The suffix rows are exactly those of the search rows' phone digits. */
  const expectSuffixesInStep = async (organizationId: string) =>
    expect(await suffixRows(organizationId)).toEqual(await expectedSuffixes(server.store, organizationId));

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

  it('keeps the phone suffixes in step with every write: created, re-numbered, renamed, imported, erased', async () => {
    const t = await createTenant(server);
    const org = t.orgId;
    const phones = async (q: string) => (await lastNamesIn(t, q)).sort();
    const created = await server.createCustomer(
      org,
      { firstName: 'Pia', lastName: 'Quast', phoneNumber: '0412 345 678' },
      t.write,
    );
    await server.createCustomer(org, { firstName: 'Rui', lastName: 'Reyes', phoneNumber: '+61 498 765 432' }, t.write);
    await expectSuffixesInStep(org);
    expect(await phones('2345 67')).toEqual(['Quast']);
    expect(await phones('61412')).toEqual(['Quast']);
    expect(await phones('765')).toEqual(['Reyes']);
    const renumbered = await server.request('PATCH', `/organizations/${org}/customers/${created.id}`, {
      token: t.write,
      body: { phoneNumber: '0433 111 765' },
    });
    expect(renumbered.status, renumbered.text).toBe(200);
    await expectSuffixesInStep(org);
    expect(await phones('2345 67')).toEqual([]);
    expect(await phones('765')).toEqual(['Quast', 'Reyes']);
    // A change of the name only leaves the phone's rows as they are, and the phone still found.
    const renamed = await server.request('PATCH', `/organizations/${org}/customers/${created.id}`, {
      token: t.write,
      body: { lastName: 'Quaste' },
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect(await phones('0433 111')).toEqual(['Quaste']);
    const noPhone = await server.request('PATCH', `/organizations/${org}/customers/${created.id}`, {
      token: t.write,
      body: { phoneNumber: null },
    });
    expect(noPhone.status, noPhone.text).toBe(200);
    await expectSuffixesInStep(org);
    expect(await phones('0433 111')).toEqual([]);
    async function* records() {
      yield [
        { line: 1, value: { id: created.id, firstName: 'Pia', lastName: 'Quaste', phoneNumber: '0455 000 111' } },
        { line: 2, value: { firstName: 'Sam', lastName: 'Sousa', phoneNumber: '0466 000 111' } },
      ];
    }
    await server.services.customerImport.importCustomers(org, records());
    await expectSuffixesInStep(org);
    expect(await phones('000 111')).toEqual(['Quaste', 'Sousa']);
    const erased = await server.request('DELETE', `/organizations/${org}/customers/${created.id}`, {
      token: t.write,
    });
    expect(erased.status).toBe(204);
    await expectSuffixesInStep(org);
    expect(await phones('000 111')).toEqual(['Sousa']);
    expect(await suffixRows(org)).not.toContainEqual(expect.objectContaining({ customer_id: created.id }));
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

  it('backfills the phone suffixes of customers stored before them; names, emails and phones all found after', async () => {
    const database = await backend.createDatabase();
    const store = await openStore(parseDatabaseUrl(database.url));
    try {
      const migrations = Object.keys(await migrationProvider.getMigrations()).sort();
      const previous = migrations[migrations.indexOf(PHONE_SUFFIXES) - 1]!;
      const { error } = await store.withMigrationDb((db) =>
        new Migrator({ db, provider: migrationProvider }).migrateTo(previous),
      );
      expect(error).toBeUndefined();
      // More customers than a backfill batch (20,000), in two organizations; a quarter without a phone.
      const counts = { orgA: 20_010, orgB: 300 };
      const customers: {
        organization_id: string;
        id: string;
        first_name: string;
        last_name: string;
        email: string;
        phone_number: string | null;
      }[] = [];
      for (const [org, count] of Object.entries(counts)) {
        await sql`insert into organizations (id, name, currency, timezone, created_at) values (${org}, 'Old', 'AUD', 'UTC', 0)`.execute(
          store.db,
        );
        for (let n = 0; n < count; n++) {
          customers.push({
            organization_id: org,
            id: `01HOLD${org.slice(-1)}${String(n).padStart(19, '0')}`,
            first_name: `Olde${n}`,
            last_name: 'Shape',
            email: `old${n}@example.com`,
            phone_number: n % 4 === 3 ? null : `+614${String(10_000_000 + ((n * 7919) % 89_000_000))}`,
          });
        }
      }
      for (let i = 0; i < customers.length; i += 500) {
        const chunk = customers.slice(i, i + 500);
        const values = chunk.map(
          (c) =>
            sql`(${c.organization_id}, ${c.id}, ${c.first_name}, ${c.last_name}, ${c.email}, ${c.phone_number}, 1000, 1000)`,
        );
        await sql`insert into customers (organization_id, id, first_name, last_name, email, phone_number, created_at, updated_at)
          values ${sql.join(values)}`.execute(store.db);
        // The search rows and terms as the previous version wrote them.
        await writeCustomerSearch(store.db, chunk, { fresh: true });
      }
      expect(await migrateToLatest(store)).toContain(PHONE_SUFFIXES);
      const key = (row: SuffixRow) => `${row.organization_id} ${row.suffix} ${row.customer_id}`;
      const stored = (await storedSuffixes(store)).map(key);
      expect(stored.length).toBeGreaterThan(100_000);
      expect(stored).toEqual((await expectedSuffixes(store)).map(key));

      const service = createCustomerService(store, { defaultPhoneRegion: 'AU' });
      const target = customers.find((c) => c.organization_id === 'orgA' && c.id.endsWith('20005'))!;
      const national = `0${target.phone_number!.slice(3)}`;
      for (const fragment of [`${national.slice(0, 4)} ${national.slice(4, 8)}`, national.slice(2, 9)]) {
        const digits = fragment.replace(/\D/g, '');
        const want = customers
          .filter((c) => c.organization_id === 'orgA' && c.phone_number !== null)
          .filter((c) => c.phone_number!.slice(1).includes(digits) || `0${c.phone_number!.slice(3)}`.includes(digits))
          .map((c) => c.id)
          .sort();
        expect(want).toContain(target.id);
        const found = await service.listCustomers('orgA', { q: fragment, limit: 1000 });
        expect(found.items.map((c) => c.id).sort()).toEqual(want);
      }
      // The trigram index over the names and emails was rebuilt (SQLite) or kept (PostgreSQL).
      expect((await service.listCustomers('orgA', { q: 'olde20005' })).items.map((c) => c.id)).toEqual([target.id]);
      expect((await service.listCustomers('orgB', { q: 'old29' })).items.map((c) => c.firstName).sort()).toEqual([
        'Olde29',
        'Olde290',
        'Olde291',
        'Olde292',
        'Olde293',
        'Olde294',
        'Olde295',
        'Olde296',
        'Olde297',
        'Olde298',
        'Olde299',
      ]);
      // Writes after the migration keep the rebuilt index current.
      await service.updateCustomer('orgA', target.id, { lastName: 'Newshape', phoneNumber: '0400 000 999' });
      expect((await service.listCustomers('orgA', { q: 'newshap' })).items.map((c) => c.id)).toEqual([target.id]);
      expect((await service.listCustomers('orgA', { q: '0400 000 9' })).items.map((c) => c.id)).toEqual([target.id]);
      expect((await service.listCustomers('orgA', { q: national.slice(0, 10) })).items).toEqual([]);
      expect((await storedSuffixes(store)).map(key)).toEqual((await expectedSuffixes(store)).map(key));
    } finally {
      await store.close();
      await database.drop();
    }
  }, 120_000);
});
