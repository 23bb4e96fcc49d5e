import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
// The insights' figures kept as they happen, so GET .../insights reads a few thousand counter rows instead of every
// customer, point record and payment of the range (0.4-1.0 s at 1,000,000 customers before). Triggers keep them, in
// the transaction of the write that changes them, whichever code path writes (API, imports, CLI, demo data): one
// place instead of every repository. Quarter hours, in UTC: every offset a time zone uses today is a whole number of
// quarter hours, so a bucket of any organization's calendar (and after a change of its time zone) is a sum of whole
// slots; a bucket edge off the grid (a historical offset) is read from the rows themselves (insight-repository.ts).

const SLOT_MS = 900_000;

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** The start of the quarter hour holding the epoch-ms column (floored, also before 1970). */
const slotOf = (column: string) => `(${column} - ((${column} % ${SLOT_MS}) + ${SLOT_MS}) % ${SLOT_MS})`;

interface CountedTable {
  table: 'customers' | 'point_records' | 'payments';
  /** The column whose quarter hour the row counts in. */
  time: string;
  /** insight_counters column → the row's contribution (an expression over the row's columns, prefixed by `r`). */
  counters: Partial<Record<'new_customers' | 'points_earned' | 'points_redeemed' | 'spend', (r: string) => string>>;
  /** Columns whose change moves the row's contribution (UPDATE triggers fire only then). */
  watched: readonly string[];
}

const COUNTER_COLUMNS = ['new_customers', 'points_earned', 'points_redeemed', 'spend'] as const;

const COUNTED: readonly CountedTable[] = [
  {
    table: 'customers',
    time: 'created_at',
    counters: { new_customers: () => '1' },
    watched: ['created_at', 'has_agreed_to_marketing'],
  },
  {
    table: 'point_records',
    time: 'occurred_at',
    counters: {
      points_earned: (r) => `case when ${r}amount > 0 then ${r}amount else 0 end`,
      points_redeemed: (r) => `case when ${r}amount < 0 then -${r}amount else 0 end`,
    },
    watched: ['occurred_at', 'amount'],
  },
  {
    table: 'payments',
    time: 'completed_at',
    counters: { spend: (r) => `${r}charged_amount + ${r}external_amount - ${r}refunded_amount` },
    watched: ['completed_at', 'charged_amount', 'external_amount', 'refunded_amount'],
  },
];

const MARKETING_AGREED = (r: string) => `case when ${r}has_agreed_to_marketing = 1 then 1 else 0 end`;

const COUNTERS_CONFLICT = `on conflict (organization_id, slot) do update set ${COUNTER_COLUMNS.map(
  (c) => `${c} = insight_counters.${c} + excluded.${c}`,
).join(', ')}`;
const TOTALS_CONFLICT =
  'on conflict (organization_id) do update set customers = insight_totals.customers + excluded.customers, ' +
  'agreed = insight_totals.agreed + excluded.agreed';

/**
 * The upserts adding one table's rows to the counters, `sign` 1 or -1: from `source` (a FROM clause whose rows are
 * `r`) grouped by slot, or from the trigger's `new`/`old` row when `source` is undefined.
 */
function addRows(counted: CountedTable, sign: 1 | -1, source: string | undefined, row: string): string[] {
  const r = source === undefined ? `${row}.` : 'r.';
  const sum = (e: string) => (source === undefined ? `${sign} * (${e})` : `${sign} * sum(${e})`);
  const tail = source === undefined ? 'where true' : `from ${source} r group by 1, 2 order by 1, 2`;
  const counters = COUNTER_COLUMNS.map((c) => {
    const contribution = counted.counters[c];
    return contribution ? sum(contribution(r)) : '0';
  });
  const statements = [
    `insert into insight_counters (organization_id, slot, ${COUNTER_COLUMNS.join(', ')})
      select ${r}organization_id, ${slotOf(`${r}${counted.time}`)}, ${counters.join(', ')} ${tail} ${COUNTERS_CONFLICT}`,
  ];
  if (counted.table === 'customers') {
    const totalsTail = source === undefined ? 'where true' : `from ${source} r group by 1 order by 1`;
    statements.push(`insert into insight_totals (organization_id, customers, agreed)
      select ${r}organization_id, ${sum('1')}, ${sum(MARKETING_AGREED(r))} ${totalsTail} ${TOTALS_CONFLICT}`);
  }
  return statements;
}

const run = (db: Kysely<unknown>, text: string) => sql.raw(text).execute(db);

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  await db.schema
    .createTable('insight_counters')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    // Epoch ms of the quarter hour (UTC) the figures happened in.
    .addColumn('slot', 'bigint', (c) => c.notNull())
    .addColumn('new_customers', 'bigint', (c) => c.notNull())
    .addColumn('points_earned', 'bigint', (c) => c.notNull())
    .addColumn('points_redeemed', 'bigint', (c) => c.notNull())
    // Cents paid less refunded.
    .addColumn('spend', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('insight_counters_pkey', ['organization_id', 'slot'])
    .$call((t) => (postgres ? t : t.modifyEnd(sql`without rowid`)))
    .execute();
  // The organization's customers now and those who agreed to marketing (the opt-in share).
  await db.schema
    .createTable('insight_totals')
    .addColumn('organization_id', 'text', (c) => c.primaryKey())
    .addColumn('customers', 'bigint', (c) => c.notNull())
    .addColumn('agreed', 'bigint', (c) => c.notNull())
    .execute();

  // Backfill from the stored rows, before the triggers exist (the migration's transaction holds off writers).
  for (const counted of COUNTED) {
    for (const statement of addRows(counted, 1, counted.table, '')) await run(db, statement);
  }

  for (const counted of COUNTED) {
    const { table } = counted;
    const changed = counted.watched.map((c) => `old.${c} is distinct from new.${c}`).join(' or ');
    const changedSqlite = counted.watched.map((c) => `old.${c} is not new.${c}`).join(' or ');
    if (postgres) {
      // Inserts and deletes once per statement over its transition table (an import's batch is one upsert per slot);
      // updates per row, and only when a watched column changed (a balance update must not pay for this).
      const body = (statements: string[]) => statements.map((s) => `${s};`).join('\n');
      await run(
        db,
        `create function insight_counters_${table}() returns trigger language plpgsql as $$
        begin
          if tg_op = 'INSERT' then
            ${body(addRows(counted, 1, 'new_rows', ''))}
          elsif tg_op = 'DELETE' then
            ${body(addRows(counted, -1, 'old_rows', ''))}
          else
            ${body([...addRows(counted, -1, undefined, 'old'), ...addRows(counted, 1, undefined, 'new')])}
          end if;
          return null;
        end $$`,
      );
      await run(
        db,
        `create trigger insight_counters_ai after insert on ${table} referencing new table as new_rows
          for each statement execute function insight_counters_${table}()`,
      );
      await run(
        db,
        `create trigger insight_counters_ad after delete on ${table} referencing old table as old_rows
          for each statement execute function insight_counters_${table}()`,
      );
      await run(
        db,
        `create trigger insight_counters_au after update on ${table} for each row when (${changed})
          execute function insight_counters_${table}()`,
      );
    } else {
      const trigger = (name: string, event: string, when: string, statements: string[]) =>
        run(
          db,
          `create trigger ${name} ${event} on ${table} ${when} begin ${statements.map((s) => `${s};`).join(' ')} end`,
        );
      await trigger(`insight_counters_${table}_ai`, 'after insert', '', addRows(counted, 1, undefined, 'new'));
      await trigger(`insight_counters_${table}_ad`, 'after delete', '', addRows(counted, -1, undefined, 'old'));
      await trigger(
        `insight_counters_${table}_au`,
        `after update of ${counted.watched.join(', ')}`,
        `when ${changedSqlite}`,
        [...addRows(counted, -1, undefined, 'old'), ...addRows(counted, 1, undefined, 'new')],
      );
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  for (const { table } of COUNTED) {
    if (postgres) {
      for (const event of ['ai', 'ad', 'au'])
        await run(db, `drop trigger if exists insight_counters_${event} on ${table}`);
      await run(db, `drop function if exists insight_counters_${table}()`);
    } else {
      for (const event of ['ai', 'ad', 'au'])
        await run(db, `drop trigger if exists insight_counters_${table}_${event}`);
    }
  }
  await db.schema.dropTable('insight_totals').ifExists().execute();
  await db.schema.dropTable('insight_counters').ifExists().execute();
}
