import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

const TRIGGERS = [
  'customer_lists_segment_version_ai',
  'customer_lists_segment_version_au',
  'customer_lists_segment_version_ad',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // segment_version counts the changes of the organization's segments (created, renamed, filter changed, deleted).
  // Every write reads it with the organization clock, in the same statement, so a process can keep the segments and
  // their compiled evaluation in memory and know, without another read, when another process changed them. Triggers
  // bump it, so every path that changes a segment (and every version of the code) keeps it right; member counts and
  // build progress (other columns) do not bump it.
  await db.schema
    .alterTable('organizations')
    .addColumn('segment_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  const bump = sql`update organizations set segment_version = segment_version + 1`;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create function customer_lists_bump_segment_version() returns trigger language plpgsql as $$
      begin
        ${bump} where id = case when tg_op = 'DELETE' then old.organization_id else new.organization_id end;
        return null;
      end $$`.execute(db);
    const trigger = (name: string, event: string, when: string) =>
      sql`create trigger ${sql.id(name)} after ${sql.raw(event)} on customer_lists for each row
        when (${sql.raw(when)}) execute function customer_lists_bump_segment_version()`.execute(db);
    await trigger(TRIGGERS[0]!, 'insert', 'new.filter is not null');
    await trigger(TRIGGERS[1]!, 'update of name, filter', 'old.filter is not null or new.filter is not null');
    await trigger(TRIGGERS[2]!, 'delete', 'old.filter is not null');
  } else {
    await sql`create trigger ${sql.id(TRIGGERS[0]!)} after insert on customer_lists when new.filter is not null begin
      ${bump} where id = new.organization_id; end`.execute(db);
    await sql`create trigger ${sql.id(TRIGGERS[1]!)} after update of name, filter on customer_lists
      when old.filter is not null or new.filter is not null begin
      ${bump} where id = new.organization_id; end`.execute(db);
    await sql`create trigger ${sql.id(TRIGGERS[2]!)} after delete on customer_lists when old.filter is not null begin
      ${bump} where id = old.organization_id; end`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const trigger of TRIGGERS) {
    await (
      postgres
        ? sql`drop trigger if exists ${sql.id(trigger)} on customer_lists`
        : sql`drop trigger if exists ${sql.id(trigger)}`
    ).execute(db);
  }
  if (postgres) await sql`drop function if exists customer_lists_bump_segment_version()`.execute(db);
  await db.schema.alterTable('organizations').dropColumn('segment_version').execute();
}
