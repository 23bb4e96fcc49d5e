import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appendEvents, createEventReads, type EventToAppend } from '../src/store/repositories/event-repository.js';
import { type CompiledStatement, type Store } from '../src/store/store.js';
import { describeEachBackend } from './helpers/backends.js';
import { capturePreparedStatements, explainSql, openStoreWithOrganizations } from './helpers/query-plans.js';

const ORGS = ['01JORG0000000000000000000A', '01JORG0000000000000000000B'];
const PER_ORG = 4000;
const CUSTOMERS = 200;

/** Every fifth event is about no customer (a list's), the others cycle through CUSTOMERS customers. */
function events(organizationId: string): EventToAppend[] {
  return Array.from({ length: PER_ORG }, (_, i) => ({
    id: `01JEVT${organizationId.slice(-1)}${String(i).padStart(19, '0')}`,
    type: i % 5 === 0 ? 'customer-list.updated' : 'customer.updated',
    occurredAt: Date.UTC(2024, 0, 1) + i * 1000,
    payload: '{}',
    customerId: i % 5 === 0 ? null : `CUST${i % CUSTOMERS}`,
  }));
}

/** The SQL of the page statements the event reads build: whole feed oldest and newest, then per customer. */
function capturePageStatements(store: Store): CompiledStatement[] {
  return capturePreparedStatements(store, createEventReads);
}

await describeEachBackend("the feed's pages use the events and event_customers keys", (backend) => {
  let store: Store;
  let database: Awaited<ReturnType<typeof backend.createDatabase>>;
  let statements: CompiledStatement[];

  beforeAll(async () => {
    ({ store, database } = await openStoreWithOrganizations(backend, ORGS));
    for (const id of ORGS) {
      await store.db.transaction().execute((trx) => appendEvents(trx, store, id, 1, events(id)));
    }
    await store.db.executeQuery(CompiledQuery.raw('analyze'));
    statements = capturePageStatements(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  // SQLite names a primary key sqlite_autoindex_<table>_1; the join reads each event by its key.
  const feedKey = (bound: string) =>
    `SEARCH events USING INDEX sqlite_autoindex_events_1 (organization_id=? AND sequence${bound}?)`;
  const customerKey = (bound: string) =>
    'SEARCH s USING COVERING INDEX sqlite_autoindex_event_customers_1 ' +
    `(organization_id=? AND customer_id=? AND sequence${bound}?)\nSEARCH e USING INDEX sqlite_autoindex_events_1 ` +
    '(organization_id=? AND sequence=?)';
  const cases = [
    { name: 'whole feed, oldest first', from: 1000, postgres: ['events_pkey on events'], sqlite: feedKey('>') },
    {
      name: 'whole feed, newest first',
      from: Number.MAX_SAFE_INTEGER,
      postgres: ['events_pkey on events'],
      sqlite: feedKey('<'),
    },
    {
      name: 'one customer, oldest first',
      from: 0,
      postgres: ['event_customers_pkey on event_customers s', 'events_pkey on events e'],
      sqlite: customerKey('>'),
    },
    {
      name: 'one customer, newest first',
      from: Number.MAX_SAFE_INTEGER,
      postgres: ['event_customers_pkey on event_customers s', 'events_pkey on events e'],
      sqlite: customerKey('<'),
    },
  ];
  for (const [i, { name, from, postgres, sqlite }] of cases.entries()) {
    it(`${name}: an index range scan in order, no sort, no full scan`, async () => {
      const statement = statements[i]!;
      const params = { org: ORGS[0]!, customer: 'CUST7', from, limit: 21 };
      const plan = await explainSql(store, statement.sql, statement.bind(params));
      if (store.kind === 'postgres') {
        for (const index of postgres) expect(plan).toMatch(new RegExp(`Index (Only )?Scan (Backward )?using ${index}`));
        expect(plan).not.toMatch(/Sort|Seq Scan|Bitmap/);
      } else {
        expect(plan).toBe(sqlite);
      }
    });
  }

  it('the pages hold the right events: one customer, newest first, before the bound', async () => {
    const reads = createEventReads(store);
    const rows = await reads.listPage(ORGS[0]!, { customerId: 'CUST7', order: 'newest', from: 1000, limit: 3 });
    // Event i (sequence i + 1) is about CUST7 when i % 200 = 7.
    expect(rows.map((row) => Number(row.sequence))).toEqual([808, 608, 408]);
    const oldest = await reads.listPage(ORGS[1]!, { customerId: 'CUST7', order: 'oldest', from: 8, limit: 2 });
    expect(oldest.map((row) => [row.organization_id, Number(row.sequence)])).toEqual([
      [ORGS[1], 208],
      [ORGS[1], 408],
    ]);
  });
});
