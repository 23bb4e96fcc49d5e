import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { availableBackends } from './helpers/backends.js';
import { useTwoServerProcesses } from './helpers/two-processes.js';

// Two real `customers-api serve` processes on one PostgreSQL database, as behind a load balancer.
const postgres = (await availableBackends()).find((b) => b.name === 'postgres');

interface Response<T> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T>(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response<T>> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

function updatedAtOf(customer: Customer): string {
  if (customer.updatedAt === undefined) throw new Error(`customer ${customer.id} has no updatedAt`);
  return customer.updatedAt;
}

/** A small deterministic generator, so a failing run can be replayed. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  return (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

describe.runIf(postgres)('many API processes on one PostgreSQL database', () => {
  if (!postgres) return;
  const two = useTwoServerProcesses(
    () => postgres.createDatabase(),
    (database) => ({ ...database.serverEnv, DATABASE_POOL_SIZE: '4' }),
  );

  async function newOrganization() {
    const org = await two.services.organizations.createOrganization({ name: 'Shared' });
    const token = (
      await two.services.tokens.createToken({
        organizationIds: [org.id],
        scopes: ['customers:read', 'customers:write'],
      })
    ).token;
    return { orgId: org.id, token };
  }

  it('a write through one process is read through the other at once', async () => {
    const { orgId, token } = await newOrganization();
    for (let i = 0; i < 10; i++) {
      const [writer, reader] = i % 2 === 0 ? [two.a, two.b] : [two.b, two.a];
      const email = `read.after.write.${i}@example.com`;
      const created = await call<Customer>(writer.baseUrl, token, 'POST', `/organizations/${orgId}/customers`, {
        firstName: `Created${i}`,
        lastName: 'Shared',
        email,
      });
      expect(created.status).toBe(201);
      const got = await call<Customer>(
        reader.baseUrl,
        token,
        'GET',
        `/organizations/${orgId}/customers/${created.body.id}`,
      );
      expect(got).toMatchObject({ status: 200, body: created.body });

      const patched = await call<Customer>(
        reader.baseUrl,
        token,
        'PATCH',
        `/organizations/${orgId}/customers/${created.body.id}`,
        {
          firstName: `Patched${i}`,
        },
      );
      expect(patched.status).toBe(200);
      const newest = await call<Customer[]>(
        writer.baseUrl,
        token,
        'GET',
        `/organizations/${orgId}/customers?sort=updated&limit=1`,
      );
      expect(newest.body).toEqual([patched.body]);
      const found = await call<Customer[]>(
        writer.baseUrl,
        token,
        'GET',
        `/organizations/${orgId}/customers?email=${encodeURIComponent(email)}`,
      );
      expect(found.body).toEqual([patched.body]);
    }
  });

  it('concurrent writers through both processes: updatedAt follows commit order and the sort=updated sync recipe misses nothing', async () => {
    const { orgId, token } = await newOrganization();
    const random = createRandom(20261127);
    const processes = [two.a, two.b];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const created = await call<Customer>(
        processes[i % 2]!.baseUrl,
        token,
        'POST',
        `/organizations/${orgId}/customers`,
        {
          firstName: `Seed${i}`,
          lastName: 'Concurrent',
        },
      );
      ids.push(created.body.id);
    }

    // Every acknowledged write, in acknowledgement order.
    const writes: { customer: Customer; acknowledgedAt: number }[] = [];
    let tick = 0;
    const writer = async (w: number) => {
      for (let k = 0; k < 14; k++) {
        const via = processes[(w + k) % 2]!;
        const response =
          random(5) === 0
            ? await call<Customer>(via.baseUrl, token, 'POST', `/organizations/${orgId}/customers`, {
                firstName: `W${w}K${k}`,
                lastName: 'New',
              })
            : await call<Customer>(
                via.baseUrl,
                token,
                'PATCH',
                `/organizations/${orgId}/customers/${ids[random(ids.length)]!}`,
                {
                  firstName: `W${w}K${k}`,
                },
              );
        expect([200, 201]).toContain(response.status);
        if (response.status === 201) ids.push(response.body.id);
        writes.push({ customer: response.body, acknowledgedAt: ++tick });
      }
    };

    // The seed's "Syncing customers on a schedule" recipe, with its intent (a flat list, compare each
    // customer's updatedAt) and small pages so a run spans several requests and snapshots.
    const mirror = new Map<string, Customer>();
    const runs: { startedAt: number; seen: Customer[] }[] = [];
    let watermark: Date | null = null;
    const syncOnce = async (run: number) => {
      const startedAt = tick;
      const customers: Customer[] = [];
      let path: string | null = `/organizations/${orgId}/customers?sort=updated&limit=4`;
      let base = processes[run % 2]!.baseUrl;
      do {
        const response: Response<Customer[]> = await call<Customer[]>(base, token, 'GET', path);
        expect(response.status).toBe(200);
        path = response.headers.get('x-next-page');
        // Alternate processes page by page too: cursors must work on any process.
        base = processes[(run + customers.length + 1) % 2]!.baseUrl;
        customers.push(...response.body);
        const last = customers[customers.length - 1];
        if (!last || (watermark && new Date(updatedAtOf(last)) < watermark)) path = null;
      } while (path);
      for (const customer of customers) mirror.set(customer.id, customer);
      watermark = customers[0] ? new Date(updatedAtOf(customers[0])) : watermark;
      runs.push({ startedAt, seen: customers });
    };

    // Watches commits as they become visible: a row version that appears between two snapshots was
    // committed after the first, so its updated_at must exceed everything the first one held.
    const monitor = new pg.Client({ connectionString: two.database.url });
    await monitor.connect();
    const versions = new Map<number, string>();
    const violations: string[] = [];
    let previous = new Map<string, number>();
    let previousMax = -Infinity;
    const observe = async () => {
      const result = await monitor.query<{ id: string; updated_at: string }>(
        'select id, updated_at from customers where organization_id = $1',
        [orgId],
      );
      const current = new Map(result.rows.map((row) => [row.id, Number(row.updated_at)]));
      let max = -Infinity;
      for (const [id, updatedAt] of current) {
        max = Math.max(max, updatedAt);
        const owner = versions.get(updatedAt);
        if (owner !== undefined && owner !== id) violations.push(`${id} and ${owner} share updated_at ${updatedAt}`);
        versions.set(updatedAt, id);
        if (previous.get(id) !== updatedAt && updatedAt <= previousMax) {
          violations.push(`${id}@${updatedAt} became visible after a snapshot whose newest was ${previousMax}`);
        }
      }
      previous = current;
      previousMax = max;
    };

    let writing = true;
    const writers = Promise.all(Array.from({ length: 6 }, (_, w) => writer(w))).finally(() => (writing = false));
    const syncer = (async () => {
      for (let run = 0; writing; run++) await syncOnce(run);
    })();
    const watcher = (async () => {
      while (writing) await observe();
    })();
    try {
      await Promise.all([writers, syncer, watcher]);
      await observe();
      await syncOnce(runs.length);
    } finally {
      await monitor.end();
    }

    expect(writes).toHaveLength(6 * 14);
    expect(runs.length).toBeGreaterThan(2);
    expect(violations).toEqual([]);

    // Every write was seen by a sync run that started after it was acknowledged, at its state or a later one.
    for (const write of writes) {
      const seenLater = runs.some(
        (run) =>
          run.startedAt >= write.acknowledgedAt &&
          run.seen.some((c) => c.id === write.customer.id && updatedAtOf(c) >= updatedAtOf(write.customer)),
      );
      expect(seenLater, `write ${write.customer.firstName} to ${write.customer.id}`).toBe(true);
    }

    // And the synced copy is exactly what is stored.
    const stored: Customer[] = [];
    let next: string | null = `/organizations/${orgId}/customers`;
    while (next) {
      const page: Response<Customer[]> = await call<Customer[]>(two.a.baseUrl, token, 'GET', next);
      stored.push(...page.body);
      next = page.headers.get('x-next-page');
    }
    expect(stored).toHaveLength(ids.length);
    expect(Object.fromEntries(mirror)).toEqual(Object.fromEntries(stored.map((c) => [c.id, c])));

    // The last write to each customer is its stored state.
    const lastWrite = new Map(writes.map((w) => [w.customer.id, w.customer]));
    for (const customer of stored) {
      const last = lastWrite.get(customer.id);
      if (last) expect(updatedAtOf(customer) >= updatedAtOf(last)).toBe(true);
    }
  });
});
