import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { writeCustomerSearch } from '../repositories/customer-search-repository.js';
import type { Database } from '../schema.js';

// Frozen: never edit a migration that has shipped; add a new one.

const BACKFILL_BATCH = 1000;

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  // The folded (case- and accent-free) name, surname, email and phone digits of each customer, kept by every
  // customer write in its transaction; the trigram indexes over it serve `q` of 3 characters and more.
  if (postgres) {
    await sql`create extension if not exists pg_trgm`.execute(db);
    await sql`create table customer_search (
      organization_id text not null,
      customer_id text not null,
      full_name text not null,
      last_name text not null,
      email text,
      phone text,
      constraint customer_search_pkey primary key (organization_id, customer_id)
    )`.execute(db);
    for (const column of ['full_name', 'email', 'phone']) {
      // fastupdate off: entries go straight into the index instead of a pending list that every search would read
      // (and that makes the planner prefer a scan until a vacuum merges it).
      await sql`create index ${sql.id(`customer_search_${column}_trgm`)} on customer_search
        using gin (${sql.id(column)} gin_trgm_ops) with (fastupdate = off)`.execute(db);
    }
  } else {
    // An integer key the FTS5 index refers to; it survives VACUUM, unlike an implicit rowid.
    await sql`create table customer_search (
      id integer primary key,
      organization_id text not null,
      customer_id text not null,
      full_name text not null,
      last_name text not null,
      email text,
      phone text
    )`.execute(db);
    await sql`create unique index customer_search_customer_key on customer_search (organization_id, customer_id)`.execute(
      db,
    );
    await sql`create virtual table customer_search_fts using fts5(
      full_name, email, phone, content = 'customer_search', content_rowid = 'id', tokenize = 'trigram'
    )`.execute(db);
    // Erased customers' text must not linger in the index's pages.
    await sql`insert into customer_search_fts (customer_search_fts, rank) values ('secure-delete', 1)`.execute(db);
    await sql`create trigger customer_search_ai after insert on customer_search begin
      insert into customer_search_fts (rowid, full_name, email, phone) values (new.id, new.full_name, new.email, new.phone);
    end`.execute(db);
    await sql`create trigger customer_search_ad after delete on customer_search begin
      insert into customer_search_fts (customer_search_fts, rowid, full_name, email, phone)
        values ('delete', old.id, old.full_name, old.email, old.phone);
    end`.execute(db);
    await sql`create trigger customer_search_au after update on customer_search begin
      insert into customer_search_fts (customer_search_fts, rowid, full_name, email, phone)
        values ('delete', old.id, old.full_name, old.email, old.phone);
      insert into customer_search_fts (rowid, full_name, email, phone) values (new.id, new.full_name, new.email, new.phone);
    end`.execute(db);
  }
  // Terms for 2-character queries, looked up by prefix: binary order on both dialects so the range is exact.
  await db.schema
    .createTable('customer_search_terms')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('term', 'text', (c) => (postgres ? c.notNull().modifyFront(sql`collate "C"`) : c.notNull()))
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_search_terms_pkey', ['organization_id', 'term', 'customer_id'])
    .execute();
  await db.schema
    .createIndex('customer_search_terms_customer_idx')
    .on('customer_search_terms')
    .columns(['organization_id', 'customer_id'])
    .execute();

  // Backfill the customers stored before search existed, a keyset batch at a time (memory stays flat).
  const typed = db as Kysely<Database>;
  let after = { org: '', id: '' };
  for (;;) {
    const batch = await typed
      .selectFrom('customers')
      .select(['organization_id', 'id', 'first_name', 'last_name', 'email', 'phone_number'])
      .where((eb) =>
        eb.or([
          eb('organization_id', '>', after.org),
          eb.and([eb('organization_id', '=', after.org), eb('id', '>', after.id)]),
        ]),
      )
      .orderBy('organization_id')
      .orderBy('id')
      .limit(BACKFILL_BATCH)
      .execute();
    if (batch.length === 0) break;
    await writeCustomerSearch(typed, batch, { fresh: true });
    const last = batch[batch.length - 1]!;
    after = { org: last.organization_id, id: last.id };
    if (batch.length < BACKFILL_BATCH) break;
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('customer_search_terms').ifExists().execute();
  if (!isPostgres(db)) {
    for (const trigger of ['customer_search_ai', 'customer_search_ad', 'customer_search_au']) {
      await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
    }
    await sql`drop table if exists customer_search_fts`.execute(db);
  }
  await db.schema.dropTable('customer_search').ifExists().execute();
}
