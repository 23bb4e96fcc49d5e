import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { Database, ImportJobsTable, ImportRejectsTable } from '../schema.js';

export type ImportJobRow = Selectable<ImportJobsTable>;
export type ImportRejectRow = Selectable<ImportRejectsTable>;
type Db = Kysely<Database>;

export async function insertImportJob(db: Db, row: Insertable<ImportJobsTable>): Promise<void> {
  await db.insertInto('import_jobs').values(row).execute();
}

export async function updateImportJob(
  db: Db,
  organizationId: string,
  id: string,
  patch: Updateable<ImportJobsTable>,
): Promise<void> {
  await db
    .updateTable('import_jobs')
    .set(patch)
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .execute();
}

export async function insertImportRejects(db: Db, rows: readonly Insertable<ImportRejectsTable>[]): Promise<void> {
  // 5 columns a row: well under SQLite's 32766 bound parameters.
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('import_rejects')
      .values(rows.slice(i, i + 1000))
      .execute();
}

export async function findImportJob(db: Db, organizationId: string, id: string): Promise<ImportJobRow | undefined> {
  return db
    .selectFrom('import_jobs')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Up to `limit` rejects of the import after `afterPosition`, in the order they were rejected. */
export async function listImportRejects(
  db: Db,
  organizationId: string,
  importId: string,
  afterPosition: number,
  limit: number,
): Promise<Pick<ImportRejectRow, 'position' | 'line' | 'reason'>[]> {
  return db
    .selectFrom('import_rejects')
    .select(['position', 'line', 'reason'])
    .where('organization_id', '=', organizationId)
    .where('import_id', '=', importId)
    .where('position', '>', afterPosition)
    .orderBy('position')
    .limit(limit)
    .execute();
}
