import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { backendLabel, cpuPair, getJson, paired, type BenchContext, type Pair } from '../context.js';
import {
  benchPostgresName,
  createScratchOrganization,
  createTokens,
  customerIdsOf,
  DATA_DIR,
  pgAdmin,
  type Dataset,
} from '../data.js';
import { runLoad, type LoadResult } from '../load.js';
import { freePort, startOurServer, type ServerProcess } from '../processes.js';
import type { Figure } from '../report.js';

const DAY_MS = 86_400_000;
const INTERVALS = [
  // A year of weeks (the overview's picture), of months, and of days (366 buckets: the most one request may ask).
  { interval: 'week', days: 364 },
  { interval: 'month', days: 364 },
  { interval: 'day', days: 364 },
] as const;

/** `GET .../insights` over the year ending at a random UTC midnight of the last 30 days (the same mix for both). */
function insightRequests(organizationId: string, interval: string, days: number) {
  const today = Date.now() - (Date.now() % DAY_MS);
  return () => {
    const to = today - Math.floor(Math.random() * 30) * DAY_MS;
    const from = to - days * DAY_MS;
    const query = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&interval=${interval}`;
    return { path: `/organizations/${organizationId}/insights?${query}` };
  };
}

/** Counter rows a year of the organization spans: what each request reads. */
async function counterRowsInAYear(dataset: Dataset): Promise<number> {
  const to = Date.now();
  const from = to - 365 * DAY_MS;
  const text = 'select count(*) as n from insight_counters where organization_id = $1 and slot >= $2 and slot < $3';
  if (dataset.backend === 'sqlite') {
    const db = new BetterSqlite3(dataset.databaseUrl.slice('sqlite:'.length), { readonly: true });
    try {
      return (db.prepare(text.replace(/\$\d/g, '?')).get(dataset.organizationId, from, to) as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: dataset.databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(text, [dataset.organizationId, from, to])).rows[0]!.n);
  } finally {
    await client.end();
  }
}

/**
 * GET /organizations/{org}/insights over a year of the dataset's organization, per interval, against the baseline
 * server's bare statements over the same insight_counters (bench/baseline/server.ts: the per-bucket sums, the
 * organization's insight_totals row and its top lists, the same three statements the server runs), same JSON.
 */
export async function runInsightReadBenchmarks(context: BenchContext, dataset: Dataset, pair: Pair): Promise<Figure[]> {
  const { log, notes, settings } = context;
  const label = `${backendLabel(dataset.backend)}, ${dataset.customers.toLocaleString('en')} customers`;
  const rows = await counterRowsInAYear(dataset);
  const figures: Figure[] = [];
  for (const { interval, days } of INTERVALS) {
    const next = insightRequests(dataset.organizationId, interval, days);
    const sample = next().path;
    const ours = await getJson(`${pair.ours.url}${sample}`, pair.token);
    const base = await getJson(`${pair.base.url}${sample}`);
    if (!isDeepStrictEqual(ours.body, base.body))
      throw new Error(`insights (${interval}): ours and the baseline answer differently for ${sample}`);
    const buckets = (ours.body as { series: { newCustomers: unknown[] } }).series.newCustomers.length;
    log(`[insights] ${label}: interval=${interval}, ${buckets} buckets`);
    const result = await paired(context, pair, next, next, settings.listConnections);
    for (const [name, r] of [
      ['customers-api', result.ours],
      ['baseline', result.base],
    ] as const) {
      if (r.failures > 0) notes.push(`${name} insights (${interval}, ${label}): ${r.failures} failed of ${r.total}.`);
    }
    figures.push({
      section: `Insights (${label}, a year)`,
      name: `GET .../insights, a year by ${interval} (${buckets} buckets)`,
      ours: result.ours.rps,
      base: result.base.rps,
      unit: 'req/s',
      cpu: cpuPair(result.ours, result.base, 'µs/request'),
      detail:
        `p50 ${result.ours.p50} ms / p99 ${result.ours.p99} ms (baseline ${result.base.p50} / ${result.base.p99} ms); ` +
        `${settings.listConnections} connections; baseline = the same three statements as bare prepared statements ` +
        `(per-bucket sums over insight_counters, insight_totals, top lists), same JSON; ~${rows.toLocaleString('en')} ` +
        'counter rows (quarter hours) in a year of this organization',
      target: { kind: 'ratio', min: 0.8 },
    });
  }
  return figures;
}

const COUNTED_TABLES = ['customers', 'point_records', 'payments'] as const;

/** Drops the insight-counter triggers (migration 2026-12-04T0500-insight-counters) from a database. */
async function dropInsightTriggers(databaseUrl: string): Promise<void> {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new BetterSqlite3(databaseUrl.slice('sqlite:'.length));
    try {
      for (const table of COUNTED_TABLES)
        for (const event of ['ai', 'ad', 'au']) db.exec(`drop trigger insight_counters_${table}_${event}`);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const table of COUNTED_TABLES)
      for (const event of ['ai', 'ad', 'au']) await client.query(`drop trigger insight_counters_${event} on ${table}`);
  } finally {
    await client.end();
  }
}

/** Triggers left on a database's counted tables (to check the copy has none and the original all nine). */
async function countInsightTriggers(databaseUrl: string): Promise<number> {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new BetterSqlite3(databaseUrl.slice('sqlite:'.length), { readonly: true });
    try {
      return (
        db
          .prepare("select count(*) as n from sqlite_master where type = 'trigger' and name like 'insight_counters_%'")
          .get() as { n: number }
      ).n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(
      "select count(*) as n from pg_trigger where tgname like 'insight_counters_%' and not tgisinternal",
    );
    return Number(result.rows[0]!.n);
  } finally {
    await client.end();
  }
}

/**
 * Two copies of one migrated database with an empty organization and a write token, the second without the
 * insight-counter triggers: SQLite files under bench/.data/insight-triggers, PostgreSQL databases made from a template.
 */
async function triggerDatabases(backend: 'sqlite' | 'postgres') {
  if (backend === 'sqlite') {
    const dir = path.join(DATA_DIR, 'insight-triggers');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const withUrl = `sqlite:${path.join(dir, 'with.db')}`;
    const organizationId = await createScratchOrganization(withUrl);
    const { write } = await createTokens(withUrl, [organizationId]);
    fs.copyFileSync(path.join(dir, 'with.db'), path.join(dir, 'without.db'));
    const withoutUrl = `sqlite:${path.join(dir, 'without.db')}`;
    const drop = () => Promise.resolve(fs.rmSync(dir, { recursive: true }));
    return { withUrl, withoutUrl, organizationId, token: write, drop };
  }
  const withName = benchPostgresName('insight_triggers_with');
  const withoutName = benchPostgresName('insight_triggers_without');
  await pgAdmin(async (client) => {
    for (const name of [withName, withoutName]) await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${withName}`);
  });
  const withUrl = `postgres://postgres@127.0.0.1:5432/${withName}`;
  const organizationId = await createScratchOrganization(withUrl);
  const { write } = await createTokens(withUrl, [organizationId]);
  await pgAdmin((client) => client.query(`create database ${withoutName} template ${withName}`));
  const withoutUrl = `postgres://postgres@127.0.0.1:5432/${withoutName}`;
  const drop = () =>
    pgAdmin(async (client) => {
      for (const name of [withName, withoutName]) await client.query(`drop database if exists ${name} with (force)`);
    });
  return { withUrl, withoutUrl, organizationId, token: write, drop };
}

const WRITE_CONNECTIONS = 10;

interface WriteRequest {
  path: string;
  body: string;
}

/** Both servers under the same write mix, in the order A B B A so that a drift in machine load hits both alike. */
async function alternate(
  context: BenchContext,
  servers: { with: ServerProcess; without: ServerProcess },
  token: string,
  method: 'POST' | 'PUT',
  next: (side: 'with' | 'without') => () => WriteRequest,
): Promise<{ with: LoadResult[]; without: LoadResult[] }> {
  const { settings } = context;
  const results: { with: LoadResult[]; without: LoadResult[] } = { with: [], without: [] };
  for (const side of ['with', 'without', 'without', 'with'] as const) {
    const server = servers[side];
    const headers = { authorization: `Bearer ${token}` };
    const requests = next(side);
    await runLoad({
      url: server.url,
      method,
      next: requests,
      headers,
      connections: WRITE_CONNECTIONS,
      seconds: settings.warmup,
    });
    const result = await runLoad({
      url: server.url,
      method,
      next: requests,
      headers,
      connections: WRITE_CONNECTIONS,
      seconds: settings.seconds / 2,
      cpuSeconds: () => server.cpuSeconds(),
    });
    if (result.failures > 0)
      context.notes.push(`insight triggers ${side} (${method}): ${result.failures} failed of ${result.total}.`);
    results[side].push(result);
  }
  return results;
}

/** Throughput, latency and CPU per write over the rounds of one side, weighted by requests. */
function combine(results: LoadResult[]) {
  const total = results.reduce((n, r) => n + r.rps * r.seconds, 0);
  const seconds = results.reduce((n, r) => n + r.seconds, 0);
  const cpu = results.reduce((n, r) => n + (r.cpuMicros ?? 0) * r.rps * r.seconds, 0) / total;
  return { rps: total / seconds, cpuMicros: cpu, p50: results.map((r) => r.p50), p99: results.map((r) => r.p99) };
}

/**
 * What the insight-counter triggers cost a write: creates and points adjustments (10 concurrent clients) through
 * `node ./bin/customers-api serve` on a database with the triggers against the same one copied without them.
 */
export async function runInsightTriggerBenchmarks(context: BenchContext, postgres: boolean): Promise<Figure[]> {
  const figures: Figure[] = [];
  const tag = `${process.pid}-${Date.now()}`;
  for (const backend of postgres ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    const databases = await triggerDatabases(backend);
    try {
      await dropInsightTriggers(databases.withoutUrl);
      const [withTriggers, withoutTriggers] = [
        await countInsightTriggers(databases.withUrl),
        await countInsightTriggers(databases.withoutUrl),
      ];
      if (withTriggers !== 9 || withoutTriggers !== 0)
        throw new Error(`insight triggers: expected 9 and 0, found ${withTriggers} and ${withoutTriggers}`);
      const servers = {
        with: await startOurServer({ databaseUrl: databases.withUrl, port: await freePort() }),
        without: await startOurServer({ databaseUrl: databases.withoutUrl, port: await freePort() }),
      };
      try {
        const org = databases.organizationId;
        context.log(`[insights] ${backend}: creates with the insight-counter triggers vs without`);
        const creates = await alternate(context, servers, databases.token, 'POST', (side) => {
          let n = 0;
          return () => {
            n++;
            return {
              path: `/organizations/${org}/customers`,
              body: JSON.stringify({
                firstName: 'Trigger',
                lastName: `Bench ${side} ${n}`,
                email: `trigger.${side}.${tag}.${n}@example.com`,
                hasAgreedToMarketing: n % 2 === 0,
              }),
            };
          };
        });
        const ids = {
          with: await customerIdsOf(databases.withUrl, org, 10_000),
          without: await customerIdsOf(databases.withoutUrl, org, 10_000),
        };
        context.log(`[insights] ${backend}: points adjustments with the triggers vs without`);
        const points = await alternate(context, servers, databases.token, 'PUT', (side) => {
          let n = 0;
          const customers = ids[side];
          return () => {
            n++;
            const customerId = customers[Math.floor(Math.random() * customers.length)]!;
            return {
              path: `/organizations/${org}/customers/${customerId}/points/trigger-${tag}-${side}-${n}`,
              body: JSON.stringify({ amount: 1 + (n % 100) }),
            };
          };
        });
        for (const [name, results] of [
          ['create a customer', creates],
          ['points adjustment', points],
        ] as const) {
          const on = combine(results.with);
          const off = combine(results.without);
          figures.push({
            section: `Insight-counter triggers: the cost of a write (${backendLabel(backend)}, ${WRITE_CONNECTIONS} concurrent clients)`,
            name: `${name}, with the triggers vs without: time per write`,
            ours: 1e6 / on.rps,
            base: 1e6 / off.rps,
            unit: 'µs/write',
            cpu: { ours: on.cpuMicros, base: off.cpuMicros, unit: 'µs/write' },
            detail:
              `1 / throughput: ${on.rps.toFixed(0)} vs ${off.rps.toFixed(0)} writes/s; p50 ${on.p50.join(', ')} vs ${off.p50.join(', ')} ms, ` +
              `p99 ${on.p99.join(', ')} vs ${off.p99.join(', ')} ms (two rounds each, A B B A); the same migrated database, ` +
              `copied${backend === 'postgres' ? ' (CREATE DATABASE ... TEMPLATE)' : ''} and its 9 triggers dropped from the copy`,
            target: { kind: 'ratioMax', max: 1.15 },
          });
        }
      } finally {
        await servers.with.stop();
        await servers.without.stop();
      }
    } finally {
      await databases.drop();
    }
  }
  return figures;
}
