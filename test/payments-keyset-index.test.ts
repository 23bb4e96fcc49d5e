import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createPaymentReads,
  insertPaymentRows,
  type PaymentRecordRow,
} from '../src/store/repositories/payment-repository.js';
import { type CompiledStatement, type QueryParams, type Store } from '../src/store/store.js';
import { describeEachBackend } from './helpers/backends.js';
import { paymentRow } from './helpers/factories.js';
import { capturePreparedStatements, explainSql, openStoreWithOrganizations } from './helpers/query-plans.js';

const ORGS = ['01JORG0000000000000000000A', '01JORG0000000000000000000B'];
const PER_ORG = 3000;
const START = Date.UTC(2024, 0, 1);

function paymentRows(organizationId: string): PaymentRecordRow[] {
  return Array.from({ length: PER_ORG }, (_, i) =>
    paymentRow(organizationId, `pay-${organizationId.slice(-1)}-${String(i).padStart(6, '0')}`, START + i * 60_000, {
      location_id: `LOC${i % 10}`,
      customer_id: `CUST${i % 300}`,
      updated_at: START + ((i * 7919) % PER_ORG) * 60_000,
    }),
  );
}

/** The SQL of every prepared statement the payment reads build, as the store compiles them. */
function capturePageStatements(store: Store): CompiledStatement[] {
  const captured = capturePreparedStatements(store, createPaymentReads);
  // The first is the lookup by id; then [created_at, updated_at] x [none, location, customer, both].
  return captured.slice(1);
}

function explain(store: Store, statement: CompiledStatement, params: QueryParams): Promise<string> {
  return explainSql(store, statement.sql, statement.bind(params));
}

await describeEachBackend('payment pages use their keyset indexes', (backend) => {
  let store: Store;
  let database: Awaited<ReturnType<typeof backend.createDatabase>>;
  let statements: CompiledStatement[];

  beforeAll(async () => {
    ({ store, database } = await openStoreWithOrganizations(backend, ORGS));
    for (const id of ORGS) {
      await insertPaymentRows(store.db, paymentRows(id));
    }
    await store.db.executeQuery(CompiledQuery.raw('analyze'));
    statements = capturePageStatements(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  const sorts = ['created_at', 'updated_at'] as const;
  const filters = ['none', 'location', 'customer'] as const;
  for (const [s, sort] of sorts.entries()) {
    for (const [f, filter] of filters.entries()) {
      it(`sort=${sort}, filter ${filter}: an index range scan in order, no sort, no full scan`, async () => {
        const statement = statements[s * 4 + f]!;
        const tag = sort === 'created_at' ? 'created' : 'updated';
        const index = filter === 'none' ? `payments_${tag}_idx` : `payments_${filter}_${tag}_idx`;
        const params = {
          org: ORGS[0]!,
          afterAt: START + 1000 * 60_000,
          afterId: 'pay-A-001000',
          location: 'LOC3',
          customer: 'CUST7',
          limit: 101,
        };
        const plan = await explain(store, statement, params);
        if (store.kind === 'postgres') {
          expect(plan).toMatch(new RegExp(`Index Scan (Backward )?using ${index} on payments p`));
          expect(plan).not.toMatch(/Sort|Seq Scan on payments/);
        } else {
          expect(plan).toMatch(new RegExp(`SEARCH p USING INDEX ${index} `));
          expect(plan).not.toMatch(/TEMP B-TREE|SCAN p\b/);
        }
      });
    }
  }
});
