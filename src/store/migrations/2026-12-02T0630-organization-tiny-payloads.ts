import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/** Events read and rewritten per statement, so a long log never becomes one giant statement or result. */
const BATCH = 500;

interface StoredEvent {
  organization_id: string;
  sequence: number | string;
  payload: string;
  name: string;
}

/**
 * Walks the whole log in key order, BATCH events at a time, and writes back the payloads `change` altered
 * (it returns false to leave one as it is).
 */
async function rewritePayloads(
  db: Kysely<unknown>,
  change: (payload: Record<string, unknown>, organizationName: string) => boolean,
): Promise<void> {
  let afterOrganization = '';
  let afterSequence = 0;
  for (;;) {
    const { rows } = await sql<StoredEvent>`
      select e.organization_id, e.sequence, e.payload, o.name
      from events e join organizations o on o.id = e.organization_id
      where e.organization_id > ${afterOrganization}
         or (e.organization_id = ${afterOrganization} and e.sequence > ${afterSequence})
      order by e.organization_id, e.sequence
      limit ${BATCH}`.execute(db);
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    afterOrganization = last.organization_id;
    afterSequence = Number(last.sequence);

    const changed = rows.flatMap((row) => {
      const payload = JSON.parse(row.payload) as Record<string, unknown>;
      if (!change(payload, row.name)) return [];
      return [sql`(${row.organization_id}, cast(${Number(row.sequence)} as bigint), ${JSON.stringify(payload)})`];
    });
    if (changed.length === 0) continue;
    // UPDATE ... FROM (VALUES ...) works on PostgreSQL and on SQLite (3.33+); both name the columns column1...
    await sql`
      update events set payload = v.column3
      from (values ${sql.join(changed)}) as v
      where events.organization_id = v.column1 and events.sequence = v.column2`.execute(db);
  }
}

/**
 * Event payloads named the organization by its bare id (`"organization": "<id>"`); LOKE's webhooks carry its
 * OrganizationTiny `{"id", "name"}`. Rewrites every stored payload to that shape (with the organization's current
 * name), keeping every other byte and the key order (`organization` stays last, as assigning an existing key keeps
 * its place), so the feed, redeliveries and new deliveries agree. Webhook deliveries store no payload copies: they
 * read the event when they send it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await rewritePayloads(db, (payload, name) => {
    if (typeof payload.organization !== 'string') return false;
    payload.organization = { id: payload.organization, name };
    return true;
  });
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await rewritePayloads(db, (payload) => {
    const organization = payload.organization as { id?: unknown } | null | undefined;
    if (typeof organization !== 'object' || organization === null) return false;
    payload.organization = organization.id;
    return true;
  });
}
