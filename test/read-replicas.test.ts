import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomersClient } from '../src/client/index.js';
import type { Customer } from '../src/contract/customers.js';
import { availableBackends, canReachInfra, REPLICA_PORT, urlOnPort, type Backend } from './helpers/backends.js';
import { createFeedFollower, createSyncRecipe, missedWrites, type Get } from './helpers/sync-recipe.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { startTestServer, type ApiResponse, type TestServer } from './helpers/test-server.js';

// A real streaming replica of the test cluster (test/helpers/scale-infra.sh: pg_basebackup -R, port 5433). Pausing
// its replay (pg_wal_replay_pause) makes it lag on demand. The suites here run one after another; no other test
// file touches the replica.
const postgres = (await availableBackends()).find((b) => b.name === 'postgres' && b.label === 'postgres');
const replicaUp = await canReachInfra(REPLICA_PORT);
if (postgres && !replicaUp) {
  if (process.env.CI === 'true') {
    throw new Error(`CI=true but no replica on ${REPLICA_PORT}; .ci/run starts it with test/helpers/scale-infra.sh`);
  }
  console.warn(
    `\n[customers-api tests] No PostgreSQL replica on 127.0.0.1:${REPLICA_PORT}: the read replica tests are SKIPPED. Run test/helpers/scale-infra.sh start.\n`,
  );
}

const REPLICA_ADMIN_URL = `postgres://postgres@127.0.0.1:${REPLICA_PORT}/postgres`;
const TOKEN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/;

interface Ready {
  status: string;
  replicas: { name: string; state: string; lagMs?: number; replayPosition?: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function position(text: string): bigint {
  const [high, low] = text.split('/') as [string, string];
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

async function withReplicaAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: REPLICA_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function pauseReplay() {
  await withReplicaAdmin(async (client) => {
    await client.query('select pg_wal_replay_pause()');
    for (;;) {
      const { rows } = await client.query<{ state: string }>('select pg_get_wal_replay_pause_state() as state');
      if (rows[0]!.state === 'paused') return;
      await sleep(10);
    }
  });
}

const resumeReplay = () => withReplicaAdmin((client) => client.query('select pg_wal_replay_resume()'));

async function readyz(server: TestServer): Promise<ApiResponse<Ready>> {
  return server.request<Ready>('GET', '/readyz');
}

/** Waits until /readyz shows every named replica in `state`, and (when given) replayed past `atLeast`. */
async function waitForReplicas(server: TestServer, names: string[], state: string, atLeast?: string) {
  let last: ApiResponse<Ready> | undefined;
  for (let i = 0; i < 300; i++) {
    last = await readyz(server);
    const replicas = last.body.replicas?.filter((r) => names.includes(r.name)) ?? [];
    const done =
      replicas.length === names.length &&
      replicas.every(
        (r) =>
          r.state === state &&
          (atLeast === undefined ||
            (r.replayPosition !== undefined && position(r.replayPosition) >= position(atLeast))),
      );
    if (done) return last;
    await sleep(50);
  }
  throw new Error(`replicas ${names.join(', ')} never became ${state}: ${JSON.stringify(last?.body)}`);
}

/** Waits until the replicas have replayed everything the primary has committed so far. */
async function catchUp(server: TestServer, names = ['replica-1']) {
  const target = (await server.store.writePosition())!;
  return waitForReplicas(server, names, 'ok', target);
}

async function metric(server: TestServer, name: string, labels: string): Promise<number> {
  const text = (await server.request<string>('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

const reads = (server: TestServer, backend: string) =>
  metric(server, 'customers_api_db_read_requests_total', `backend="${backend}"`);

async function setup(backend: Backend, env: (replicaUrl: string) => Record<string, string>) {
  const server = await startTestServer(backend, (database) => env(urlOnPort(database.url, REPLICA_PORT)));
  const org = await server.createOrganization('Replicated');
  const token = await server.createToken([org.id], ['customers:read', 'customers:write']);
  await catchUp(
    server,
    Object.keys(server.config.databaseReplicaUrls).map((i) => `replica-${Number(i) + 1}`),
  );
  return { server, orgId: org.id, token };
}

describe.runIf(postgres && replicaUp)('read replicas with consistency tokens [postgres + streaming replica]', () => {
  let server: TestServer;
  let orgId: string;
  let token: string;

  beforeAll(async () => {
    // A paused replica stays in rotation here (lag bound far away), so tokenless reads show its staleness.
    ({ server, orgId, token } = await setup(postgres!, (replica) => ({
      DATABASE_REPLICA_URLS: replica,
      DATABASE_REPLICA_MAX_LAG_MS: '600000',
      DATABASE_REPLICA_WAIT_MS: '300',
    })));
  }, 60_000);

  afterAll(async () => {
    await resumeReplay().catch(() => undefined);
    await server?.close();
  });

  it('reports the primary and the replica in /readyz, and replica lag and read backends in /metrics', async () => {
    const ready = await readyz(server);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', database: 'ok', primary: { state: 'ok' } });
    expect(ready.body.replicas).toEqual([
      { name: 'replica-1', state: 'ok', lagMs: expect.any(Number), replayPosition: expect.stringMatching(TOKEN) },
    ]);
    const before = await reads(server, 'replica-1');
    const listed = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers`, { token });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('x-consistency-token')).toMatch(TOKEN);
    expect(await reads(server, 'replica-1')).toBe(before + 1);
    expect(await metric(server, 'customers_api_db_replica_up', 'replica="replica-1"')).toBe(1);
    expect(await metric(server, 'customers_api_db_replica_lag_seconds', 'replica="replica-1"')).toBeGreaterThanOrEqual(
      0,
    );
  });

  it('a malformed consistency token is a 400 and is not served', async () => {
    for (const bad of ['yesterday', '0/', 'G/1', '1/2/3', '123456789/1']) {
      const response = await server.request<{ code: string; details: unknown[] }>(
        'GET',
        `/organizations/${orgId}/customers`,
        { token, headers: { 'x-consistency-token': bad } },
      );
      expect(response.status, bad).toBe(400);
      expect(response.body).toMatchObject({
        code: 'bad_request',
        details: [{ field: 'x-consistency-token', message: expect.any(String) }],
      });
    }
  });

  it('while replay is paused: a read with the write token sees the write (primary), one without is stale; after resume the replica serves the token', async () => {
    await catchUp(server);
    await pauseReplay();
    try {
      const created = await server.request<Customer>('POST', `/organizations/${orgId}/customers`, {
        token,
        body: { firstName: 'Paused', lastName: 'Replay', email: 'paused@example.com' },
      });
      expect(created.status).toBe(201);
      const writeToken = created.headers.get('x-consistency-token')!;
      expect(writeToken).toMatch(TOKEN);
      const path = `/organizations/${orgId}/customers/${created.body.id}`;

      // Without the token: the replica serves what it has, which is from before the write (documented).
      const replicaReads = await reads(server, 'replica-1');
      const stale = await server.request<{ code: string }>('GET', path, { token });
      expect(stale.status).toBe(404);
      const staleList = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers?sort=updated`, {
        token,
      });
      expect(staleList.status).toBe(200);
      expect(staleList.body.map((c) => c.id)).not.toContain(created.body.id);
      expect(await reads(server, 'replica-1')).toBe(replicaReads + 2);

      // With it: the replica cannot show it within the wait, so the primary serves the read.
      const primaryReads = await reads(server, 'primary');
      const fellBack = await metric(server, 'customers_api_db_consistency_waits_total', 'outcome="primary"');
      const fresh = await server.request<Customer>('GET', path, {
        token,
        headers: { 'x-consistency-token': writeToken },
      });
      expect(fresh).toMatchObject({ status: 200, body: created.body });
      const freshList = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers?sort=updated`, {
        token,
        headers: { 'x-consistency-token': writeToken },
      });
      expect(freshList.body[0]).toEqual(created.body);
      expect(await reads(server, 'primary')).toBe(primaryReads + 2);
      expect(await metric(server, 'customers_api_db_consistency_waits_total', 'outcome="primary"')).toBe(fellBack + 2);

      // The SDK remembers the token of its write and sends it on its reads; another client (another process)
      // given that token reads the write too, one without it does not.
      const writer = new CustomersClient({ baseUrl: server.baseUrl, token, retries: 0 });
      const sdkCreated = await writer.customers.create(orgId, { firstName: 'Sdk', lastName: 'Writer' });
      expect(writer.consistencyToken).toMatch(TOKEN);
      expect(position(writer.consistencyToken!)).toBeGreaterThan(position(writeToken));
      await expect(writer.customers.get(orgId, sdkCreated.id)).resolves.toEqual(sdkCreated);
      const handedOver = new CustomersClient({
        baseUrl: server.baseUrl,
        token,
        retries: 0,
        consistencyToken: writer.consistencyToken!,
      });
      await expect(handedOver.customers.get(orgId, sdkCreated.id)).resolves.toEqual(sdkCreated);
      const stranger = new CustomersClient({ baseUrl: server.baseUrl, token, retries: 0 });
      await expect(stranger.customers.get(orgId, sdkCreated.id)).rejects.toMatchObject({
        status: 404,
        code: 'not_found',
      });
    } finally {
      await resumeReplay();
    }

    // Replaying again: the replica reaches the token and serves the read itself.
    const latest = (await server.store.writePosition())!;
    await waitForReplicas(server, ['replica-1'], 'ok', latest);
    const replicaReads = await reads(server, 'replica-1');
    const primaryReads = await reads(server, 'primary');
    const caughtUp = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers?sort=updated`, {
      token,
      headers: { 'x-consistency-token': latest },
    });
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.map((c) => c.firstName).slice(0, 2)).toEqual(['Sdk', 'Paused']);
    expect(await reads(server, 'replica-1')).toBe(replicaReads + 1);
    expect(await reads(server, 'primary')).toBe(primaryReads);
    // Stored on the primary exactly once each.
    const { rows } = await server.store.db
      .selectFrom('customers')
      .select(['first_name'])
      .where('organization_id', '=', orgId)
      .execute()
      .then((r) => ({ rows: r }));
    expect(rows.map((r) => r.first_name).sort()).toEqual(['Paused', 'Sdk']);
  });

  it('the sort=updated sync recipe and the event feed on a replica that lags and catches up miss nothing and show no gap', async () => {
    const { orgId: org, token: orgToken } = await (async () => {
      const created = await server.createOrganization('Sync on replica');
      return {
        orgId: created.id,
        token: await server.createToken([created.id], ['customers:read', 'customers:write']),
      };
    })();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await server.createCustomer(org, { firstName: `Seed${i}` }, orgToken)).id);
    await catchUp(server);

    let tick = 0;
    const writes: { customer: Customer; acknowledgedAt: number }[] = [];
    const writer = async (w: number) => {
      for (let k = 0; k < 12; k++) {
        const response =
          k % 4 === 0
            ? await server.request<Customer>('POST', `/organizations/${org}/customers`, {
                token: orgToken,
                body: { firstName: `W${w}K${k}`, lastName: 'New' },
              })
            : await server.request<Customer>(
                'PATCH',
                `/organizations/${org}/customers/${ids[(w * 7 + k) % ids.length]}`,
                {
                  token: orgToken,
                  body: { firstName: `W${w}K${k}` },
                },
              );
        expect([200, 201]).toContain(response.status);
        if (response.status === 201) ids.push(response.body.id);
        writes.push({ customer: response.body, acknowledgedAt: ++tick });
        await sleep(5);
      }
    };

    // The seed's recipe with plain requests and no token: every page is served by the replica, as stale as it is.
    const get: Get = (path) => server.request('GET', path, { token: orgToken });
    const recipe = createSyncRecipe(org, get);
    const { mirror, runs } = recipe;
    const syncOnce = () => recipe.syncOnce(tick);
    // A feed consumer on the replica: follows the pages, then polls from the last sequence it saw.
    const feedFollower = createFeedFollower(org, get);
    const { events: feed, gaps } = feedFollower;
    const followFeed = () => feedFollower.follow();

    // First the replica really lags: a run while its replay is paused does not see a write acknowledged before it.
    await syncOnce();
    await pauseReplay();
    try {
      const unseen = await server.request<Customer>('PATCH', `/organizations/${org}/customers/${ids[0]}`, {
        token: orgToken,
        body: { firstName: 'WhilePaused' },
      });
      expect(unseen.status).toBe(200);
      writes.push({ customer: unseen.body, acknowledgedAt: ++tick });
      await syncOnce();
      expect(runs.at(-1)!.seen.map((c) => c.firstName)).not.toContain('WhilePaused');
    } finally {
      await resumeReplay();
    }

    let writing = true;
    const replicaReadsBefore = await reads(server, 'replica-1');
    const primaryReadsBefore = await reads(server, 'primary');
    const writers = Promise.all([0, 1, 2].map(writer)).finally(() => (writing = false));
    // The replica stops and resumes replaying several times while the writers write.
    const lagger = (async () => {
      while (writing) {
        await pauseReplay();
        await sleep(150);
        await resumeReplay();
        await sleep(60);
      }
    })();
    const syncer = (async () => {
      while (writing) {
        await syncOnce();
        await followFeed();
      }
    })();
    try {
      await Promise.all([writers, lagger, syncer]);
    } finally {
      await resumeReplay();
    }
    await catchUp(server);
    await syncOnce();
    await followFeed();
    expect(await reads(server, 'primary')).toBe(primaryReadsBefore);
    expect(await reads(server, 'replica-1')).toBeGreaterThan(replicaReadsBefore + runs.length);

    expect(writes).toHaveLength(37);
    // The replica really lagged: some run started after a write was acknowledged and did not see it.
    // Every write was seen by a run that started after it was acknowledged, at its state or a later one.
    expect(missedWrites(writes, runs)).toEqual([]);

    // Nothing is lost: the synced copy is exactly what the primary stores now.
    const stored: Customer[] = [];
    let next: string | null = `/organizations/${org}/customers`;
    const latest = (await server.store.writePosition())!;
    while (next) {
      const page: ApiResponse<Customer[]> = await server.request<Customer[]>('GET', next, {
        token: orgToken,
        headers: { 'x-consistency-token': latest },
      });
      stored.push(...page.body);
      next = page.headers.get('x-next-page');
    }
    expect(stored).toHaveLength(ids.length);
    expect(Object.fromEntries(mirror)).toEqual(Object.fromEntries(stored.map((c) => [c.id, c])));

    // The feed read from the replica never skipped a sequence, and ends where the primary's log ends.
    expect(gaps).toEqual([]);
    const events = await server.store.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('sequence').as('last'))
      .where('organization_id', '=', org)
      .executeTakeFirstOrThrow();
    expect(feed.map((e) => e.sequence)).toEqual(Array.from({ length: Number(events.last) }, (_, i) => i + 1));
  }, 120_000);
});

describe.runIf(postgres && replicaUp)('replica health: lag and failure [postgres + streaming replica]', () => {
  afterAll(async () => {
    await resumeReplay().catch(() => undefined);
  });

  it('a replica lagging more than DATABASE_REPLICA_MAX_LAG_MS is skipped (degraded, reads from the primary) until it catches up', async () => {
    const { server, orgId, token } = await setup(postgres!, (replica) => ({
      DATABASE_REPLICA_URLS: replica,
      DATABASE_REPLICA_MAX_LAG_MS: '300',
    }));
    try {
      await pauseReplay();
      try {
        const created = await server.createCustomer(orgId, { firstName: 'Lagged' }, token);
        const lagging = await waitForReplicas(server, ['replica-1'], 'lagging');
        expect(lagging.status).toBe(200);
        expect(lagging.body).toMatchObject({ status: 'degraded', database: 'ok', primary: { state: 'ok' } });
        expect(lagging.body.replicas[0]!.lagMs).toBeGreaterThan(300);
        const primaryReads = await reads(server, 'primary');
        // No token, yet fresh: the lagging replica is out of rotation.
        const got = await server.request<Customer>('GET', `/organizations/${orgId}/customers/${created.id}`, { token });
        expect(got).toMatchObject({ status: 200, body: created });
        expect(await reads(server, 'primary')).toBe(primaryReads + 1);
      } finally {
        await resumeReplay();
      }
      const recovered = await catchUp(server);
      expect(recovered.body.status).toBe('ready');
      const replicaReads = await reads(server, 'replica-1');
      expect((await server.request('GET', `/organizations/${orgId}/customers`, { token })).status).toBe(200);
      expect(await reads(server, 'replica-1')).toBe(replicaReads + 1);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('a replica killed mid-run is skipped and reads keep succeeding; it rejoins when it answers again', async () => {
    // Two replicas, each behind its own TCP proxy to the one real replica, so one can die and come back.
    const proxies: TcpProxy[] = await Promise.all([
      startTcpProxy({ host: '127.0.0.1', port: REPLICA_PORT }),
      startTcpProxy({ host: '127.0.0.1', port: REPLICA_PORT }),
    ]);
    const { server, orgId, token } = await setup(postgres!, (replica) => ({
      DATABASE_REPLICA_URLS: proxies.map((p) => urlOnPort(replica, p.port)).join(','),
      DATABASE_REPLICA_MAX_LAG_MS: '10000',
    }));
    try {
      for (let i = 0; i < 30; i++) await server.createCustomer(orgId, { firstName: `Reader${i}` }, token);
      await catchUp(server, ['replica-1', 'replica-2']);
      const expected = (await server.request<Customer[]>('GET', `/organizations/${orgId}/customers`, { token })).body;
      expect(expected).toHaveLength(30);

      const statuses: number[] = [];
      const mismatches: string[] = [];
      let reading = true;
      const readers = Promise.all(
        [0, 1, 2, 3].map(async () => {
          while (reading) {
            const response = await server.request<Customer[]>('GET', `/organizations/${orgId}/customers`, { token });
            statuses.push(response.status);
            if (response.status === 200 && response.body.length !== 30) mismatches.push(`${response.body.length}`);
          }
        }),
      );
      await sleep(300);
      const before1 = await reads(server, 'replica-1');
      proxies[0]!.setMode('refuse');
      await sleep(800);
      const degraded = await readyz(server);
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.replicas.map((r) => [r.name, r.state])).toEqual([
        ['replica-1', 'down'],
        ['replica-2', 'ok'],
      ]);
      expect(await metric(server, 'customers_api_db_replica_up', 'replica="replica-1"')).toBe(0);
      const during1 = await reads(server, 'replica-1');
      const during2 = await reads(server, 'replica-2');
      await sleep(300);
      // Skipped: replica-1 serves nothing more while down, replica-2 carries the reads.
      expect(await reads(server, 'replica-1')).toBe(during1);
      expect(await reads(server, 'replica-2')).toBeGreaterThan(during2);
      expect(during1).toBeGreaterThanOrEqual(before1);

      // Both gone: the primary serves.
      proxies[1]!.setMode('refuse');
      await sleep(500);
      const primaryBefore = await reads(server, 'primary');
      await sleep(300);
      expect(await reads(server, 'primary')).toBeGreaterThan(primaryBefore);

      proxies[0]!.setMode('forward');
      proxies[1]!.setMode('forward');
      await waitForReplicas(server, ['replica-1', 'replica-2'], 'ok');
      const rejoined = await reads(server, 'replica-1');
      await sleep(300);
      reading = false;
      await readers;
      expect(await reads(server, 'replica-1')).toBeGreaterThan(rejoined);

      expect(statuses.length).toBeGreaterThan(20);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(mismatches).toEqual([]);
      expect((await readyz(server)).body.status).toBe('ready');
    } finally {
      await server.close();
      await Promise.all(proxies.map((p) => p.close()));
    }
  }, 60_000);
});
