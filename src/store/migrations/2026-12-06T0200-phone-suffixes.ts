import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// Phone fragments move from the trigram indexes to a B-tree of the phone digits' suffixes: digit strings have only
// 1,000 distinct trigrams, each in a large share of the phone numbers, so a trigram lookup of a phone fragment read
// long posting lists and slowed with the number of customers (10 ms at 1,000,000 on SQLite). "The digits contain N"
// is now "a suffix starts with N", a range of the B-tree (customer-search-text.ts `phoneSuffixes` writes the same
// rows as the backfill below). The trigram indexes keep only the names and emails: SQLite's FTS5 table is rebuilt
// without the phone column, PostgreSQL's phone trigram index dropped (fewer index entries on every write).

/** Customers per backfill statement: each statement's suffix rows are sorted before they go into the B-tree. */
const BACKFILL_BATCH = 20_000;
/** customer-search-text.ts `MIN_SUFFIX_LENGTH` when this migration was written. */
const MIN_SUFFIX_LENGTH = 3;

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  if (postgres) {
    await sql`create table customer_search_suffixes (
      organization_id text not null,
      suffix text collate "C" not null,
      customer_id text not null,
      constraint customer_search_suffixes_pkey primary key (organization_id, suffix, customer_id)
    )`.execute(db);
  } else {
    // No rowid: the key is the whole row, so the table is its own index.
    await sql`create table customer_search_suffixes (
      organization_id text not null,
      suffix text not null,
      customer_id text not null,
      primary key (organization_id, suffix, customer_id)
    ) without rowid`.execute(db);
  }
  await backfill(db, postgres);
  if (postgres) {
    await sql`drop index if exists customer_search_phone_trgm`.execute(db);
    return;
  }
  for (const trigger of ['customer_search_ai', 'customer_search_ad', 'customer_search_au']) {
    await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
  }
  await sql`drop table customer_search_fts`.execute(db);
  await createFts(db, ['full_name', 'email']);
}

/**
 * The suffix rows of every stored phone, a keyset batch of customers per statement, computed by the database (the
 * same rows as `phoneSuffixes`: each space-separated form's suffixes of at least MIN_SUFFIX_LENGTH digits, once).
 */
async function backfill(db: Kysely<unknown>, postgres: boolean) {
  let after = { org: '', id: '' };
  for (;;) {
    const last = await sql<{ organization_id: string; customer_id: string }>`
      select organization_id, customer_id from customer_search
      where (organization_id, customer_id) > (${after.org}, ${after.id})
      order by organization_id, customer_id limit 1 offset ${BACKFILL_BATCH - 1}`.execute(db);
    const through = last.rows[0];
    const range = through
      ? sql`(organization_id, customer_id) > (${after.org}, ${after.id})
          and (organization_id, customer_id) <= (${through.organization_id}, ${through.customer_id})`
      : sql`(organization_id, customer_id) > (${after.org}, ${after.id})`;
    const n = MIN_SUFFIX_LENGTH;
    if (postgres) {
      await sql`insert into customer_search_suffixes (organization_id, suffix, customer_id)
        select distinct s.organization_id, substr(f.form, i.i), s.customer_id
        from customer_search s
        cross join lateral unnest(string_to_array(s.phone, ' ')) as f(form)
        cross join lateral generate_series(1, length(f.form) - ${n} + 1) as i(i)
        where s.phone is not null and ${range}
        order by 1, 2, 3`.execute(db);
    } else {
      await sql`insert into customer_search_suffixes (organization_id, suffix, customer_id)
        with recursive
          forms(organization_id, customer_id, form, rest) as (
            select organization_id, customer_id, '', phone || ' ' from customer_search
            where phone is not null and ${range}
            union all
            select organization_id, customer_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
            from forms where rest <> ''),
          suffixes(organization_id, customer_id, suffix) as (
            select organization_id, customer_id, form from forms where length(form) >= ${n}
            union all
            select organization_id, customer_id, substr(suffix, 2) from suffixes where length(suffix) > ${n})
        select distinct organization_id, suffix, customer_id from suffixes
        order by 1, 2, 3`.execute(db);
    }
    if (!through) break;
    after = { org: through.organization_id, id: through.customer_id };
  }
}

/** The FTS5 trigram index over the given columns of customer_search, its triggers, and its rows built. */
async function createFts(db: Kysely<unknown>, columns: readonly string[]) {
  const list = sql.join(columns.map((column) => sql.id(column)));
  const values = (row: 'new' | 'old') => sql.join(columns.map((column) => sql`${sql.raw(row)}.${sql.id(column)}`));
  await sql`create virtual table customer_search_fts using fts5(
    ${list}, content = 'customer_search', content_rowid = 'id', tokenize = 'trigram'
  )`.execute(db);
  // Erased customers' text must not linger in the index's pages.
  await sql`insert into customer_search_fts (customer_search_fts, rank) values ('secure-delete', 1)`.execute(db);
  await sql`insert into customer_search_fts (customer_search_fts) values ('rebuild')`.execute(db);
  await sql`create trigger customer_search_ai after insert on customer_search begin
    insert into customer_search_fts (rowid, ${list}) values (new.id, ${values('new')});
  end`.execute(db);
  await sql`create trigger customer_search_ad after delete on customer_search begin
    insert into customer_search_fts (customer_search_fts, rowid, ${list}) values ('delete', old.id, ${values('old')});
  end`.execute(db);
  // Only a change of an indexed column touches the index (a phone change does not).
  await sql`create trigger customer_search_au after update of ${list} on customer_search begin
    insert into customer_search_fts (customer_search_fts, rowid, ${list}) values ('delete', old.id, ${values('old')});
    insert into customer_search_fts (rowid, ${list}) values (new.id, ${values('new')});
  end`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('customer_search_suffixes').ifExists().execute();
  if (isPostgres(db)) {
    await sql`create index if not exists customer_search_phone_trgm on customer_search
      using gin (phone gin_trgm_ops) with (fastupdate = off)`.execute(db);
    return;
  }
  for (const trigger of ['customer_search_ai', 'customer_search_ad', 'customer_search_au']) {
    await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
  }
  await sql`drop table if exists customer_search_fts`.execute(db);
  await createFts(db, ['full_name', 'email', 'phone']);
}
