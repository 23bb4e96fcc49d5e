import { cpuText, pick, type BenchContext } from '../context.js';
import type { Dataset, Samples } from '../data.js';
import { runLoad, type LoadResult } from '../load.js';
import { freePort, startOurServer, type ServerProcess } from '../processes.js';
import type { Figure } from '../report.js';

/** The streaming replica that `test/helpers/scale-infra.sh start` runs beside the primary. */
export const REPLICA_PORT = 5433;

export interface ReplicaBenchOptions {
  dataset: Dataset;
  samples: Samples;
  tokens: { read: string; write: string };
}

function replicaUrlOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.port = String(REPLICA_PORT);
  return url.toString();
}

/** Whether the replica answers and is a standby of this primary (pg_is_in_recovery). */
export async function replicaIsAvailable(databaseUrl: string): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: replicaUrlOf(databaseUrl), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const result = await client.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
    return result.rows[0]?.standby === true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Loads every server at once, the connections split evenly; rps and CPU summed over the servers. */
async function loadAll(
  context: BenchContext,
  servers: ServerProcess[],
  token: string,
  next: () => { path: string },
  connections: number,
): Promise<LoadResult> {
  const headers = { authorization: `Bearer ${token}` };
  const each = Math.max(1, Math.round(connections / servers.length));
  const cpuSeconds = () => servers.reduce((sum, server) => sum + server.cpuSeconds(), 0);
  const warm = servers.map((s) =>
    runLoad({ url: s.url, next, headers, connections: each, seconds: context.settings.warmup }),
  );
  await Promise.all(warm);
  const cpuBefore = cpuSeconds();
  const results = await Promise.all(
    servers.map((s) => runLoad({ url: s.url, next, headers, connections: each, seconds: context.settings.seconds })),
  );
  const cpuAfter = cpuSeconds();
  const ok = results.reduce((sum, r) => sum + r.rps * r.seconds, 0);
  const failures = results.reduce((sum, r) => sum + r.failures, 0);
  if (failures > 0) context.notes.push(`replicas: ${failures} failed requests over ${servers.length} server(s).`);
  return {
    rps: results.reduce((sum, r) => sum + r.rps, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    bytesPerSec: results.reduce((sum, r) => sum + r.bytesPerSec, 0),
    total: results.reduce((sum, r) => sum + r.total, 0),
    failures,
    seconds: Math.max(...results.map((r) => r.seconds)),
    cpuMicros: ok === 0 ? undefined : ((cpuAfter - cpuBefore) * 1e6) / ok,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/**
 * Read-your-writes through a replica: PATCH a customer on the primary, then read it back at once, with the
 * write's X-Consistency-Token (the server waits for the replica to replay it, else asks the primary) and without
 * one (served from the replica as it is). The difference is what the token wait costs a client.
 */
async function measureTokenWait(
  server: ServerProcess,
  dataset: Dataset,
  samples: Samples,
  token: string,
  rounds: number,
): Promise<{ withToken: number[]; withoutToken: number[]; stale: number }> {
  const org = dataset.organizationId;
  const withToken: number[] = [];
  const withoutToken: number[] = [];
  let stale = 0;
  for (let round = 0; round < rounds; round++) {
    const id = pick(samples.ids);
    const url = `${server.url}/organizations/${org}/customers/${id}`;
    const marker = `Bench ${process.pid} ${round}`;
    const write = await fetch(url, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lastName: marker }),
    });
    if (!write.ok) throw new Error(`PATCH answered ${write.status}: ${await write.text()}`);
    await write.arrayBuffer();
    const consistency = write.headers.get('x-consistency-token');
    if (!consistency) throw new Error('a write on a server with replicas answered without X-Consistency-Token');
    const useToken = round % 2 === 0;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (useToken) headers['x-consistency-token'] = consistency;
    const started = process.hrtime.bigint();
    const read = await fetch(url, { headers });
    const body = (await read.json()) as { lastName?: string };
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (!read.ok) throw new Error(`GET answered ${read.status}`);
    if (useToken) {
      if (body.lastName !== marker) throw new Error('a read with the write token did not see the write');
      withToken.push(ms);
    } else {
      if (body.lastName !== marker) stale++;
      withoutToken.push(ms);
    }
  }
  return { withToken: withToken.sort((a, b) => a - b), withoutToken: withoutToken.sort((a, b) => a - b), stale };
}

/**
 * Issue 18's figures: pages of 1000 per second through one API process on the primary alone, against two API
 * processes each reading from the primary and the replica (DATABASE_REPLICA_URLS), the same total connections;
 * and the cost of a read that carries a fresh consistency token.
 */
export async function runReplicaBenchmarks(context: BenchContext, options: ReplicaBenchOptions): Promise<Figure[]> {
  const { dataset, samples, tokens } = options;
  const org = dataset.organizationId;
  const connections = context.settings.listConnections * 2;
  const replicaUrl = replicaUrlOf(dataset.databaseUrl);
  const next = () => ({ path: `/organizations/${org}/customers?sort=${Math.random() < 0.5 ? 'created' : 'updated'}` });
  const section = `Scale-out (PostgreSQL primary + streaming replica, ${dataset.customers.toLocaleString('en')} customers)`;
  const start = async (replicas: boolean) =>
    startOurServer({
      databaseUrl: dataset.databaseUrl,
      port: await freePort(),
      env: replicas ? { DATABASE_REPLICA_URLS: replicaUrl } : {},
    });

  context.log('[replicas] pages of 1000: 1 process on the primary');
  const single = await start(false);
  let one: LoadResult;
  try {
    one = await loadAll(context, [single], tokens.read, next, connections);
  } finally {
    await single.stop();
  }
  context.log('[replicas] pages of 1000: 2 processes on primary + replica');
  const pair = [await start(true), await start(true)];
  let two: LoadResult;
  let wait: Awaited<ReturnType<typeof measureTokenWait>>;
  try {
    two = await loadAll(context, pair, tokens.read, next, connections);
    context.log('[replicas] read-your-writes: token wait');
    wait = await measureTokenWait(pair[0]!, dataset, samples, tokens.write, context.settings.quick ? 200 : 1000);
  } finally {
    await Promise.all(pair.map((server) => server.stop()));
  }
  const ms = (values: number[]) =>
    `p50 ${percentile(values, 0.5).toFixed(2)} ms / p99 ${percentile(values, 0.99).toFixed(2)} ms`;
  return [
    {
      section,
      name: 'pages of 1000: 2 processes on primary + replica vs 1 on the primary',
      ours: two.rps,
      base: one.rps,
      cpu:
        two.cpuMicros !== undefined && one.cpuMicros !== undefined
          ? { ours: two.cpuMicros, base: one.cpuMicros, unit: 'µs/page (API processes)' }
          : undefined,
      unit: 'pages/s',
      detail:
        `${connections} connections in both; 2 processes ${Math.round(two.rps * 1000).toLocaleString('en')} customers/s ` +
        `(p99 ${two.p99} ms) vs 1 process ${Math.round(one.rps * 1000).toLocaleString('en')} (p99 ${one.p99} ms); ` +
        `API CPU ${cpuText(two)} vs ${cpuText(one)} µs/page. On one 2-core machine the replica, the primary, both ` +
        'API processes and the load generator share the same cores, so the ratio is a floor for separate hosts.',
      target: { kind: 'info' },
    },
    {
      section,
      name: 'read right after a write, with its consistency token vs without',
      ours: percentile(wait.withToken, 0.5),
      base: percentile(wait.withoutToken, 0.5),
      unit: 'ms (p50)',
      detail:
        `with the token ${ms(wait.withToken)} (always saw the write); without ${ms(wait.withoutToken)} ` +
        `(${wait.stale} of ${wait.withoutToken.length} reads were stale, as documented)`,
      target: { kind: 'info' },
    },
  ];
}
