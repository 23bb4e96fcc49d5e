/**
 * customers-api benchmarks: every figure of ours next to the bare node:http
 * baseline measured in the same run. `npm run bench` (full, 1,000,000
 * customers) or `npm run bench -- --quick` (100,000 customers, short runs).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isDeepStrictEqual } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { encodeCursor, fingerprint } from '../src/domain/paging.js';
import {
  createScratchOrganization,
  createTokens,
  DATA_DIR,
  ensurePostgresDataset,
  ensureSqliteDataset,
  isPostgresAvailable,
  keyAtOffset,
  postgresVersion,
  sampleCustomers,
  type Dataset,
  type Samples,
} from './data.js';
import { fetchAll, runLoad, type LoadResult, type SyncResult } from './load.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { freePort, startBaseline, startOurServer, type ServerProcess } from './processes.js';
import { renderMarkdown, renderTable, type Figure, type Report } from './report.js';
import { runImportBenchmark } from './import.js';
import { runWriteBenchmarks } from './writes.js';
import { syncWithSdk } from './sync.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    customers: { type: 'string' },
    seconds: { type: 'string' },
    'no-postgres': { type: 'boolean', default: false },
    'no-import': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
  },
});

/** `--only get,list` runs just those parts (for profiling and iterating); the default runs everything. */
const PARTS = ['get', 'list', 'sync', 'search', 'writes', 'import', 'postgres'] as const;
const only = new Set(flags.only ? flags.only.split(',').map((p) => p.trim()) : PARTS);
for (const part of only)
  if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only takes ${PARTS.join(',')}; got ${part}`);
const wants = (part: (typeof PARTS)[number]) => only.has(part);

const quick = flags.quick;
const N = flags.customers ? Number(flags.customers) : quick ? 100_000 : 1_000_000;
const SMALL = 10_000;
const SECONDS = flags.seconds ? Number(flags.seconds) : quick ? 1.2 : 10;
const WARMUP = quick ? 0.3 : 2;
const IMPORT_ROWS = quick ? 20_000 : 1_000_000;
const PAGE = 1000;
const READ_CONNECTIONS = 10;
const LIST_CONNECTIONS = 4;
const RESULTS_FILE = flags.out
  ? path.resolve(flags.out)
  : path.resolve(quick ? 'bench/.data/RESULTS-quick.md' : 'bench/RESULTS.md');

const runStarted = Date.now();
const log = (message: string) =>
  console.log(`${((Date.now() - runStarted) / 1000).toFixed(0).padStart(4)} s  ${message}`);
const figures: Figure[] = [];
const notes: string[] = [];
const profiles: string[] = [];

function cpuOf(ours: number | undefined, base: number | undefined, unit: string): Figure['cpu'] {
  return ours === undefined || base === undefined ? undefined : { ours, base, unit };
}

function cpuPair(ours: LoadResult, base: LoadResult, unit: string): Figure['cpu'] {
  return cpuOf(ours.cpuMicros, base.cpuMicros, unit);
}

function cpu(result: LoadResult): string {
  return result.cpuMicros === undefined ? '?' : result.cpuMicros.toFixed(0);
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/**
 * A fixed piece of work timed in this process: JSON.stringify + JSON.parse of a
 * customer-shaped object. It says how fast a core of this machine is right now,
 * so figures from different runs (and machines) can be put side by side.
 */
function calibrate(): number {
  const customer = {
    createdAt: '2021-10-20T14:51:16Z',
    email: 'ann.lee@example.com',
    firstName: 'Ann',
    id: '01J9ZQ3V6V6X3Q2F5K8M1N4P7R',
    lastName: 'Lee',
    phoneNumber: '+61400123456',
    statistics: { pointsBalance: 120, totalPointsEarned: 300, totalPointsRedeemed: 180, totalSpend: 45_000 },
    updatedAt: '2021-10-21T09:00:00Z',
  };
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20_000; i++) JSON.parse(JSON.stringify(customer));
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 20_000 / 1000);
  }
  return best;
}

/** The share of the last 5 minutes some task waited for a CPU (Linux PSI), when the kernel reports it. */
function readCpuPressure(): string {
  try {
    const match = /^some .*avg300=([\d.]+)/m.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? `${match[1]}%` : 'unknown';
  } catch {
    return 'unknown';
  }
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

async function load(
  server: ServerProcess,
  token: string | undefined,
  next: () => { path: string },
  connections: number,
): Promise<LoadResult> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await runLoad({ url: server.url, next, headers, connections, seconds: WARMUP });
  const result = await runLoad({
    url: server.url,
    next,
    headers,
    connections,
    seconds: SECONDS,
    cpuSeconds: () => server.cpuSeconds(),
  });
  if (result.failures > 0)
    notes.push(`${server.name}: ${result.failures} failed requests in a run of ${result.total}.`);
  return result;
}

interface Pair {
  ours: ServerProcess;
  base: ServerProcess;
  token: string;
}

/** Runs the same request mix against ours then the baseline, back to back, so both see the same machine noise. */
async function paired(
  pair: Pair,
  nextOurs: () => { path: string },
  nextBase: () => { path: string },
  connections: number,
): Promise<{ ours: LoadResult; base: LoadResult }> {
  const ours = await load(pair.ours, pair.token, nextOurs, connections);
  const base = await load(pair.base, undefined, nextBase, connections);
  return { ours, base };
}

async function getJson(url: string, token?: string): Promise<{ body: unknown; next: string | null }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return { body: await response.json(), next: response.headers.get('x-next-page') };
}

/** Both servers must answer the same requests with the same JSON, or the comparison means nothing. */
async function checkSameAnswers(pair: Pair, org: string, samples: Samples) {
  const id = samples.ids[0]!;
  for (const p of [
    `/organizations/${org}/customers/${id}`,
    `/organizations/${org}/customers?sort=created`,
    `/organizations/${org}/customers?sort=updated`,
    `/organizations/${org}/customers?email=${encodeURIComponent(samples.emails[0]!)}`,
    `/organizations/${org}/customers?phoneNumber=${encodeURIComponent(samples.phones[0]!)}`,
  ]) {
    const [ours, base] = await Promise.all([
      getJson(`${pair.ours.url}${p}`, pair.token),
      getJson(`${pair.base.url}${p}`),
    ]);
    if (!isDeepStrictEqual(ours.body, base.body))
      throw new Error(`customers-api and the baseline answer ${p} differently`);
    if ((ours.next === null) !== (base.next === null)) throw new Error(`X-Next-Page differs for ${p}`);
    if (Array.isArray(ours.body) && p.includes('?email=') && ours.body.length !== 1)
      throw new Error(`email search found ${ours.body.length}`);
  }
}

interface DeepCursors {
  ours: string;
  base: string;
}

/** Cursors landing on row 90% of N in the given order, for ours (opaque) and the baseline (its own format). */
async function deepCursors(dataset: Dataset, pair: Pair, sort: 'created' | 'updated'): Promise<DeepCursors> {
  const depth = Math.floor(dataset.customers * 0.9);
  const key = await keyAtOffset(dataset, sort === 'updated' ? 'updated_at' : 'created_at', depth);
  const ours = encodeCursor(fingerprint('customers', dataset.organizationId, sort, 'none', ''), [key.at, key.id]);
  const base = Buffer.from(JSON.stringify([key.at, key.id])).toString('base64url');
  const listPath = `/organizations/${dataset.organizationId}/customers?sort=${sort}&after=`;
  const [a, b] = await Promise.all([
    getJson(`${pair.ours.url}${listPath}${encodeURIComponent(ours)}`, pair.token),
    getJson(`${pair.base.url}${listPath}${base}`),
  ]);
  const firstOurs = (a.body as { id: string }[])[0]?.id;
  const firstBase = (b.body as { id: string }[])[0]?.id;
  if (firstOurs !== key.nextId || firstBase !== key.nextId) {
    throw new Error(
      `deep cursor does not land on row ${depth} (${key.nextId}): ours ${firstOurs}, baseline ${firstBase}`,
    );
  }
  if (!isDeepStrictEqual(a.body, b.body))
    throw new Error(`deep page (sort=${sort}) differs between customers-api and the baseline`);
  return { ours: encodeURIComponent(ours), base };
}

async function benchReads(dataset: Dataset, pair: Pair, samples: Samples, label: string) {
  // `--only postgres` alone means all of PostgreSQL's read figures.
  const all = dataset.backend === 'postgres' && !wants('get') && !wants('list') && !wants('sync');
  if (all || wants('get')) await benchGet(dataset, pair, samples, label);
  if (all || wants('list')) await benchList(dataset, pair, label);
  if (all || wants('sync')) await benchSync(dataset, pair, label);
}

async function benchGet(dataset: Dataset, pair: Pair, samples: Samples, label: string) {
  const org = dataset.organizationId;
  const backend = dataset.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  log(`[${label}] get a customer`);
  const get = await paired(
    pair,
    () => ({ path: `/organizations/${org}/customers/${pick(samples.ids)}` }),
    () => ({ path: `/organizations/${org}/customers/${pick(samples.ids)}` }),
    READ_CONNECTIONS,
  );
  figures.push({
    section: `Reads (${backend}, ${dataset.customers.toLocaleString('en')} customers)`,
    name: 'get a customer (random id)',
    ours: get.ours.rps,
    base: get.base.rps,
    cpu: cpuPair(get.ours, get.base, 'µs/request'),
    unit: 'req/s',
    detail: `p50 ${get.ours.p50} ms / p99 ${get.ours.p99} ms (baseline ${get.base.p50} / ${get.base.p99} ms); server CPU ${cpu(get.ours)} vs ${cpu(get.base)} µs/request`,
    target: { kind: 'ratio', min: 0.8 },
  });
}

async function benchList(dataset: Dataset, pair: Pair, label: string) {
  const org = dataset.organizationId;
  const backend = dataset.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  let ourPeak = 0;
  let sampling: NodeJS.Timeout | undefined;
  for (const sort of ['created', 'updated'] as const) {
    const deep = await deepCursors(dataset, pair, sort);
    const firstPage: Record<string, number> = {};
    const firstPageCpu: Record<string, number | undefined> = {};
    for (const depth of ['page 1', 'deep (90%)'] as const) {
      log(`[${label}] list sort=${sort} ${depth}`);
      const suffix = depth === 'page 1' ? '' : `&after=`;
      sampling ??= setInterval(() => (ourPeak = Math.max(ourPeak, pair.ours.rss())), 100);
      const list = await paired(
        pair,
        () => ({ path: `/organizations/${org}/customers?sort=${sort}${suffix}${depth === 'page 1' ? '' : deep.ours}` }),
        () => ({ path: `/organizations/${org}/customers?sort=${sort}${suffix}${depth === 'page 1' ? '' : deep.base}` }),
        LIST_CONNECTIONS,
      );
      firstPage[depth] = list.ours.rps;
      firstPageCpu[depth] = list.ours.cpuMicros;
      figures.push({
        section: `Reads (${backend}, ${dataset.customers.toLocaleString('en')} customers)`,
        name: `list sort=${sort}, ${depth}`,
        ours: list.ours.rps,
        base: list.base.rps,
        cpu: cpuPair(list.ours, list.base, 'µs/page'),
        unit: 'pages/s',
        detail: `${Math.round(list.ours.rps * PAGE).toLocaleString('en')} customers/s (baseline ${Math.round(list.base.rps * PAGE).toLocaleString('en')}); p50 ${list.ours.p50} ms / p99 ${list.ours.p99} ms; ${(list.ours.bytesPerSec / 1e6).toFixed(0)} MB/s; server CPU ${cpu(list.ours)} vs ${cpu(list.base)} µs/page`,
        target: { kind: 'ratio', min: 0.8 },
      });
    }
    figures.push({
      section: `Reads (${backend}, ${dataset.customers.toLocaleString('en')} customers)`,
      name: `list sort=${sort}: deep page vs page 1 (ours)`,
      ours: firstPage['deep (90%)']!,
      base: firstPage['page 1']!,
      cpu: cpuOf(firstPageCpu['deep (90%)'], firstPageCpu['page 1'], 'µs/page'),
      unit: 'pages/s',
      detail: 'ratio = deep / page 1',
      target: { kind: 'ratio', min: 0.9 },
    });
  }
  if (sampling) clearInterval(sampling);
  figures.push({
    section: `Memory (${backend})`,
    name: 'customers-api peak RSS under list load',
    ours: Math.max(ourPeak, 0) / 1e6,
    base: pair.base.peakRss() / 1e6,
    unit: 'MB',
    detail: `VmHWM since start: ours ${(pair.ours.peakRss() / 1e6).toFixed(0)} MB, baseline ${(pair.base.peakRss() / 1e6).toFixed(0)} MB (4 connections of 1000-customer pages)`,
    target: { kind: 'info' },
  });
}

async function benchSync(dataset: Dataset, pair: Pair, label: string) {
  const org = dataset.organizationId;
  const backend = dataset.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  log(`[${label}] full sync`);
  const syncUrl = (server: ServerProcess) => `${server.url}/organizations/${org}/customers?sort=updated`;
  const measureCpu = async <T>(server: ServerProcess, run: () => Promise<T>) => {
    const serverBefore = server.cpuSeconds();
    const clientBefore = process.cpuUsage();
    const result = await run();
    const client = process.cpuUsage(clientBefore);
    return { result, serverCpu: server.cpuSeconds() - serverBefore, clientCpu: (client.user + client.system) / 1e6 };
  };
  const ours = await measureCpu(pair.ours, () => syncWithSdk(pair.ours.url, pair.token, org));
  const base = await measureCpu(pair.base, () => fetchAll(syncUrl(pair.base), undefined));
  const ourSync = ours.result;
  const baseSync = base.result;
  // With a core each for server and client (an idle 2-core machine), the busier side bounds the pipeline.
  const projected = (run: { result: SyncResult; serverCpu: number; clientCpu: number }) =>
    run.result.customers / Math.max(run.serverCpu, run.clientCpu);
  if (ourSync.customers !== dataset.customers || baseSync.customers !== dataset.customers) {
    throw new Error(
      `sync saw ${ourSync.customers} (ours) / ${baseSync.customers} (baseline) customers, expected ${dataset.customers}`,
    );
  }
  figures.push({
    section: `Sync (${backend})`,
    name: `full sync of ${dataset.customers.toLocaleString('en')} customers (sort=updated)`,
    ours: ourSync.perSecond,
    base: baseSync.perSecond,
    unit: 'customers/s',
    cpu: cpuOf((ours.serverCpu * 1e6) / ourSync.pages, (base.serverCpu * 1e6) / baseSync.pages, 'server µs/page'),
    detail:
      `${ourSync.seconds.toFixed(2)} s ours via ${ourSync.client}, ${baseSync.seconds.toFixed(2)} s baseline via a fetch loop; ${ourSync.pages} pages; ` +
      `CPU server ${ours.serverCpu.toFixed(1)} s + client ${ours.clientCpu.toFixed(1)} s (baseline ${base.serverCpu.toFixed(1)} + ${base.clientCpu.toFixed(1)} s); ` +
      `CPU-bound projection with a core each: ${Math.round(projected(ours)).toLocaleString('en')} customers/s (baseline ${Math.round(projected(base)).toLocaleString('en')})`,
    target: dataset.backend === 'sqlite' ? { kind: 'absolute', min: 150_000 } : { kind: 'info' },
  });
  const loop = await measureCpu(pair.ours, () => fetchAll(syncUrl(pair.ours), pair.token));
  if (loop.result.customers !== dataset.customers)
    throw new Error(`fetch-loop sync saw ${loop.result.customers} customers`);
  figures.push({
    section: `Sync (${backend})`,
    name: `full sync, fetch loop asking for the next page on its headers`,
    ours: loop.result.perSecond,
    base: baseSync.perSecond,
    unit: 'customers/s',
    cpu: cpuOf((loop.serverCpu * 1e6) / loop.result.pages, (base.serverCpu * 1e6) / baseSync.pages, 'server µs/page'),
    detail:
      `the same client loop against both servers: ${loop.result.seconds.toFixed(2)} s vs ${baseSync.seconds.toFixed(2)} s; ` +
      `CPU-bound projection with a core each: ${Math.round(projected(loop)).toLocaleString('en')} customers/s (baseline ${Math.round(projected(base)).toLocaleString('en')})`,
    target: dataset.backend === 'sqlite' ? { kind: 'absolute', min: 150_000 } : { kind: 'info' },
  });
}

async function benchSearch(
  dataset: Dataset,
  pair: Pair,
  samples: Samples,
  label: string,
): Promise<Record<string, LoadResult>> {
  const org = dataset.organizationId;
  const out: Record<string, LoadResult> = {};
  for (const kind of ['email', 'phoneNumber'] as const) {
    log(`[${label}] search by ${kind}`);
    const values = kind === 'email' ? samples.emails : samples.phones;
    const next = () => ({ path: `/organizations/${org}/customers?${kind}=${encodeURIComponent(pick(values))}` });
    const result = await paired(pair, next, next, READ_CONNECTIONS);
    out[`ours:${kind}`] = result.ours;
    out[`base:${kind}`] = result.base;
    figures.push({
      section: 'Search (SQLite)',
      name: `search by ${kind === 'email' ? 'email' : 'phone'}, ${dataset.customers.toLocaleString('en')} customers`,
      ours: result.ours.rps,
      base: result.base.rps,
      cpu: cpuPair(result.ours, result.base, 'µs/request'),
      unit: 'req/s',
      detail: `p50 ${result.ours.p50} ms / p99 ${result.ours.p99} ms; server CPU ${cpu(result.ours)} vs ${cpu(result.base)} µs/request`,
      target: { kind: 'ratio', min: 0.8 },
    });
  }
  return out;
}

async function withPair<T>(
  dataset: Dataset,
  token: string,
  run: (pair: Pair) => Promise<T>,
  profileName?: string,
): Promise<T> {
  const profileDir = flags.profile && profileName ? path.join(DATA_DIR, 'profiles', profileName) : undefined;
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  const ours = await startOurServer({
    databaseUrl: dataset.databaseUrl,
    port: await freePort(),
    cpuProfileDir: profileDir,
  });
  let base: ServerProcess | undefined;
  try {
    base = await startBaseline(dataset.databaseUrl, await freePort());
    return await run({ ours, base, token });
  } finally {
    await ours.stop();
    await base?.stop();
    if (profileDir && fs.existsSync(profileDir)) {
      for (const file of fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
        const summary = formatProfile(summarizeProfile(path.join(profileDir, file)));
        log(summary);
        profiles.push(summary);
      }
    }
  }
}

function sqliteVersion(): string {
  const db = new BetterSqlite3(':memory:');
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

async function main() {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  log(
    `customers-api benchmarks: ${N.toLocaleString('en')} customers, ${SECONDS} s per measurement${quick ? ' (quick)' : ''}`,
  );
  const loadBefore = loadAverage();
  const calibrationBefore = calibrate();
  const postgres = !flags['no-postgres'] && (await isPostgresAvailable());

  const big = await ensureSqliteDataset(N, log);
  const small = await ensureSqliteDataset(SMALL, log);
  const scratch = await createScratchOrganization(big.databaseUrl);
  const tokens = await createTokens(big.databaseUrl, [big.organizationId, scratch]);
  const smallTokens = await createTokens(small.databaseUrl, [small.organizationId]);
  const bigSamples = await sampleCustomers(big, quick ? 20_000 : 100_000);
  const smallSamples = await sampleCustomers(small, SMALL);

  const searchBig = await withPair(
    big,
    tokens.read,
    async (pair) => {
      await checkSameAnswers(pair, big.organizationId, bigSamples);
      await benchReads(big, pair, bigSamples, `sqlite ${N}`);
      const search = wants('search') ? await benchSearch(big, pair, bigSamples, `sqlite ${N}`) : undefined;
      if (!wants('writes')) return search;
      log(`[sqlite ${N}] writes`);
      figures.push(
        ...(await runWriteBenchmarks({
          pair: { ...pair, token: tokens.write },
          organizationId: scratch,
          seconds: SECONDS,
          warmup: WARMUP,
          dataset: big,
          log,
          notes,
        })),
      );
      return search;
    },
    'sqlite',
  );

  const searchSmall = !searchBig
    ? undefined
    : await withPair(small, smallTokens.read, async (pair) => {
        await checkSameAnswers(pair, small.organizationId, smallSamples);
        return benchSearch(small, pair, smallSamples, `sqlite ${SMALL}`);
      });
  for (const kind of ['email', 'phoneNumber'] as const) {
    if (!searchBig || !searchSmall) break;
    figures.push({
      section: 'Search (SQLite)',
      name: `search by ${kind === 'email' ? 'email' : 'phone'}: ${N.toLocaleString('en')} vs ${SMALL.toLocaleString('en')} customers (ours)`,
      ours: searchBig[`ours:${kind}`]!.rps,
      base: searchSmall[`ours:${kind}`]!.rps,
      cpu: cpuOf(searchBig[`ours:${kind}`]!.cpuMicros, searchSmall[`ours:${kind}`]!.cpuMicros, 'µs/request'),
      unit: 'req/s',
      detail: `ratio = at ${N.toLocaleString('en')} / at ${SMALL.toLocaleString('en')}; baseline ${Math.round(searchBig[`base:${kind}`]!.rps)} vs ${Math.round(searchSmall[`base:${kind}`]!.rps)}`,
      target: { kind: 'ratio', min: 0.9 },
    });
  }

  if (!flags['no-import'] && wants('import')) {
    log(`import of ${IMPORT_ROWS.toLocaleString('en')} NDJSON rows`);
    figures.push(...(await runImportBenchmark({ rows: IMPORT_ROWS, log, notes })));
  }

  let pgVersion = 'not available';
  if (postgres && wants('postgres')) {
    pgVersion = await postgresVersion();
    const pgData = await ensurePostgresDataset(N, log);
    const pgTokens = await createTokens(pgData.databaseUrl, [pgData.organizationId]);
    const pgSamples = await sampleCustomers(pgData, quick ? 20_000 : 100_000);
    await withPair(
      pgData,
      pgTokens.read,
      async (pair) => {
        await checkSameAnswers(pair, pgData.organizationId, pgSamples);
        await benchReads(pgData, pair, pgSamples, `postgres ${N}`);
      },
      'postgres',
    );
  } else {
    notes.push('PostgreSQL was not available (or --no-postgres): no PostgreSQL figures.');
  }

  const npmVersion = execFileSync('npm', ['-v'], { encoding: 'utf8' }).trim();
  const report: Report = {
    date: new Date(runStarted).toISOString(),
    durationSeconds: (Date.now() - runStarted) / 1000,
    command: `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      ramGb: os.totalmem() / 2 ** 30,
      node: process.version,
      npm: npmVersion,
      sqlite: sqliteVersion(),
      postgres: pgVersion,
      os: `${os.type()} ${os.release()}`,
      loadBefore,
      loadAfter: loadAverage(),
      calibrationBefore,
      calibrationAfter: calibrate(),
      cpuPressure: readCpuPressure(),
    },
    settings: {
      customers: N,
      small: SMALL,
      seconds: SECONDS,
      warmup: WARMUP,
      readConnections: READ_CONNECTIONS,
      listConnections: LIST_CONNECTIONS,
      importRows: IMPORT_ROWS,
    },
    datasets: [big, small],
    figures,
    notes,
    profiles,
  };
  console.log(`\n${renderTable(report)}`);
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(
    RESULTS_FILE,
    renderMarkdown(report, fs.existsSync('bench/ANALYSIS.md') ? fs.readFileSync('bench/ANALYSIS.md', 'utf8') : ''),
  );
  console.log(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)} in ${report.durationSeconds.toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
