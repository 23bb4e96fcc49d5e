import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../src/domain/ids.js';
import type { Customer } from '../src/contract/customers.js';
import { insertCustomers, type NewCustomerRow } from '../src/store/repositories/customer-repository.js';
import { describeEachBackend } from './helpers/backends.js';
import { CLI, REPO_ROOT, runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ROWS = 10_000;
const GENDERS = ['MALE', 'FEMALE', 'OTHER', null] as const;

/** Customers with every kind of field set or absent, and statistics, written straight to the database. */
function richRows(organizationId: string, count: number): NewCustomerRow[] {
  const base = Date.UTC(2022, 5, 1);
  return Array.from({ length: count }, (_, i) => {
    const at = base - i * 60_000;
    const email = i % 7 === 0 ? null : `Person.${i}@Example.com`;
    return {
      organization_id: organizationId,
      id: newId(at),
      first_name: i % 11 === 0 ? `Anne, "the ${i}th"` : `First${i}`,
      last_name: i % 13 === 0 ? `Multi\nLine ${i}` : `Last${i}`,
      email,
      email_normalized: email?.toLowerCase() ?? null,
      phone_number: i % 3 === 0 ? null : `+6141${String(1000000 + i).slice(-7)}`,
      dob: i % 5 === 0 ? null : `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
      gender: GENDERS[i % 4]!,
      has_agreed_to_marketing: i % 4 === 0 ? null : i % 2,
      created_at: at,
      updated_at: at + 1000,
      points_balance: i % 17,
      total_points_earned: i * 3,
      total_points_redeemed: i * 2,
      // Spend comes from payments only (imports ignore it); the payments round trip is in payments-import.test.ts.
      total_spend: 0,
      last_points_earned_at: i % 2 === 0 ? at + 1234 : null,
      last_points_redeemed_at: i % 6 === 0 ? at + 5678 : null,
      last_spent_at: null,
    };
  });
}

function withoutUpdatedAt(customers: Customer[]) {
  return customers.map(({ updatedAt: _updatedAt, ...rest }) => rest);
}

await describeEachBackend('import and export CLI', (backend) => {
  let server: TestServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer(backend);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-import-'));
    env = { DATABASE_URL: server.databaseUrl };
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function allCustomers(organizationId: string): Promise<Customer[]> {
    const customers: Customer[] = [];
    for await (const page of server.services.customerImport.exportCustomers(organizationId)) customers.push(...page);
    return customers;
  }

  async function countRows(table: 'customers' | 'events', organizationId: string): Promise<number> {
    const row = await server.store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  for (const format of ['ndjson', 'csv'] as const) {
    it(`round-trips ${ROWS} customers through export and import as ${format}`, async () => {
      const source = (await server.createOrganization(`Source ${format}`)).id;
      await server.store.db.transaction().execute((trx) => insertCustomers(trx, richRows(source, ROWS)));
      const original = await allCustomers(source);
      expect(original).toHaveLength(ROWS);

      const file = path.join(dir, `export.${format}`);
      const exported = await runCli(['export', '--org', source, '--format', format, '--output', file], env);
      expect(exported.stderr).toContain(`Exported ${ROWS} customers`);
      expect(exported.code).toBe(0);
      const stdout = await runCli(['export', '--org', source, '--format', format], env);
      expect(stdout.stdout).toBe(fs.readFileSync(file, 'utf8'));

      const target = (await server.createOrganization(`Target ${format}`)).id;
      const imported = await runCli(['import', '--org', target, file, '--json'], env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({
        rows: ROWS,
        inserted: ROWS,
        updated: 0,
        unchanged: 0,
        rejected: 0,
      });
      expect(withoutUpdatedAt(await allCustomers(target))).toEqual(withoutUpdatedAt(original));
      // Each imported customer got its customer.created event in the same transaction.
      expect(await countRows('events', target)).toBe(ROWS);

      // Importing the export into its own organization changes nothing and duplicates nothing.
      const again = await runCli(['import', '--org', source, file, '--format', format, '--json'], env);
      expect(JSON.parse(again.stdout)).toMatchObject({
        rows: ROWS,
        inserted: 0,
        updated: 0,
        unchanged: ROWS,
        rejected: 0,
      });
      expect(await allCustomers(source)).toEqual(original);
      expect(await countRows('events', source)).toBe(0);
    }, 120_000);
  }

  it('reports rejected rows with their line numbers and imports the others', async () => {
    const org = (await server.createOrganization('Rejects')).id;
    const file = path.join(dir, 'rejects.csv');
    fs.writeFileSync(
      file,
      [
        'firstName,lastName,email,phoneNumber,statistics.totalSpend',
        'Ann,Lee,ann@example.com,0411 222 333,120',
        'Bad,Email,not-an-email,,',
        '"Two',
        'Lines",Ok,two@example.com,,',
        'Short,Row',
        ',Nameless,,,',
        'Neg,Spend,neg@example.com,,-5',
        'Phone,Bad,,12,',
        'Last,Good,LAST@example.com,,7',
      ].join('\n'),
    );
    const rejectsFile = path.join(dir, 'rejects.out');
    // In-process validation here (--threads 0); the other tests validate in worker threads.
    const result = await runCli(['import', '--org', org, file, '--rejects', rejectsFile, '--threads', '0'], env);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /Imported 8 rows .*: 4 inserted, 0 updated, 0 unchanged, 4 rejected \(see .*rejects\.out\)/,
    );
    const rejects = fs
      .readFileSync(rejectsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(rejects).toEqual([
      { line: 3, reason: 'email: must be a valid email address' },
      { line: 6, reason: 'has 2 cells where the header has 5' },
      { line: 7, reason: 'firstName: is required' },
      { line: 9, reason: 'phoneNumber: must be a valid phone number' },
    ]);
    const stored = await allCustomers(org);
    expect(stored.map((c) => c.firstName).sort()).toEqual(['Ann', 'Last', 'Neg', 'Two\nLines']);
    // totalSpend comes from payments only: the column is read and ignored, whatever it holds.
    expect(stored.find((c) => c.firstName === 'Ann')).toMatchObject({
      phoneNumber: '+61411222333',
      statistics: { totalSpend: 0 },
    });
    expect(stored.find((c) => c.firstName === 'Neg')!.statistics!.totalSpend).toBe(0);

    const json = path.join(dir, 'rejects.ndjson');
    fs.writeFileSync(
      json,
      ['{"firstName":"A","lastName":"B"}', '', '{oops', '{"firstName":"C","lastName":"D","nickname":"x"}', '[1]'].join(
        '\n',
      ),
    );
    const ndjson = await runCli(['import', '--org', org, json, '--json'], env);
    expect(ndjson.code).toBe(4);
    expect(JSON.parse(ndjson.stdout)).toMatchObject({
      rows: 4,
      inserted: 1,
      rejected: 3,
      rejectsFile: `${json}.rejects.ndjson`,
    });
    const ndjsonRejects = fs
      .readFileSync(`${json}.rejects.ndjson`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(ndjsonRejects.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(ndjsonRejects[0]!.reason).toMatch(/^not valid JSON/);
    expect(ndjsonRejects[1]!.reason).toBe('nickname: is not a field of a customer');
    expect(ndjsonRejects[2]!.reason).toBe('the record is not an object');
  });

  it('fails before importing anything on an unknown organization or CSV column', async () => {
    const org = (await server.createOrganization('Strict')).id;
    const file = path.join(dir, 'columns.csv');
    fs.writeFileSync(file, 'firstName,lastName,shoeSize\nA,B,42\n');
    const bad = await runCli(['import', '--org', org, file], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown CSV column(s) shoeSize');
    const missing = await runCli(['import', '--org', 'no-such-org', file], env);
    expect(missing.code).toBe(3);
    expect(await countRows('customers', org)).toBe(0);
  });

  it('re-running an interrupted import creates no duplicates, and an interruption leaves whole batches only', async () => {
    const org = (await server.createOrganization('Resume')).id;
    // A file from another system: no ids, so customers are matched by email on the re-run.
    const lines = Array.from({ length: ROWS }, (_, i) =>
      JSON.stringify({ firstName: `R${i}`, lastName: 'Resume', email: `resume${i}@example.com` }),
    );
    const full = path.join(dir, 'resume.ndjson');
    fs.writeFileSync(full, `${lines.join('\n')}\n`);

    // Killed while importing: whatever committed is a number of whole batches.
    const child = spawn(process.execPath, [CLI, 'import', '--org', org, full, '--batch-size', '500'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        if (/import: \d+ rows/.test(d.toString())) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    const afterKill = await countRows('customers', org);
    expect(afterKill % 500).toBe(0);
    expect(afterKill).toBeLessThanOrEqual(ROWS);

    // A prefix of the file imported on its own, as if the first run had stopped there.
    fs.writeFileSync(path.join(dir, 'prefix.ndjson'), `${lines.slice(0, 4321).join('\n')}\n`);
    expect((await runCli(['import', '--org', org, path.join(dir, 'prefix.ndjson')], env)).code).toBe(0);

    const rerun = await runCli(['import', '--org', org, full, '--json'], env);
    expect(rerun.code, rerun.stderr).toBe(0);
    const totals = JSON.parse(rerun.stdout) as { inserted: number; unchanged: number };
    expect(totals.inserted + totals.unchanged).toBe(ROWS);
    expect(totals.unchanged).toBeGreaterThanOrEqual(4321);
    const stored = await allCustomers(org);
    expect(stored).toHaveLength(ROWS);
    expect(new Set(stored.map((c) => c.email)).size).toBe(ROWS);
  }, 120_000);

  it('upserts by id, else by email, in one batch too, and keeps statistics the record does not carry', async () => {
    const org = (await server.createOrganization('Upsert')).id;
    const existing = await server.createCustomer(org, {
      firstName: 'Old',
      lastName: 'Name',
      email: 'Match@Example.com',
      phoneNumber: '0411 000 111',
    });
    const byId = await server.createCustomer(org, { firstName: 'Id', lastName: 'Match' });
    await server.store.db.updateTable('customers').set({ total_spend: 500 }).where('id', '=', existing.id).execute();
    const file = path.join(dir, 'upsert.ndjson');
    fs.writeFileSync(
      file,
      [
        { firstName: 'New', lastName: 'Name', email: 'match@example.COM' },
        { id: byId.id, firstName: 'Id', lastName: 'Changed', statistics: { pointsBalance: 9 } },
        { firstName: 'Fresh', lastName: 'One', email: 'fresh@example.com' },
        { firstName: 'Fresh', lastName: 'Again', email: 'FRESH@example.com' },
        { id: '01JIMPORTEDID0000000000000', firstName: 'Given', lastName: 'Id', createdAt: '2020-01-02T03:04:05Z' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const result = await runCli(['import', '--org', org, file, '--json'], env);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 5, inserted: 2, updated: 3, rejected: 0 });
    const matched = await server.services.customers.getCustomer(org, existing.id);
    expect(matched).toMatchObject({ firstName: 'New', email: 'match@example.COM', statistics: { totalSpend: 500 } });
    // A record is the whole customer: the phone number it lacks is removed.
    expect(matched.phoneNumber).toBeUndefined();
    expect(await server.services.customers.getCustomer(org, byId.id)).toMatchObject({
      lastName: 'Changed',
      statistics: { pointsBalance: 9 },
    });
    const given = await server.services.customers.getCustomer(org, '01JIMPORTEDID0000000000000');
    expect(given).toMatchObject({ firstName: 'Given', createdAt: '2020-01-02T03:04:05Z' });
    const fresh = (await allCustomers(org)).filter((c) => c.email?.toLowerCase() === 'fresh@example.com');
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.lastName).toBe('Again');

    const events = await server.store.db
      .selectFrom('events')
      .select(['type', 'payload'])
      .where('organization_id', '=', org)
      .orderBy('sequence')
      .execute();
    const imported = events.slice(2).map((e) => e.type);
    expect(imported.sort()).toEqual([
      'customer.created',
      'customer.created',
      'customer.updated',
      'customer.updated',
      'customer.updated-statistics',
    ]);
  });

  it('takes imported points statistics as the opening figures that later adjustments and reversals move', async () => {
    const org = (await server.createOrganization('Opening')).id;
    const customer = await server.createCustomer(org, { firstName: 'Open', lastName: 'Ing' });
    const file = path.join(dir, 'opening.ndjson');
    const lastEarned = '2021-08-23T02:06:24.000Z';
    fs.writeFileSync(
      file,
      JSON.stringify({
        id: customer.id,
        firstName: 'Open',
        lastName: 'Ing',
        statistics: {
          pointsBalance: 400,
          totalPointsEarned: 500,
          totalPointsRedeemed: 100,
          lastPointsEarnedAt: lastEarned,
        },
      }),
    );
    await runCli(['import', '--org', org, file, '--json'], env);
    const token = await server.createToken([org], ['customers:read', 'customers:write']);
    const points = (reference: string) => `/organizations/${org}/customers/${customer.id}/points/${reference}`;
    expect((await server.request('PUT', points('earn'), { token, body: { amount: 25 } })).status).toBe(204);
    expect((await server.request('PUT', points('redeem'), { token, body: { amount: -5 } })).status).toBe(204);
    const moved = (await server.services.customers.getCustomer(org, customer.id)).statistics!;
    expect(moved).toMatchObject({ pointsBalance: 420, totalPointsEarned: 525, totalPointsRedeemed: 105 });
    expect(Date.parse(moved.lastPointsEarnedAt!)).toBeGreaterThan(Date.parse(lastEarned));
    // Reversing the only ledger entries leaves the imported counts; the latest earning is then what the ledger holds
    // (nothing: an imported time has no entry behind it).
    expect((await server.request('DELETE', points('earn'), { token })).status).toBe(204);
    expect((await server.request('DELETE', points('redeem'), { token })).status).toBe(204);
    const back = (await server.services.customers.getCustomer(org, customer.id)).statistics!;
    expect(back).toMatchObject({ pointsBalance: 400, totalPointsEarned: 500, totalPointsRedeemed: 100 });
    expect(back.lastPointsEarnedAt).toBeUndefined();
  });
});
