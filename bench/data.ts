import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { normalizeEmail } from '../src/domain/contact.js';
import { newId } from '../src/domain/ids.js';
import { createServices, type Services } from '../src/services.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import { insertCustomers, type NewCustomerRow } from '../src/store/repositories/customer-repository.js';
import type { Store } from '../src/store/store.js';
import {
  createRandom,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  randomProfileAndStatistics,
} from '../src/demo/random-people.js';

/** Bump when the generated data changes shape, so cached datasets are rebuilt. */
const GENERATOR_VERSION = 3;

export const DATA_DIR = path.resolve('bench/.data');

/**
 * Customer number `i` of `count`, created in ascending time order over three
 * years (so ULIDs carry their creation time), with a unique email (90% have
 * one) and a unique Australian mobile (75% have one), like a real loyalty base.
 */
function* generateCustomers(organizationId: string, count: number, now: number): Generator<NewCustomerRow> {
  const random = createRandom(20211020 + count);
  const span = 3 * 365 * 86_400_000;
  const start = now - span;
  for (let i = 0; i < count; i++) {
    const firstName = random.pick(FIRST_NAMES);
    const lastName = random.pick(LAST_NAMES);
    const createdAt = start + Math.floor(((i + random.next()) / count) * (span - 86_400_000));
    const updatedAt = Math.min(now - 1000, createdAt + Math.floor(random.next() ** 3 * (now - createdAt)));
    const email = random.chance(0.9)
      ? `${firstName}.${lastName}.${i}@${random.pick(EMAIL_DOMAINS)}`.replace(/'/g, '')
      : null;
    // i * 7919 mod 10^7 is a bijection on 0..10^7-1, so phones are unique up to 10 million customers;
    // +61 40x xxx xxx is a valid Australian mobile range.
    const phoneDigits = String((i * 7919) % 10_000_000).padStart(7, '0');
    yield {
      organization_id: organizationId,
      id: newId(createdAt),
      first_name: firstName,
      last_name: lastName,
      email,
      email_normalized: email === null ? null : normalizeEmail(email),
      phone_number: random.chance(0.75) ? `+6140${phoneDigits}` : null,
      created_at: createdAt,
      updated_at: updatedAt,
      ...randomProfileAndStatistics(random, createdAt, updatedAt),
    };
  }
}

export interface Dataset {
  backend: 'sqlite' | 'postgres';
  databaseUrl: string;
  customers: number;
  organizationId: string;
  /** Seconds spent generating and loading; 0 when the cached dataset was reused. */
  loadSeconds: number;
  reused: boolean;
}

interface DatasetMeta {
  version: number;
  customers: number;
  organizationId: string;
  databaseUrl: string;
}

/** Inserts `count` customers for a new organization in big transactions of 50,000 rows. */
async function fillStore(
  store: Store,
  services: Services,
  count: number,
  log: (message: string) => void,
): Promise<string> {
  const organization = await services.organizations.createOrganization({
    name: `Bench ${count} customers`,
    currency: 'AUD',
    timezone: 'Australia/Melbourne',
  });
  const now = Date.now();
  const rows = generateCustomers(organization.id, count, now);
  let loaded = 0;
  let maxUpdated = 0;
  while (loaded < count) {
    const batch: NewCustomerRow[] = [];
    for (let i = 0; i < 50_000; i++) {
      const next = rows.next();
      if (next.done) break;
      batch.push(next.value);
      if (next.value.updated_at > maxUpdated) maxUpdated = next.value.updated_at;
    }
    await store.db.transaction().execute((trx) => insertCustomers(trx, batch));
    loaded += batch.length;
    if (loaded % 200_000 === 0 || loaded === count)
      log(`  loaded ${loaded.toLocaleString('en')} / ${count.toLocaleString('en')}`);
  }
  // Later writes must sort after the loaded history, as after an import.
  await store.db.updateTable('organizations').set({ clock: maxUpdated }).where('id', '=', organization.id).execute();
  // PostgreSQL's autovacuum would analyze the new rows within a minute or so; do it now so the run does not depend on
  // when. Every table: the insert triggers filled insight_counters too, whose plan (a nested loop materializing the
  // organization's counters, 4.4M join-filter rows, 1.6 s) was 35x slower than with statistics (45 ms) at 100,000.
  if (store.kind === 'postgres') await sql`analyze`.execute(store.db);
  return organization.id;
}

/**
 * A database grown through the API has no planner statistics unless the
 * server makes them; drop any so each run measures that (the server's own
 * `PRAGMA optimize` on open is part of what is measured).
 */
function dropSqliteStatistics(file: string) {
  const db = new BetterSqlite3(file);
  try {
    db.exec('drop table if exists sqlite_stat1; drop table if exists sqlite_stat4;');
  } finally {
    db.close();
  }
}

function readMeta(file: string): DatasetMeta | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetMeta;
    return meta.version === GENERATOR_VERSION ? meta : undefined;
  } catch {
    return undefined;
  }
}

async function countCustomers(store: Store, organizationId: string): Promise<number> {
  const row = await store.db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

async function openMigrated(databaseUrl: string) {
  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
  const store = await openStore(config.database);
  await migrateToLatest(store);
  return { store, services: createServices(store, config) };
}

/** The SQLite dataset of `count` customers, built once under bench/.data and reused while its meta matches. */
export async function ensureSqliteDataset(count: number, log: (message: string) => void): Promise<Dataset> {
  const dir = path.join(DATA_DIR, `sqlite-${count}`);
  const metaFile = path.join(dir, 'meta.json');
  const databaseUrl = `sqlite:${path.join(dir, 'customers.db')}`;
  const meta = readMeta(metaFile);
  if (meta && meta.customers === count && fs.existsSync(path.join(dir, 'customers.db'))) {
    const { store } = await openMigrated(databaseUrl);
    let complete: boolean;
    try {
      complete = (await countCustomers(store, meta.organizationId)) === count;
    } finally {
      await store.close();
    }
    if (complete) {
      dropSqliteStatistics(path.join(dir, 'customers.db'));
      return {
        backend: 'sqlite',
        databaseUrl,
        customers: count,
        organizationId: meta.organizationId,
        loadSeconds: 0,
        reused: true,
      };
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`Generating ${count.toLocaleString('en')} customers into ${path.relative(process.cwd(), dir)} ...`);
  const started = performance.now();
  const { store, services } = await openMigrated(databaseUrl);
  let organizationId: string;
  try {
    organizationId = await fillStore(store, services, count, log);
  } finally {
    await store.close();
  }
  dropSqliteStatistics(path.join(dir, 'customers.db'));
  fs.writeFileSync(
    metaFile,
    JSON.stringify({ version: GENERATOR_VERSION, customers: count, organizationId, databaseUrl } satisfies DatasetMeta),
  );
  const loadSeconds = (performance.now() - started) / 1000;
  return { backend: 'sqlite', databaseUrl, customers: count, organizationId, loadSeconds, reused: false };
}

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** True when the local PostgreSQL answers. */
export async function isPostgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A bench PostgreSQL database's name, with this checkout's `BENCH_PG_SUFFIX` (so checkouts side by side keep apart). */
export function benchPostgresName(base: string): string {
  const suffix = process.env.BENCH_PG_SUFFIX?.replace(/[^a-z0-9_]/gi, '').toLowerCase();
  return `${base}${suffix ? `_${suffix}` : ''}`;
}

export async function pgAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function postgresVersion(): Promise<string> {
  return pgAdmin(
    async (client) => (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version,
  );
}

/**
 * A PostgreSQL database of its own (customers_bench_<count>, with `_<BENCH_PG_SUFFIX>` when that is set, so that
 * checkouts benchmarking side by side on one server keep apart), reused across runs while its meta matches.
 */
export async function ensurePostgresDataset(count: number, log: (message: string) => void): Promise<Dataset> {
  const name = benchPostgresName(`customers_bench_${count}`);
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${name}`;
  const metaFile = path.join(DATA_DIR, `postgres-${count}.json`);
  const meta = readMeta(metaFile);
  const exists = await pgAdmin(
    async (client) => (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1,
  );
  if (meta && meta.customers === count && exists) {
    const { store } = await openMigrated(databaseUrl);
    try {
      if ((await countCustomers(store, meta.organizationId)) === count) {
        // A dataset generated before every table was analyzed at load (see fillStore) gets its statistics now.
        await sql`analyze`.execute(store.db);
        return {
          backend: 'postgres',
          databaseUrl,
          customers: count,
          organizationId: meta.organizationId,
          loadSeconds: 0,
          reused: true,
        };
      }
    } finally {
      await store.close();
    }
  }
  await pgAdmin(async (client) => {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
  log(`Generating ${count.toLocaleString('en')} customers into PostgreSQL database ${name} ...`);
  const started = performance.now();
  const { store, services } = await openMigrated(databaseUrl);
  let organizationId: string;
  try {
    organizationId = await fillStore(store, services, count, log);
  } finally {
    await store.close();
  }
  fs.mkdirSync(DATA_DIR, { recursive: true });
  fs.writeFileSync(
    metaFile,
    JSON.stringify({ version: GENERATOR_VERSION, customers: count, organizationId, databaseUrl } satisfies DatasetMeta),
  );
  return {
    backend: 'postgres',
    databaseUrl,
    customers: count,
    organizationId,
    loadSeconds: (performance.now() - started) / 1000,
    reused: false,
  };
}

export interface Samples {
  ids: string[];
  emails: string[];
  phones: string[];
}

/** Random customers of the dataset's organization, to spread reads over the whole table. */
export async function sampleCustomers(dataset: Dataset, size: number): Promise<Samples> {
  const { store } = await openMigrated(dataset.databaseUrl);
  try {
    const random = store.kind === 'sqlite' ? sql`random()` : sql`random()`;
    const rows = await store.db
      .selectFrom('customers')
      .select(['id', 'email', 'phone_number'])
      .where('organization_id', '=', dataset.organizationId)
      .orderBy(random)
      .limit(size)
      .execute();
    return {
      ids: rows.map((r) => r.id),
      emails: rows.flatMap((r) => (r.email === null ? [] : [r.email])),
      phones: rows.flatMap((r) => (r.phone_number === null ? [] : [r.phone_number])),
    };
  } finally {
    await store.close();
  }
}

/** The sort key of the row just before `offset` in the given order: a cursor there lands on row `offset`. */
export async function keyAtOffset(
  dataset: Dataset,
  column: 'created_at' | 'updated_at',
  offset: number,
): Promise<{ at: number; id: string; nextId: string }> {
  const { store } = await openMigrated(dataset.databaseUrl);
  try {
    const rows = await store.db
      .selectFrom('customers')
      .select([column, 'id'])
      .where('organization_id', '=', dataset.organizationId)
      .orderBy(column, 'desc')
      .orderBy('id', 'desc')
      .offset(offset - 1)
      .limit(2)
      .execute();
    const [before, first] = rows;
    if (!before || !first) throw new Error(`dataset has fewer than ${offset + 1} customers`);
    return { at: Number(before[column]), id: before.id, nextId: first.id };
  } finally {
    await store.close();
  }
}

/** A read token and a write token for the organizations, made through the token service as the CLI does. */
export async function createTokens(
  databaseUrl: string,
  organizationIds: string[],
): Promise<{ read: string; write: string }> {
  const { store, services } = await openMigrated(databaseUrl);
  try {
    const read = await services.tokens.createToken({ organizationIds, scopes: ['customers:read'], name: 'bench read' });
    const write = await services.tokens.createToken({
      organizationIds,
      scopes: ['customers:read', 'customers:write'],
      name: 'bench write',
    });
    return { read: read.token, write: write.token };
  } finally {
    await store.close();
  }
}

/** An empty organization for write benchmarks, so the read datasets keep exactly N customers. */
export async function createScratchOrganization(databaseUrl: string): Promise<string> {
  const { store, services } = await openMigrated(databaseUrl);
  try {
    const org = await services.organizations.createOrganization({
      name: `Bench writes ${new Date().toISOString()}`,
      currency: 'AUD',
      timezone: 'Australia/Melbourne',
    });
    return org.id;
  } finally {
    await store.close();
  }
}

/** A `count`-row NDJSON import file in the API's create-customer shape, cached under bench/.data. */
export async function ensureImportFile(count: number, log: (message: string) => void): Promise<string> {
  const file = path.join(DATA_DIR, `import-${count}-v${GENERATOR_VERSION}.ndjson`);
  if (fs.existsSync(file)) return file;
  log(`Writing ${count.toLocaleString('en')}-row NDJSON import file ...`);
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const tmp = `${file}.tmp`;
  const out = fs.createWriteStream(tmp);
  const random = createRandom(7);
  for (const row of generateCustomers('import', count, Date.now())) {
    const line: Record<string, unknown> = { firstName: row.first_name, lastName: row.last_name };
    if (row.email) line.email = row.email.replace('@', `.imp${random.int(0, 9)}@`);
    if (row.phone_number) line.phoneNumber = row.phone_number;
    if (row.dob) line.dob = row.dob;
    if (row.gender) line.gender = row.gender;
    if (row.has_agreed_to_marketing !== null) line.hasAgreedToMarketing = row.has_agreed_to_marketing === 1;
    line.createdAt = new Date(row.created_at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  fs.renameSync(tmp, file);
  return file;
}

/** Ids of up to `limit` customers of an organization (the write benchmark's scratch organization). */
export async function customerIdsOf(databaseUrl: string, organizationId: string, limit: number): Promise<string[]> {
  const { store } = await openMigrated(databaseUrl);
  try {
    const rows = await store.db
      .selectFrom('customers')
      .select('id')
      .where('organization_id', '=', organizationId)
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  } finally {
    await store.close();
  }
}

/**
 * Rows written per created customer whose last name starts with `lastNamePrefix`: search rows, terms, phone suffixes
 * (read by a scan of the organization's suffixes: the table has no index by customer), events.
 */
export async function rowsPerCreatedCustomer(
  databaseUrl: string,
  organizationId: string,
  lastNamePrefix: string,
): Promise<{ customers: number; search: number; terms: number; suffixes: number; events: number }> {
  const { store } = await openMigrated(databaseUrl);
  try {
    const created = store.db
      .selectFrom('customers')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('last_name', 'like', `${lastNamePrefix}%`);
    const count = async (
      table: 'customer_search' | 'customer_search_terms' | 'customer_search_suffixes' | 'event_customers',
    ) =>
      Number(
        (
          await store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where('organization_id', '=', organizationId)
            .where('customer_id', 'in', created)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const customers = Number(
      (
        await store.db
          .selectFrom('customers')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('organization_id', '=', organizationId)
          .where('last_name', 'like', `${lastNamePrefix}%`)
          .executeTakeFirstOrThrow()
      ).n,
    );
    const per = (n: number) => (customers === 0 ? 0 : n / customers);
    return {
      customers,
      search: per(await count('customer_search')),
      terms: per(await count('customer_search_terms')),
      suffixes: per(await count('customer_search_suffixes')),
      events: per(await count('event_customers')),
    };
  } finally {
    await store.close();
  }
}
