import { CompiledQuery, type Compilable } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  insertCustomers,
  createCustomerReads,
  type NewCustomerRow,
} from '../src/store/repositories/customer-repository.js';
import { compileStatement, type CompiledStatement, type QueryParams, type Store } from '../src/store/store.js';
import { describeEachBackend } from './helpers/backends.js';
import { explainSql, openStoreWithOrganizations } from './helpers/query-plans.js';

const ORGS = ['01JORG0000000000000000000A', '01JORG0000000000000000000B'];
const PER_ORG = 2500;

function customerRows(organizationId: string, count: number): NewCustomerRow[] {
  const start = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => ({
    organization_id: organizationId,
    id: `01JCUST${organizationId.slice(-1)}${String(i).padStart(18, '0')}`,
    first_name: `First${i}`,
    last_name: `Last${i}`,
    email: `person${i}@example.com`,
    email_normalized: `person${i}@example.com`,
    phone_number: `+614${String(10_000_000 + i)}`,
    dob: null,
    gender: null,
    has_agreed_to_marketing: null,
    created_at: start + i * 60_000,
    updated_at: start + ((i * 7919) % count) * 60_000,
    last_points_earned_at: null,
    last_points_redeemed_at: null,
    last_spent_at: null,
  }));
}

/** The SQL of every prepared statement the repository builds, captured as the store compiles it. */
function captureCustomerPageStatements(store: Store): CompiledStatement[] {
  const captured: CompiledStatement[] = [];
  const spy: Store = {
    ...store,
    prepare<R>(query: Compilable<R>) {
      captured.push(compileStatement(query));
      return store.prepare(query);
    },
  };
  createCustomerReads(spy);
  return captured;
}

function explain(store: Store, statement: CompiledStatement, params: QueryParams): Promise<string> {
  return explainSql(store, statement.sql, statement.bind(params));
}

/**
 * Named statements switch to a generic plan (one for any parameter values) after five runs; that plan
 * must use the index too. Planned on one pinned connection, as PREPARE and EXECUTE need.
 */
async function explainGenericPlan(store: Store, statement: CompiledStatement, params: QueryParams): Promise<string> {
  const literal = (value: unknown) =>
    typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`;
  return store.db.connection().execute(async (db) => {
    await db.executeQuery(CompiledQuery.raw('set plan_cache_mode = force_generic_plan'));
    await db.executeQuery(CompiledQuery.raw(`prepare keyset_page as ${statement.sql}`));
    try {
      const result = await db.executeQuery<Record<string, unknown>>(
        CompiledQuery.raw(`explain (costs off) execute keyset_page(${statement.bind(params).map(literal).join(', ')})`),
      );
      return result.rows.map((row) => String(row['QUERY PLAN'])).join('\n');
    } finally {
      await db.executeQuery(CompiledQuery.raw('deallocate keyset_page'));
      await db.executeQuery(CompiledQuery.raw('reset plan_cache_mode'));
    }
  });
}

await describeEachBackend('keyset pages use the (organization_id, sort DESC, id DESC) index', (backend) => {
  let store: Store;
  let database: Awaited<ReturnType<typeof backend.createDatabase>>;
  let pageStatements: { sort: 'created_at' | 'updated_at'; statement: CompiledStatement }[];

  beforeAll(async () => {
    ({ store, database } = await openStoreWithOrganizations(backend, ORGS));
    for (const id of ORGS) {
      await insertCustomers(store.db, customerRows(id, PER_ORG));
    }
    await store.db.executeQuery(CompiledQuery.raw('analyze'));
    const statements = captureCustomerPageStatements(store);
    // Built as [created_at, updated_at] x [none, email, phone]: the unfiltered pages are the first of each three.
    pageStatements = [
      { sort: 'created_at', statement: statements[1]! },
      { sort: 'updated_at', statement: statements[4]! },
    ];
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('captured the unfiltered page statements', () => {
    for (const { sort, statement } of pageStatements) {
      expect(statement.sql).toContain(`order by "${sort}" desc, "id" desc`);
      expect(statement.sql).not.toContain('email_normalized');
      expect(statement.sql).not.toContain('phone_number');
    }
  });

  for (const sort of ['created_at', 'updated_at'] as const) {
    const index = sort === 'created_at' ? 'customers_created_idx' : 'customers_updated_idx';
    for (const [page, after] of [
      ['first page', { afterAt: Number.MAX_SAFE_INTEGER, afterId: '\u{10FFFF}' }],
      ['a later page', { afterAt: Date.UTC(2024, 0, 2), afterId: '01JCUSTA000000000000001000' }],
    ] as const) {
      it(`sort=${sort === 'created_at' ? 'created' : 'updated'}, ${page}: an index range scan in order, no sort, no full scan`, async () => {
        const { statement } = pageStatements.find((p) => p.sort === sort)!;
        const params = { org: ORGS[0]!, ...after, value: '', limit: 101 };
        const plans = [await explain(store, statement, params)];
        if (store.kind === 'postgres') plans.push(await explainGenericPlan(store, statement, params));
        for (const plan of plans) {
          if (store.kind === 'postgres') {
            expect(plan).toMatch(new RegExp(`Index Scan using ${index} on customers`));
            expect(plan).toMatch(
              new RegExp(`Index Cond: \\(\\(organization_id = .+\\) AND \\(ROW\\(${sort}, id\\) < ROW\\(`),
            );
            expect(plan).not.toMatch(/Sort|Seq Scan|Bitmap/);
          } else {
            expect(plan).toMatch(
              new RegExp(
                `SEARCH customers USING INDEX ${index} \\(organization_id=\\? AND \\(${sort},id\\)<\\(\\?,\\?\\)\\)`,
              ),
            );
            expect(plan).not.toMatch(/TEMP B-TREE|SCAN customers/);
          }
        }
        // And the page is right: newest first, strictly after the cursor.
        const rows = await createCustomerReads(store).listPage({
          organizationId: ORGS[0]!,
          sort,
          filter: 'none',
          value: '',
          afterAt: after.afterAt,
          afterId: after.afterId,
          limit: 101,
        });
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row) => row.organization_id === ORGS[0])).toBe(true);
        const keys = rows.map((row) => [row[sort], row.id] as const);
        for (let i = 1; i < keys.length; i++) {
          const [at, id] = keys[i]!;
          const [prevAt, prevId] = keys[i - 1]!;
          expect(at < prevAt || (at === prevAt && id < prevId)).toBe(true);
        }
        expect(keys[0]![0] < after.afterAt || (keys[0]![0] === after.afterAt && keys[0]![1] < after.afterId)).toBe(
          true,
        );
      });
    }
  }
});
