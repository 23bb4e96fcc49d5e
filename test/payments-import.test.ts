import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import type { Payment } from '../src/contract/payments.js';
import { newId } from '../src/domain/ids.js';
import { insertLocations, type LocationRow } from '../src/store/repositories/location-repository.js';
import { describeEachBackend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { insertCustomerRows } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const PAYMENTS = 10_000;
const CUSTOMERS = 200;

function locationRow(organizationId: string, id: string, name: string): LocationRow {
  const at = Date.UTC(2020, 0, 1);
  return {
    organization_id: organizationId,
    id,
    name,
    name_search: name.toLowerCase(),
    slug: name.toLowerCase(),
    timezone: 'Australia/Melbourne',
    phone_number: null,
    street_address: null,
    street_address2: null,
    locality: null,
    region: null,
    postal_code: null,
    country: null,
    latitude: null,
    longitude: null,
    created_at: at,
    updated_at: at,
  };
}

await describeEachBackend('payments import and export CLI', (backend) => {
  let server: TestServer;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer(backend);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payments-import-'));
    env = { DATABASE_URL: server.databaseUrl };
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function exported(organizationId: string): Promise<Payment[]> {
    const payments: Payment[] = [];
    for await (const page of server.services.paymentImport.exportPayments(organizationId)) payments.push(...page);
    return payments;
  }

  async function customersOf(organizationId: string): Promise<Customer[]> {
    const customers: Customer[] = [];
    for await (const page of server.services.customerImport.exportCustomers(organizationId)) customers.push(...page);
    return customers;
  }

  const withoutUpdatedAt = <T extends { updatedAt?: string }>(items: T[]) =>
    items.map(({ updatedAt: _updatedAt, ...rest }) => rest);

  it(`imports ${PAYMENTS} payments with rejects, feeds statistics, and round-trips them through export`, async () => {
    const source = (await server.createOrganization('Payments source')).id;
    const customers = await insertCustomerRows(server.store, source, CUSTOMERS);
    const locationIds = [newId(), newId()];
    await server.store.db
      .transaction()
      .execute((trx) =>
        insertLocations(trx, [
          locationRow(source, locationIds[0]!, 'Richmond'),
          locationRow(source, locationIds[1]!, 'Fitzroy'),
        ]),
      );

    // The model: what each customer paid, less refunds, and their last counting completion.
    const spend = new Map<string, { total: number; last: number }>();
    const lines: string[] = [];
    for (let i = 0; i < PAYMENTS; i++) {
      const customerId = i % 10 === 9 ? undefined : customers[i % CUSTOMERS]!.id;
      const completedAt = Date.UTC(2021, 0, 1) + i * 60_000;
      const charged = 100 + (i % 900);
      const external = i % 4 === 0 ? 50 : 0;
      const refundedAmount = i % 7 === 0 ? Math.min(30, charged) : i % 50 === 1 ? charged + external : 0;
      lines.push(
        JSON.stringify({
          id: `imp-${i}`,
          billingType: i % 2 === 0 ? 'order/pickup' : 'tab',
          chargedAmount: charged,
          externalAmount: external,
          creditAmount: i % 3,
          completedAt: new Date(completedAt).toISOString(),
          locationId: locationIds[i % 2],
          ...(customerId ? { customerId } : {}),
          items: [{ id: `SKU${i % 13}`, name: 'Coffee', amount: charged, quantity: 1, type: 'item', options: [] }],
          ...(refundedAmount > 0
            ? { refundedAmount, refundedAt: new Date(completedAt + 3_600_000).toISOString() }
            : {}),
        }),
      );
      if (customerId) {
        const entry = spend.get(customerId) ?? { total: 0, last: 0 };
        entry.total += charged + external - refundedAmount;
        if (refundedAmount < charged + external) entry.last = Math.max(entry.last, completedAt);
        spend.set(customerId, entry);
      }
    }
    // Bad lines, each rejected with its line number; the others are imported.
    const bad = [
      '{oops',
      JSON.stringify({ id: 'bad-1', billingType: 'tab', chargedAmount: 5, customerId: 'NOPE' }),
      JSON.stringify({ id: 'bad-2', billingType: 'tab', chargedAmount: 5, currency: 'USD' }),
      JSON.stringify({
        id: 'bad-3',
        billingType: 'tab',
        chargedAmount: 5,
        refundedAmount: 6,
        refundedAt: '2021-01-01T00:00:00Z',
      }),
      JSON.stringify({ id: 'has space', billingType: 'tab' }),
      JSON.stringify({ id: 'bad-4', chargedAmount: 5 }),
      JSON.stringify({ id: 'bad-5', billingType: 'tab', nickname: 'x' }),
    ];
    const file = path.join(dir, 'payments.ndjson');
    fs.writeFileSync(file, [...lines, ...bad].join('\n') + '\n');
    const rejectsFile = path.join(dir, 'payments.rejects');
    const imported = await runCli(
      ['import', '--type', 'payments', '--org', source, file, '--rejects', rejectsFile, '--json'],
      env,
    );
    expect(imported.code, imported.stderr).toBe(4);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      rows: PAYMENTS + bad.length,
      inserted: PAYMENTS,
      unchanged: 0,
      rejected: bad.length,
    });
    const rejects = fs
      .readFileSync(rejectsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string })
      // Format errors are reported as read, the others when their batch is written.
      .sort((a, b) => a.line - b.line);
    expect(rejects.map((r) => r.line)).toEqual(bad.map((_, i) => PAYMENTS + 1 + i));
    expect(rejects[0]!.reason).toMatch(/^not valid JSON/);
    expect(rejects.slice(1).map((r) => r.reason.split(':')[0])).toEqual([
      'customerId',
      'currency',
      'refundedAmount',
      'id',
      'billingType',
      'nickname',
    ]);

    const source_ = await exported(source);
    expect(source_).toHaveLength(PAYMENTS);
    for (const customer of await customersOf(source)) {
      const expected = spend.get(customer.id);
      expect(customer.statistics!.totalSpend).toBe(expected?.total ?? 0);
      expect(customer.statistics!.lastSpentAt).toBe(
        expected && expected.last > 0 ? new Date(expected.last).toISOString() : undefined,
      );
    }
    // Imported payments and the statistics they moved are in the feed, as for any write.
    const events = await server.store.db
      .selectFrom('events')
      .select(({ fn }) => ['type', fn.countAll<number>().as('n')])
      .where('organization_id', '=', source)
      .groupBy('type')
      .orderBy('type')
      .execute();
    expect(events.map((e) => [e.type, Number(e.n)])).toEqual([
      ['customer.updated-statistics', expect.any(Number)],
      ['payment.completed', PAYMENTS],
    ]);

    // Export both, import both into another organization (with the same venues): the same payments and statistics.
    const paymentsFile = path.join(dir, 'export-payments.ndjson');
    const customersFile = path.join(dir, 'export-customers.ndjson');
    const exportPayments = await runCli(
      ['export', '--type', 'payments', '--org', source, '--output', paymentsFile],
      env,
    );
    expect(exportPayments.code, exportPayments.stderr).toBe(0);
    expect(exportPayments.stderr).toContain(`Exported ${PAYMENTS} payments`);
    expect((await runCli(['export', '--org', source, '--output', customersFile], env)).code).toBe(0);
    const target = (await server.createOrganization('Payments target')).id;
    await server.store.db
      .transaction()
      .execute((trx) =>
        insertLocations(trx, [
          locationRow(target, locationIds[0]!, 'Richmond'),
          locationRow(target, locationIds[1]!, 'Fitzroy'),
        ]),
      );
    expect((await runCli(['import', '--org', target, customersFile, '--json'], env)).code).toBe(0);
    const intoTarget = await runCli(['import', '--type', 'payments', '--org', target, paymentsFile, '--json'], env);
    expect(intoTarget.code, intoTarget.stderr).toBe(0);
    expect(JSON.parse(intoTarget.stdout)).toMatchObject({ rows: PAYMENTS, inserted: PAYMENTS, rejected: 0 });
    expect(withoutUpdatedAt(await exported(target))).toEqual(withoutUpdatedAt(source_));
    const statisticsOf = (list: Customer[]) => Object.fromEntries(list.map((c) => [c.id, c.statistics]));
    expect(statisticsOf(await customersOf(target))).toEqual(statisticsOf(await customersOf(source)));

    // Importing the export into its own organization again changes nothing and duplicates nothing.
    const sequence = await server.store.db
      .selectFrom('organizations')
      .select('event_sequence')
      .where('id', '=', source)
      .executeTakeFirstOrThrow();
    const again = await runCli(['import', '--type', 'payments', '--org', source, paymentsFile, '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ rows: PAYMENTS, inserted: 0, unchanged: PAYMENTS, rejected: 0 });
    expect(await exported(source)).toEqual(source_);
    const after = await server.store.db
      .selectFrom('organizations')
      .select('event_sequence')
      .where('id', '=', source)
      .executeTakeFirstOrThrow();
    expect(Number(after.event_sequence)).toBe(Number(sequence.event_sequence));

    // A changed record for an existing id is rejected, never applied.
    const changedFile = path.join(dir, 'changed.ndjson');
    fs.writeFileSync(changedFile, `${JSON.stringify({ ...source_[0], chargedAmount: 1 })}\n`);
    const changed = await runCli(['import', '--type', 'payments', '--org', source, changedFile, '--json'], env);
    expect(changed.code).toBe(4);
    expect(JSON.parse(changed.stdout)).toMatchObject({ inserted: 0, rejected: 1 });
    expect((await server.services.payments.getPayment(source, source_[0]!.id)).chargedAmount).toBe(
      source_[0]!.chargedAmount,
    );
  }, 240_000);

  it('refuses CSV and unknown types as usage errors', async () => {
    const org = (await server.createOrganization('Usage')).id;
    const csv = path.join(dir, 'payments.csv');
    fs.writeFileSync(csv, 'id,billingType\np,tab\n');
    for (const args of [
      ['import', '--type', 'payments', '--org', org, csv],
      ['import', '--type', 'orders', '--org', org, csv],
      ['export', '--type', 'payments', '--format', 'csv', '--org', org],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/--type|NDJSON/);
    }
  });
});
