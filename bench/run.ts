/**
 * customers-api benchmarks: every figure of ours next to the bare node:http
 * baseline measured in the same run. `npm run bench` (full, 1,000,000
 * customers) or `npm run bench -- --quick` (100,000 customers, short runs).
 *
 * This file is the table of contents: settings, datasets, then one call per scenario in `bench/scenarios/`
 * (each returns its figures), then the report.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSettings, PARTS, type BenchContext, type BenchSettings, type Pair, type Part } from './context.js';
import {
  createScratchOrganization,
  createTokens,
  DATA_DIR,
  ensurePostgresDataset,
  ensureSqliteDataset,
  isPostgresAvailable,
  postgresVersion,
  sampleCustomers,
  type Dataset,
} from './data.js';
import { calibrate, loadAverage, readCpuPressure, sqliteVersion } from './machine.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { freePort, startBaseline, startOurServer, type ServerProcess } from './processes.js';
import { renderMarkdown, renderTable, type Figure, type Report } from './report.js';
import { runConsoleBenchmarks, type ConsoleTarget } from './scenarios/console.js';
import { runImportBenchmark } from './scenarios/import.js';
import { runInsightReadBenchmarks, runInsightTriggerBenchmarks } from './scenarios/insights.js';
import { runPeerBenchmarks } from './scenarios/peer.js';
import { checkSameAnswers, runReadBenchmarks } from './scenarios/reads.js';
import { replicaIsAvailable, REPLICA_PORT, runReplicaBenchmarks } from './scenarios/replicas.js';
import { runSearchBenchmarks, searchScalingFigures } from './scenarios/search.js';
import { runSearchQBenchmarks } from './scenarios/search-q.js';
import { runSegmentWriteBenchmarks } from './scenarios/segments.js';
import { runWriteBenchmarks } from './scenarios/writes.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    customers: { type: 'string' },
    /** PostgreSQL's dataset size when it differs from --customers (1,000,000 rows take long to generate there). */
    'pg-customers': { type: 'string' },
    seconds: { type: 'string' },
    'no-postgres': { type: 'boolean', default: false },
    'no-import': { type: 'boolean', default: false },
    /** Rows of the import part's file (default 1,000,000; 20,000 with --quick). */
    'import-rows': { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
  },
});

/** `--only get,list` runs just those parts (for profiling and iterating); the default runs everything. */
const only = new Set(flags.only ? flags.only.split(',').map((p) => p.trim()) : PARTS);
for (const part of only)
  if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only takes ${PARTS.join(',')}; got ${part}`);

const quick = flags.quick;
const settings: BenchSettings = {
  ...defaultSettings(quick),
  ...(flags.customers ? { customers: Number(flags.customers) } : {}),
  ...(flags.seconds ? { seconds: Number(flags.seconds) } : {}),
  ...(flags['import-rows'] ? { importRows: Number(flags['import-rows']) } : {}),
};
const RESULTS_FILE = flags.out
  ? path.resolve(flags.out)
  : path.resolve(quick ? 'bench/.data/RESULTS-quick.md' : 'bench/RESULTS.md');

const runStarted = Date.now();
const context: BenchContext = {
  settings,
  log: (message: string) => console.log(`${((Date.now() - runStarted) / 1000).toFixed(0).padStart(4)} s  ${message}`),
  wants: (part: Part) => only.has(part),
  notes: [],
  profiles: [],
};
const { log, wants, notes, profiles } = context;

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

async function main() {
  const N = settings.customers;
  const SMALL = settings.small;
  const SECONDS = settings.seconds;
  const PG_N = flags['pg-customers'] ? Number(flags['pg-customers']) : N;
  const figures: Figure[] = [];
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
      figures.push(...(await runReadBenchmarks(context, big, pair, bigSamples, `sqlite ${N}`)));
      if (wants('insights')) figures.push(...(await runInsightReadBenchmarks(context, big, pair)));
      if (wants('peer')) figures.push(...(await runPeerBenchmarks(context, big, pair.ours, tokens.read, bigSamples)));
      const search = wants('search')
        ? await runSearchBenchmarks(context, big, pair, bigSamples, `sqlite ${N}`)
        : undefined;
      if (search) figures.push(...search.figures);
      if (!wants('writes')) return search;
      log(`[sqlite ${N}] writes`);
      figures.push(
        ...(await runWriteBenchmarks({
          pair: { ...pair, token: tokens.write },
          organizationId: scratch,
          seconds: settings.seconds,
          warmup: settings.warmup,
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
        return runSearchBenchmarks(context, small, pair, smallSamples, `sqlite ${SMALL}`);
      });
  if (searchBig && searchSmall) {
    figures.push(...searchSmall.figures, ...searchScalingFigures(searchBig, searchSmall, N, SMALL));
  }

  if (wants('searchq')) figures.push(...(await runSearchQBenchmarks(context, postgres)));
  if (wants('segments')) figures.push(...(await runSegmentWriteBenchmarks(context, postgres)));

  if (!flags['no-import'] && wants('import')) {
    log(`import of ${settings.importRows.toLocaleString('en')} NDJSON rows`);
    figures.push(...(await runImportBenchmark({ rows: settings.importRows, postgres, log, notes })));
  }

  if (wants('insights')) figures.push(...(await runInsightTriggerBenchmarks(context, postgres)));

  const consoleTargets: ConsoleTarget[] = [{ dataset: big, token: tokens.read }];
  const pgVersion = postgres ? await postgresVersion() : 'not available';
  if (postgres && (wants('postgres') || wants('replicas') || wants('insights') || wants('console'))) {
    const pgData = await ensurePostgresDataset(PG_N, log);
    const pgTokens = await createTokens(pgData.databaseUrl, [pgData.organizationId]);
    const pgSamples = await sampleCustomers(pgData, quick ? 20_000 : 100_000);
    if (wants('postgres')) {
      await withPair(
        pgData,
        pgTokens.read,
        async (pair) => {
          await checkSameAnswers(pair, pgData.organizationId, pgSamples);
          figures.push(...(await runReadBenchmarks(context, pgData, pair, pgSamples, `postgres ${pgData.customers}`)));
        },
        'postgres',
      );
    }
    if (wants('insights')) {
      await withPair(pgData, pgTokens.read, async (pair) => {
        figures.push(...(await runInsightReadBenchmarks(context, pgData, pair)));
      });
    }
    consoleTargets.push({ dataset: pgData, token: pgTokens.read });
    if (wants('replicas') && (await replicaIsAvailable(pgData.databaseUrl))) {
      figures.push(...(await runReplicaBenchmarks(context, { dataset: pgData, samples: pgSamples, tokens: pgTokens })));
    } else if (wants('replicas')) {
      notes.push(
        `No streaming replica on 127.0.0.1:${REPLICA_PORT} (start one with test/helpers/scale-infra.sh start): no scale-out figures.`,
      );
    }
  } else if (!postgres) {
    notes.push('PostgreSQL was not available (or --no-postgres): no PostgreSQL figures.');
  }
  if (wants('console')) figures.push(...(await runConsoleBenchmarks(context, consoleTargets)));

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
      warmup: settings.warmup,
      readConnections: settings.readConnections,
      listConnections: settings.listConnections,
      importRows: settings.importRows,
    },
    datasets: [big, small],
    figures,
    notes,
    profiles,
  };
  console.log(`\n${renderTable(report)}`);
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  // The sections this run did not measure stay as the earlier runs left them (an `--only` run replaces its own).
  const previous = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, 'utf8') : '';
  const analysis = fs.existsSync('bench/ANALYSIS.md') ? fs.readFileSync('bench/ANALYSIS.md', 'utf8') : '';
  fs.writeFileSync(RESULTS_FILE, renderMarkdown(report, analysis, previous));
  console.log(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)} in ${report.durationSeconds.toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
