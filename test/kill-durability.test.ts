import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config.js';
import type { Customer } from '../src/contract/customers.js';
import { createServices, type Services } from '../src/services.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { describeEachBackend, type TestDatabase } from './helpers/backends.js';
import { requestJson, startServerProcess, type ServerProcess } from './helpers/processes.js';

/**
 * `kill -9` in the middle of concurrent writes, a few times over: whatever the server acknowledged (a 2xx reached the
 * client) must be there after a restart, the feed must stay gapless, and the statistics must equal the ledger.
 * Unacknowledged writes (in flight at the kill) may or may not have committed; they must never half-commit.
 */
const TRIALS = 3;
const WRITERS = 6;

/** A small deterministic generator, so a failing run can be replayed. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  return (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

interface Acknowledged {
  customers: Map<string, { firstName: string; lastName: string; email: string }>;
  /** customer id -> reference -> amount */
  points: Map<string, Map<string, number>>;
}

function acknowledgedCount(acked: Acknowledged): number {
  let count = acked.customers.size;
  for (const refs of acked.points.values()) count += refs.size;
  return count;
}

interface FeedItem {
  sequence: number;
  event: string;
  customer?: { id: string };
}

await describeEachBackend('durability under kill -9', (backend) => {
  let database: TestDatabase;
  let store: Store;
  let services: Services;
  let orgId: string;
  let token: string;

  beforeAll(async () => {
    database = await backend.createDatabase();
    // Migrate once through a server, then keep a store of our own for the checks on the tables.
    const first = await startServerProcess(database.serverEnv);
    await first.stop();
    store = await openStore(parseDatabaseUrl(database.url), { poolSize: 2 });
    services = createServices(store, { defaultPhoneRegion: 'AU', tokenCacheTtlMs: 0 });
    orgId = (await services.organizations.createOrganization({ name: 'Durable' })).id;
    token = (
      await services.tokens.createToken({ organizationIds: [orgId], scopes: ['customers:read', 'customers:write'] })
    ).token;
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  const call = (server: ServerProcess, method: string, path: string, body?: unknown) =>
    requestJson(server, token, method, path, body);

  /** One writer: creates customers and earns or redeems points on the ones it saw created, until the server dies. */
  async function write(server: ServerProcess, writer: number, trial: number, acked: Acknowledged) {
    const random = createRandom(trial * 1000 + writer);
    const mine: string[] = [];
    for (let n = 0; ; n++) {
      try {
        if (mine.length === 0 || random(3) === 0) {
          const profile = {
            firstName: `W${writer}`,
            lastName: `T${trial} N${n}`,
            email: `w${writer}.t${trial}.n${n}@durable.example.com`,
          };
          const created = await call(server, 'POST', `/organizations/${orgId}/customers`, profile);
          if (created.status !== 201) throw new Error(`create answered ${created.status}`);
          const id = (created.body as Customer).id;
          acked.customers.set(id, profile);
          mine.push(id);
        } else {
          const id = mine[random(mine.length)]!;
          const reference = `t${trial}-w${writer}-n${n}`;
          const amount = random(4) === 0 ? -1 : 1 + random(50);
          const earned = await call(server, 'PUT', `/organizations/${orgId}/customers/${id}/points/${reference}`, {
            amount,
          });
          // A redemption beyond the balance is refused with a 4xx and stores nothing: not acknowledged.
          if (earned.status >= 200 && earned.status < 300) {
            const records = acked.points.get(id) ?? new Map<string, number>();
            records.set(reference, amount);
            acked.points.set(id, records);
          } else if (earned.status >= 500) throw new Error(`points answered ${earned.status}`);
        }
      } catch {
        return n; // the connection died with the server
      }
    }
  }

  async function readFeed(server: ServerProcess): Promise<FeedItem[]> {
    const items: FeedItem[] = [];
    let next: string | null = `${server.baseUrl}/organizations/${orgId}/events?afterSequence=0`;
    while (next) {
      const response: Response = await fetch(next, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      items.push(...((await response.json()) as FeedItem[]));
      next = response.headers.get('x-next-page');
    }
    return items;
  }

  it(`keeps every acknowledged write through ${TRIALS} kills mid-write; the feed stays gapless and statistics equal the ledger`, async () => {
    const acked: Acknowledged = { customers: new Map(), points: new Map() };
    for (let trial = 0; trial < TRIALS; trial++) {
      const server = await startServerProcess(database.serverEnv);
      const writers = Array.from({ length: WRITERS }, (_, writer) => write(server, writer, trial, acked));
      // Let the writers get going (however loaded the machine), then kill without warning, at a point that differs
      // between trials, while all of them are mid-request.
      const target = acknowledgedCount(acked) + 20 + trial * 15;
      for (let waited = 0; acknowledgedCount(acked) < target && waited < 60_000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, trial * 37));
      server.child.kill('SIGKILL');
      await Promise.all(writers);
      expect((await server.exited).signal).toBe('SIGKILL');
      expect(acknowledgedCount(acked)).toBeGreaterThanOrEqual(target);
    }
    expect(acked.customers.size).toBeGreaterThan(10);

    const server = await startServerProcess(database.serverEnv);
    try {
      for (const [id, profile] of acked.customers) {
        const read = await call(server, 'GET', `/organizations/${orgId}/customers/${id}`);
        expect(read.status, `acknowledged customer ${id}`).toBe(200);
        expect(read.body).toMatchObject(profile);
      }
      const records = await store.db
        .selectFrom('point_records')
        .select(['customer_id', 'reference', 'amount'])
        .where('organization_id', '=', orgId)
        .execute();
      const stored = new Map(records.map((r) => [`${r.customer_id}/${r.reference}`, Number(r.amount)]));
      for (const [id, refs] of acked.points) {
        for (const [reference, amount] of refs) expect(stored.get(`${id}/${reference}`)).toBe(amount);
      }

      // Statistics equal the ledger for every customer, committed-but-unacknowledged records included.
      const customers = await store.db
        .selectFrom('customers')
        .select(['id', 'points_balance', 'total_points_earned', 'total_points_redeemed'])
        .where('organization_id', '=', orgId)
        .execute();
      for (const customer of customers) {
        const own = records.filter((r) => r.customer_id === customer.id).map((r) => Number(r.amount));
        const earned = own.filter((a) => a > 0).reduce((a, b) => a + b, 0);
        const redeemed = own.filter((a) => a < 0).reduce((a, b) => a - b, 0);
        expect(Number(customer.points_balance), customer.id).toBe(earned - redeemed);
        expect(Number(customer.total_points_earned), customer.id).toBe(earned);
        expect(Number(customer.total_points_redeemed), customer.id).toBe(redeemed);
      }

      // The feed: sequences 1..N without a gap, a customer.created for every stored customer and nothing else.
      const feed = await readFeed(server);
      expect(feed.map((e) => e.sequence)).toEqual(feed.map((_, i) => i + 1));
      const createdIds = feed.filter((e) => e.event === 'customer.created').map((e) => e.customer?.id);
      expect(new Set(createdIds)).toEqual(new Set(customers.map((c) => c.id)));
      for (const id of acked.customers.keys()) expect(createdIds).toContain(id);
    } finally {
      await server.stop();
    }
  }, 180_000);
});
