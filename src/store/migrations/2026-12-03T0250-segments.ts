import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A segment is a customer list with a filter (JSON text of the filter parameters); manual lists keep NULL, so the
  // lists stored before segments existed are manual lists as they were and nothing is rewritten.
  // segment_status: 'building' while the background build fills it, 'ready' after. build_after: the last customer id
  // the build has evaluated (ids ascending), so a build resumes after a restart. build_owner/build_lease_until: the
  // process building it and until when (epoch ms), so one process at a time builds a segment.
  // One column a statement: SQLite's ALTER TABLE adds one at a time.
  for (const [column, type] of [
    ['filter', 'text'],
    ['segment_status', 'text'],
    ['build_after', 'text'],
    ['build_owner', 'text'],
    ['build_lease_until', 'bigint'],
  ] as const) {
    await db.schema.alterTable('customer_lists').addColumn(column, type).execute();
  }
  await db.schema
    .createIndex('customer_lists_segment_status_idx')
    .on('customer_lists')
    .columns(['segment_status', 'organization_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('customer_lists_segment_status_idx').execute();
  for (const column of ['build_lease_until', 'build_owner', 'build_after', 'segment_status', 'filter']) {
    await db.schema.alterTable('customer_lists').dropColumn(column).execute();
  }
}
