import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { availableBackends, canReachInfra, PGBOUNCER_PORT, urlOnPort, type TestDatabase } from './helpers/backends.js';
import { runCli, startServerProcess } from './helpers/processes.js';
import { useTwoServerProcesses } from './helpers/two-processes.js';
import { createFeedFollower, createSyncRecipe, missedWrites, type Get } from './helpers/sync-recipe.js';

// PgBouncer from Debian's package in transaction mode (test/helpers/scale-infra.sh, port 6432, forwarding every
// database to 127.0.0.1:5432): consecutive transactions of one client connection run on different server sessions.
const postgres = (await availableBackends()).find((b) => b.name === 'postgres');
const pgbouncerUp = await canReachInfra(PGBOUNCER_PORT);
if (postgres && !pgbouncerUp) {
  if (process.env.CI === 'true') {
    throw new Error(
      `CI=true but no PgBouncer on ${PGBOUNCER_PORT}; .ci/run starts it with test/helpers/scale-infra.sh`,
    );
  }
  console.warn(
    `\n[customers-api tests] No PgBouncer on 127.0.0.1:${PGBOUNCER_PORT}: the PgBouncer tests are SKIPPED. Run test/helpers/scale-infra.sh start.\n`,
  );
}

const pooled = (database: TestDatabase) => ({
  DATABASE_URL: urlOnPort(database.url, PGBOUNCER_PORT),
  DATABASE_POOLER: 'transaction',
});

async function call<T>(baseUrl: string, token: string, method: string, path: string, body?: unknown) {
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

async function appliedMigrations(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ name: string }>('select name from kysely_migration order by name')).rows.map(
      (r) => r.name,
    );
  } finally {
    await client.end();
  }
}

describe.runIf(postgres && pgbouncerUp)('behind PgBouncer in transaction mode [postgres via PgBouncer]', () => {
  it('without DATABASE_POOLER=transaction the server refuses to start through it, saying why; with it, it serves', async () => {
    const database = await postgres!.createDatabase();
    try {
      const refused = await runCli(['migrate'], { DATABASE_URL: pooled(database).DATABASE_URL });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/Cannot connect to PostgreSQL at .*:6432.*unsupported startup parameter/);
      expect(await appliedMigrations(database.url).catch(() => [])).toEqual([]);

      const migrated = await runCli(['migrate', '--json'], pooled(database));
      expect(migrated.code, migrated.stderr).toBe(0);
      expect((await appliedMigrations(database.url)).length).toBeGreaterThan(0);
    } finally {
      await database.drop();
    }
  });

  it('many processes migrating at once through the pooler apply each migration exactly once', async () => {
    const database = await postgres!.createDatabase();
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => runCli(['migrate', '--json'], pooled(database))),
      );
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      const applied = results.flatMap((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied);
      const stored = await appliedMigrations(database.url);
      expect(stored.length).toBeGreaterThan(0);
      // Every migration applied by exactly one of them, and recorded once.
      expect([...applied].sort()).toEqual(stored);
      expect(new Set(stored).size).toBe(stored.length);
    } finally {
      await database.drop();
    }
  });

  it('DATABASE_MIGRATION_URL migrates on PostgreSQL directly while the server serves through the pooler', async () => {
    const database = await postgres!.createDatabase();
    const server = await startServerProcess({
      ...pooled(database),
      DATABASE_MIGRATION_URL: database.url,
      WEBHOOK_DISPATCHER: 'false',
    });
    try {
      expect((await appliedMigrations(database.url)).length).toBeGreaterThan(0);
      const ready = await fetch(`${server.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', primary: { state: 'ok' }, replicas: [] });
    } finally {
      const stopped = await server.stop();
      expect(stopped.code, stopped.stderr).toBe(0);
      await database.drop();
    }
  });

  describe('two API processes through PgBouncer', () => {
    const two = useTwoServerProcesses(
      () => postgres!.createDatabase(),
      (database) => ({ ...pooled(database), DATABASE_POOL_SIZE: '3' }),
    );

    it('concurrent writers through both: every write is acknowledged once, the sync recipe and the feed miss nothing', async () => {
      const org = await two.services.organizations.createOrganization({ name: 'Pooled' });
      const token = (
        await two.services.tokens.createToken({
          organizationIds: [org.id],
          scopes: ['customers:read', 'customers:write'],
        })
      ).token;
      const processes = [two.a, two.b];
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await call<Customer>(
          processes[i % 2]!.baseUrl,
          token,
          'POST',
          `/organizations/${org.id}/customers`,
          {
            firstName: `Seed${i}`,
            lastName: 'Pooled',
          },
        );
        expect(created.status).toBe(201);
        ids.push(created.body.id);
      }

      let tick = 0;
      const writes: { customer: Customer; acknowledgedAt: number }[] = [];
      const writer = async (w: number) => {
        for (let k = 0; k < 12; k++) {
          const via = processes[(w + k) % 2]!.baseUrl;
          const response =
            k % 3 === 0
              ? await call<Customer>(via, token, 'POST', `/organizations/${org.id}/customers`, {
                  firstName: `W${w}K${k}`,
                  lastName: 'New',
                })
              : await call<Customer>(
                  via,
                  token,
                  'PATCH',
                  `/organizations/${org.id}/customers/${ids[(w * 5 + k) % ids.length]}`,
                  {
                    firstName: `W${w}K${k}`,
                  },
                );
          expect([200, 201], JSON.stringify(response.body)).toContain(response.status);
          if (response.status === 201) ids.push(response.body.id);
          // Points too: a ledger row, statistics and an event in one transaction.
          const points = await fetch(
            new URL(`/organizations/${org.id}/customers/${response.body.id}/points/w${w}k${k}`, via),
            {
              method: 'PUT',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ amount: 10 }),
            },
          );
          expect(points.status).toBe(204);
          writes.push({ customer: response.body, acknowledgedAt: ++tick });
        }
      };
      // Pages alternate between the processes too: cursors and prepared reads work on any of them.
      const get: Get = (path, run) => call(processes[run % 2]!.baseUrl, token, 'GET', path);
      const recipe = createSyncRecipe(org.id, get);
      const feed = createFeedFollower(org.id, get);

      let writing = true;
      const writers = Promise.all([0, 1, 2, 3, 4].map(writer)).finally(() => (writing = false));
      const syncer = (async () => {
        while (writing) {
          await recipe.syncOnce(tick);
          await feed.follow();
        }
      })();
      await Promise.all([writers, syncer]);
      await recipe.syncOnce(tick);
      await feed.follow();

      expect(writes).toHaveLength(60);
      expect(recipe.runs.length).toBeGreaterThan(2);
      // Each write was seen by a run that started after it was acknowledged, at its state or a later one.
      expect(missedWrites(writes, recipe.runs)).toEqual([]);

      const stored = await two.store.db
        .selectFrom('customers')
        .select(['id', 'first_name', 'points_balance'])
        .where('organization_id', '=', org.id)
        .execute();
      expect(stored).toHaveLength(ids.length);
      expect(new Set(ids).size).toBe(ids.length);
      const mirror = Object.fromEntries([...recipe.mirror].map(([id, c]) => [id, c.firstName]));
      expect(mirror).toEqual(Object.fromEntries(stored.map((row) => [row.id, row.first_name])));
      expect(stored.reduce((sum, row) => sum + Number(row.points_balance), 0)).toBe(600);

      // The feed: every event once, in sequence, nothing missing.
      expect(feed.gaps).toEqual([]);
      const { count } = await two.store.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('organization_id', '=', org.id)
        .executeTakeFirstOrThrow();
      expect(feed.events.map((e) => e.sequence)).toEqual(Array.from({ length: Number(count) }, (_, i) => i + 1));
    }, 120_000);
  });
});
