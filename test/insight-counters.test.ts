import { Migrator } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config.js';
import type { Insights, InsightInterval } from '../src/contract/insights.js';
import type { ImportJob } from '../src/contract/imports.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { openStore } from '../src/store/open-store.js';
import { bucketTotalsQuery, INSIGHT_SLOT_MS } from '../src/store/repositories/insight-repository.js';
import { insertPointRecords } from '../src/store/repositories/ledger-repository.js';
import { insertPaymentRows } from '../src/store/repositories/payment-repository.js';
import type { Store } from '../src/store/store.js';
import { describeEachBackend, type TestDatabase } from './helpers/backends.js';
import { insertCustomersDirectly } from './helpers/bulk.js';
import { paymentRow } from './helpers/factories.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;
const THIS_MIGRATION = '2026-12-04T0500-insight-counters';
const ALL_MIGRATIONS = Object.keys(await migrationProvider.getMigrations()).sort();
const PREVIOUS = ALL_MIGRATIONS[ALL_MIGRATIONS.indexOf(THIS_MIGRATION) - 1]!;

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
}

type Slots = Map<string, [number, number, number, number]>;

/** The counters recomputed from the stored rows: per quarter hour, new customers, points earned/redeemed, spend. */
async function slotsFromRows(store: Store, orgId: string): Promise<Slots> {
  const slots: Slots = new Map();
  const add = (at: unknown, figure: number, value: number) => {
    const ms = Number(at);
    const key = String(ms - (((ms % INSIGHT_SLOT_MS) + INSIGHT_SLOT_MS) % INSIGHT_SLOT_MS));
    const entry = slots.get(key) ?? [0, 0, 0, 0];
    entry[figure]! += value;
    slots.set(key, entry);
  };
  const db = store.db;
  for (const c of await db.selectFrom('customers').select('created_at').where('organization_id', '=', orgId).execute())
    add(c.created_at, 0, 1);
  for (const p of await db
    .selectFrom('point_records')
    .select(['amount', 'occurred_at'])
    .where('organization_id', '=', orgId)
    .execute()) {
    const amount = Number(p.amount);
    add(p.occurred_at, amount > 0 ? 1 : 2, Math.abs(amount));
  }
  for (const y of await db
    .selectFrom('payments')
    .select(['charged_amount', 'external_amount', 'refunded_amount', 'completed_at'])
    .where('organization_id', '=', orgId)
    .execute())
    add(y.completed_at, 3, Number(y.charged_amount) + Number(y.external_amount) - Number(y.refunded_amount));
  return slots;
}

async function slotsFromCounters(store: Store, orgId: string): Promise<Slots> {
  const rows = await store.db.selectFrom('insight_counters').selectAll().where('organization_id', '=', orgId).execute();
  const slots: Slots = new Map();
  for (const row of rows) {
    const figures = [row.new_customers, row.points_earned, row.points_redeemed, row.spend].map(Number) as [
      number,
      number,
      number,
      number,
    ];
    // A slot whose rows all went (an erasure, a reversal) stays as zeros.
    if (figures.some((f) => f !== 0)) slots.set(String(Number(row.slot)), figures);
  }
  return slots;
}

async function marketingFromRows(store: Store, orgId: string) {
  const rows = await store.db
    .selectFrom('customers')
    .select('has_agreed_to_marketing')
    .where('organization_id', '=', orgId)
    .execute();
  return { agreed: rows.filter((r) => Number(r.has_agreed_to_marketing) === 1).length, total: rows.length };
}

const sorted = (slots: Slots) => [...slots.entries()].sort(([a], [b]) => Number(a) - Number(b));

await describeEachBackend('insight counters: kept by every write, equal to the stored rows', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  async function tenant(timezone: string) {
    const org = await server.services.organizations.createOrganization({ name: `Counters ${timezone}`, timezone });
    const read = await server.createToken([org.id], ['customers:read']);
    const write = await server.createToken([org.id], ['customers:read', 'customers:write']);
    return { orgId: org.id, read, write, customers: [] as string[], points: [] as [string, string][], payments: 0 };
  }

  async function expectInsightsEqualRows(t: Awaited<ReturnType<typeof tenant>>, interval: InsightInterval) {
    const now = Date.now();
    const from = new Date(now - (interval === 'day' ? 80 : 300) * DAY).toISOString();
    const to = new Date(now + DAY).toISOString();
    const response = await server.request<Insights>(
      'GET',
      `/organizations/${t.orgId}/insights?interval=${interval}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      { token: t.read },
    );
    expect(response.status, response.text).toBe(200);
    const starts = response.body.series.newCustomers.map((b) => Date.parse(b.start));
    const buckets = starts.map((start, i) => ({ start, end: starts[i + 1] ?? Date.parse(response.body.to) }));
    const direct = (await bucketTotalsQuery(t.orgId, buckets).execute(server.store.db)).rows;
    expect({
      newCustomers: response.body.series.newCustomers.map((b) => b.value),
      pointsEarned: response.body.series.pointsEarned.map((b) => b.value),
      pointsRedeemed: response.body.series.pointsRedeemed.map((b) => b.value),
      spend: response.body.series.spend.map((b) => b.value),
    }).toEqual({
      newCustomers: direct.map((r) => Number(r.new_customers)),
      pointsEarned: direct.map((r) => Number(r.points_earned)),
      pointsRedeemed: direct.map((r) => Number(r.points_redeemed)),
      spend: direct.map((r) => Number(r.spend)),
    });
    expect(response.body.marketingOptIn).toEqual(await marketingFromRows(server.store, t.orgId));
    return response.body;
  }

  it('after random writes through the API (and rows written directly), insights equal the rows', async () => {
    // Offsets of +05:45 and -03:30/-02:30: buckets that only quarter-hour slots split exactly.
    const tenants = [await tenant('Asia/Kathmandu'), await tenant('America/St_Johns')];
    const rng = random(17);
    const now = Date.now();
    const past = (maxDays: number) => new Date(now - rng.int(maxDays * DAY)).toISOString();
    // Customers created over the last months (the API stamps "now"; direct rows are how old data arrives).
    for (const [i, t] of tenants.entries()) {
      const rows = await insertCustomersDirectly(server.store, t.orgId, 40, {
        startAt: now - 5 * DAY,
        prefix: `Old${i}`,
      });
      // Spread them: one every few hours back to ~80 days ago.
      for (const [j, row] of rows.entries())
        await server.store.db
          .updateTable('customers')
          .set({ created_at: now - 5 * DAY - j * 47 * 3_600_000 })
          .where('organization_id', '=', t.orgId)
          .where('id', '=', row.id)
          .execute();
      t.customers.push(...rows.map((r) => r.id));
    }
    const operations = [
      'create',
      'create',
      'marketing',
      'points',
      'points',
      'reverse',
      'payment',
      'spend',
      'refund',
      'erase',
    ] as const;
    for (let step = 0; step < 240; step++) {
      const t = rng.pick(tenants);
      const op = rng.pick(operations);
      const customer = t.customers.length > 0 ? rng.pick(t.customers) : undefined;
      const path = `/organizations/${t.orgId}`;
      if (op === 'create' || !customer) {
        const created = await server.createCustomer(t.orgId, { hasAgreedToMarketing: rng.next() < 0.5 }, t.write);
        t.customers.push(created.id);
      } else if (op === 'marketing') {
        const response = await server.request('PATCH', `${path}/customers/${customer}`, {
          token: t.write,
          body: { hasAgreedToMarketing: rng.next() < 0.5 },
        });
        expect(response.status, response.text).toBe(200);
      } else if (op === 'points') {
        const reference = `p${step}`;
        const amount = rng.pick([-30, -5, 10, 25, 100, 40]);
        // Redeem mostly from a customer who earned, so redemptions happen.
        const owner = amount < 0 && t.points.length > 0 ? t.points.at(-1)![0] : customer;
        const response = await server.request('PUT', `${path}/customers/${owner}/points/${reference}`, {
          token: t.write,
          body: { amount },
        });
        // A redemption past the balance is refused (409) and stores nothing: the counters must not move either.
        expect([204, 409], response.text).toContain(response.status);
        if (response.status === 204) t.points.push([owner, reference]);
      } else if (op === 'reverse' && t.points.length > 0) {
        const [owner, reference] = t.points.splice(rng.int(t.points.length), 1)[0]!;
        const response = await server.request('DELETE', `${path}/customers/${owner}/points/${reference}`, {
          token: t.write,
        });
        expect([204, 404, 409], response.text).toContain(response.status);
      } else if (op === 'payment') {
        t.payments++;
        const response = await server.request('PUT', `${path}/payments/pay-${t.payments}`, {
          token: t.write,
          body: {
            billingType: 'order/pickup',
            chargedAmount: 100 * (1 + rng.int(50)),
            externalAmount: rng.int(3) * 50,
            customerId: rng.next() < 0.8 ? customer : undefined,
            completedAt: past(70),
          },
        });
        expect(response.status, response.text).toBe(201);
      } else if (op === 'spend') {
        const response = await server.request('PUT', `${path}/customers/${customer}/spend/s${step}`, {
          token: t.write,
          body: { amount: 100 + rng.int(5000), occurredAt: past(60) },
        });
        expect(response.status, response.text).toBeLessThan(300);
      } else if (op === 'refund' && t.payments > 0) {
        const response = await server.request('POST', `${path}/payments/pay-${1 + rng.int(t.payments)}/refund`, {
          token: t.write,
          body: { amount: 10 + rng.int(40) },
        });
        expect([200, 409], response.text).toContain(response.status);
      } else if (op === 'erase') {
        const response = await server.request('DELETE', `${path}/customers/${customer}`, { token: t.write });
        expect(response.status, response.text).toBeLessThan(300);
        t.customers.splice(t.customers.indexOf(customer), 1);
        t.points = t.points.filter(([owner]) => owner !== customer);
      }
    }
    // An import: its batch inserts are counted too.
    const ndjson = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ firstName: `Imp${i}`, lastName: 'Orted', hasAgreedToMarketing: i % 3 === 0 }),
    ).join('\n');
    const upload = await server.request<ImportJob>('POST', `/organizations/${tenants[0]!.orgId}/imports`, {
      token: tenants[0]!.write,
      rawBody: `${ndjson}\n`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(upload.status, upload.text).toBe(202);
    for (let i = 0; ; i++) {
      const job = await server.request<ImportJob>('GET', upload.headers.get('location')!, {
        token: tenants[0]!.read,
      });
      if (job.body.status !== 'running') {
        expect([job.body.status, job.body.rowsImported]).toEqual(['completed', 30]);
        break;
      }
      expect(i).toBeLessThan(500);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const sums = { newCustomers: 0, pointsEarned: 0, pointsRedeemed: 0, spend: 0 };
    for (const t of tenants) {
      expect(sorted(await slotsFromCounters(server.store, t.orgId))).toEqual(
        sorted(new Map([...(await slotsFromRows(server.store, t.orgId))].filter(([, f]) => f.some((v) => v !== 0)))),
      );
      for (const interval of ['day', 'week', 'month'] as const) {
        const body = await expectInsightsEqualRows(t, interval);
        for (const name of Object.keys(sums) as (keyof Insights['series'])[])
          sums[name] += body.series[name].reduce((a, b) => a + b.value, 0);
      }
    }
    // Not vacuous: the ranges held customers, both kinds of points and spend.
    expect(
      Object.values(sums).every((sum) => sum > 0),
      JSON.stringify(sums),
    ).toBe(true);
  });

  it('a bucket edge off the quarter-hour grid (a historical offset) is read from the rows, still exact', async () => {
    // Africa/Monrovia kept -00:44:30 until 1972: its midnights of 1970 are not on the grid.
    const t = await tenant('Africa/Monrovia');
    const start = Date.UTC(1970, 5, 1);
    const rows = await insertCustomersDirectly(server.store, t.orgId, 50, { startAt: start + 20 * DAY });
    await insertPointRecords(
      server.store.db,
      rows.map((c, i) => ({
        organization_id: t.orgId,
        customer_id: c.id,
        reference: `r${i}`,
        amount: i % 4 === 0 ? -3 : 7,
        notes: null,
        occurred_at: start + i * 9 * 3_600_000,
      })),
    );
    const response = await server.request<Insights>(
      'GET',
      `/organizations/${t.orgId}/insights?interval=day&from=1970-06-01T00:00:00Z&to=1970-06-30T00:00:00Z`,
      { token: t.read },
    );
    expect(response.status, response.text).toBe(200);
    expect(Date.parse(response.body.from) % INSIGHT_SLOT_MS).not.toBe(0);
    const starts = response.body.series.newCustomers.map((b) => Date.parse(b.start));
    const buckets = starts.map((s, i) => ({ start: s, end: starts[i + 1] ?? Date.parse(response.body.to) }));
    const direct = (await bucketTotalsQuery(t.orgId, buckets).execute(server.store.db)).rows;
    expect(response.body.series.pointsEarned.map((b) => b.value)).toEqual(direct.map((r) => Number(r.points_earned)));
    expect(response.body.series.newCustomers.map((b) => b.value)).toEqual(direct.map((r) => Number(r.new_customers)));
    expect(response.body.series.newCustomers.reduce((a, b) => a + b.value, 0)).toBe(50);
  });
});

await describeEachBackend('migration: insight counters backfilled from stored rows', (backend) => {
  let database: TestDatabase;
  let store: Store;
  const ORG = '01J00000000000000000000CNT';

  beforeAll(async () => {
    database = await backend.createDatabase();
    store = await openStore(parseDatabaseUrl(database.url));
    const { error } = await store.withMigrationDb((db) =>
      new Migrator({ db, provider: migrationProvider }).migrateTo(PREVIOUS),
    );
    expect(error).toBeUndefined();
    await store.db
      .insertInto('organizations')
      .values({
        id: ORG,
        name: 'Before counters',
        currency: 'AUD',
        timezone: 'Australia/Melbourne',
        created_at: Date.UTC(2025, 0, 1),
        clock: Date.UTC(2025, 0, 2),
        event_sequence: 0,
      })
      .execute();
    const customers = await insertCustomersDirectly(store, ORG, 1500, { startAt: Date.UTC(2026, 5, 1) });
    await store.db
      .updateTable('customers')
      .set({ has_agreed_to_marketing: 1 })
      .where('organization_id', '=', ORG)
      .where('first_name', 'like', 'Bulk1%')
      .execute();
    await insertPointRecords(
      store.db,
      customers.map((c, i) => ({
        organization_id: ORG,
        customer_id: c.id,
        reference: `r${i}`,
        amount: i % 3 === 0 ? -4 : 11,
        notes: null,
        occurred_at: Date.UTC(2026, 4, 1) + i * 600_000,
      })),
    );
    await insertPaymentRows(
      store.db,
      customers
        .slice(0, 700)
        .map((c, i) => paymentRow(ORG, `pay-${i}`, Date.UTC(2026, 4, 1) + i * 3_000_000, { customer_id: c.id })),
    );
    const { error: latest } = await store.withMigrationDb((db) =>
      new Migrator({ db, provider: migrationProvider }).migrateToLatest(),
    );
    expect(latest).toBeUndefined();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('counts the rows an earlier version stored, and keeps counting after', async () => {
    const expected = await slotsFromRows(store, ORG);
    expect(expected.size).toBeGreaterThan(100);
    expect(sorted(await slotsFromCounters(store, ORG))).toEqual(sorted(expected));
    const totals = await store.db
      .selectFrom('insight_totals')
      .selectAll()
      .where('organization_id', '=', ORG)
      .executeTakeFirst();
    const marketing = await marketingFromRows(store, ORG);
    expect(marketing.agreed).toBeGreaterThan(0);
    expect({ agreed: Number(totals?.agreed), total: Number(totals?.customers) }).toEqual(marketing);
    // The triggers exist from here on: a delete takes the row out again.
    await store.db
      .deleteFrom('point_records')
      .where('organization_id', '=', ORG)
      .where('reference', '=', 'r1')
      .execute();
    expect(sorted(await slotsFromCounters(store, ORG))).toEqual(
      sorted(new Map([...(await slotsFromRows(store, ORG))].filter(([, f]) => f.some((v) => v !== 0)))),
    );
  });
});
