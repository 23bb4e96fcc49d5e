import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { benchPostgresName, createScratchOrganization, DATA_DIR, ensureImportFile, pgAdmin } from '../data.js';
import { readCpuSeconds, readProcStatus } from '../processes.js';
import type { Figure } from '../report.js';
import type { ImportLine } from '../baseline/import-lines.js';

export interface ImportBenchOptions {
  rows: number;
  /** Also measure the PostgreSQL import (the local server answers). */
  postgres: boolean;
  log: (message: string) => void;
  notes: string[];
}

interface ChildRun {
  seconds: number;
  peakRss: number;
  /** CPU seconds at the last sample before exit (50 ms resolution). */
  cpuSeconds: number;
  stdout: string;
  code: number | null;
}

/** Runs a command to completion, sampling its peak RSS (VmHWM) until it exits. */
async function runMeasured(args: string[], env: Record<string, string>): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  let peakRss = 0;
  let cpuSeconds = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, readProcStatus(child.pid!, 'VmHWM'));
    cpuSeconds = Math.max(cpuSeconds, readCpuSeconds(child.pid!));
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (status) => resolve(status)));
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0 && code !== 4) throw new Error(`${args.join(' ')} exited with ${code}:\n${stderr}`);
  return { seconds, peakRss, cpuSeconds, stdout, code };
}

/** A fresh, migrated SQLite file with one empty organization. */
async function freshDatabase(name: string): Promise<{ url: string; organizationId: string; drop(): Promise<void> }> {
  const dir = path.join(DATA_DIR, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const url = `sqlite:${path.join(dir, 'customers.db')}`;
  const organizationId = await createScratchOrganization(url);
  return { url, organizationId, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh, migrated PostgreSQL database of its own (`BENCH_PG_SUFFIX` applies) with one empty organization. */
async function freshPostgresDatabase(
  base: string,
): Promise<{ url: string; organizationId: string; drop(): Promise<void> }> {
  const name = benchPostgresName(base);
  const recreate = async (create: boolean) =>
    pgAdmin(async (client) => {
      await client.query(`drop database if exists ${name} with (force)`);
      if (create) await client.query(`create database ${name}`);
    });
  await recreate(true);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  return { url, organizationId: await createScratchOrganization(url), drop: () => recreate(false) };
}

interface StoredCustomer {
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone_number: string | null;
  dob: string | null;
  gender: string | null;
  has_agreed_to_marketing: number | null;
  created_at: number | string;
}

/**
 * The update of a stored customer every line of the all-updates file makes: the marketing consent flipped, the rest
 * as stored (a CRM's re-sync). A line that also changes the name rewrites the customer's full-text row, which FTS5's
 * secure-delete makes cost more the larger the organization (bench/ANALYSIS.md, "Import, round three").
 */
function updateLine(row: StoredCustomer): ImportLine {
  const line: ImportLine = { id: row.id, firstName: row.first_name, lastName: row.last_name, createdAt: '' };
  if (row.email !== null) line.email = row.email;
  if (row.phone_number !== null) line.phoneNumber = row.phone_number;
  if (row.dob !== null) line.dob = row.dob;
  if (row.gender !== null) line.gender = row.gender;
  line.hasAgreedToMarketing = row.has_agreed_to_marketing !== 1;
  line.createdAt = new Date(Number(row.created_at)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return line;
}

const STORED_COLUMNS =
  'id, first_name, last_name, email, phone_number, dob, gender, has_agreed_to_marketing, created_at';

/**
 * The all-updates file: every customer of the organization (newest first, as an export lists them) by id, each with
 * the marketing consent flipped, so that every line changes its customer (an event each, and a field segments
 * filter on).
 */
async function writeUpdateFile(url: string, organizationId: string, file: string): Promise<number> {
  const out = fs.createWriteStream(file);
  let count = 0;
  const emit = async (row: StoredCustomer) => {
    count++;
    if (!out.write(`${JSON.stringify(updateLine(row))}\n`)) await once(out, 'drain');
  };
  if (url.startsWith('sqlite:')) {
    const db = new BetterSqlite3(url.slice('sqlite:'.length), { readonly: true });
    try {
      const rows = db
        .prepare(`select ${STORED_COLUMNS} from customers where organization_id = ? order by created_at desc, id desc`)
        .iterate(organizationId) as IterableIterator<StoredCustomer>;
      for (const row of rows) await emit(row);
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      let after: { at: string; id: string } | undefined;
      for (;;) {
        const { rows } = await client.query<StoredCustomer>(
          `select ${STORED_COLUMNS} from customers where organization_id = $1
             ${after ? 'and (created_at, id) < ($2, $3)' : ''} order by created_at desc, id desc limit 10000`,
          after ? [organizationId, after.at, after.id] : [organizationId],
        );
        for (const row of rows) await emit(row);
        if (rows.length < 10000) break;
        const last = rows[rows.length - 1]!;
        after = { at: String(last.created_at), id: last.id };
      }
    } finally {
      await client.end();
    }
  }
  out.end();
  await once(out, 'finish');
  return count;
}

interface ImportResult {
  rows: number;
  inserted: number;
  updated: number;
  rejected: number;
  rowsPerSecond: number;
}

/** `customers-api import` of an NDJSON file into the organization, end to end (process start to exit). */
async function runOurImport(
  database: { url: string; organizationId: string },
  input: string,
  rejects: string,
): Promise<{ run: ChildRun; result: ImportResult }> {
  const run = await runMeasured(
    [
      path.resolve('bin/customers-api'),
      'import',
      '--org',
      database.organizationId,
      input,
      '--format',
      'ndjson',
      '--rejects',
      rejects,
      '--json',
    ],
    { DATABASE_URL: database.url, LOG_LEVEL: 'info' },
  );
  return { run, result: JSON.parse(run.stdout.trim().split('\n').pop()!) as ImportResult };
}

interface Measured {
  ours: { run: ChildRun; result: ImportResult };
  base: ChildRun;
  rows: number;
}

/** The figures of one import (rows/s with CPU per row, and peak RSS) against its baseline. */
function importFigures(section: string, what: string, measured: Measured, target: number, rss: boolean): Figure[] {
  const { ours, base, rows } = measured;
  const oursRate = ours.result.rows / ours.run.seconds;
  const baseRate = rows / base.seconds;
  const figures: Figure[] = [
    {
      section,
      name: `${what}: rows/s end to end`,
      ours: oursRate,
      base: baseRate,
      unit: 'rows/s',
      detail:
        `${ours.run.seconds.toFixed(1)} s including process start (the CLI reports ${ours.result.rowsPerSecond.toLocaleString('en')} rows/s); ` +
        `baseline ${base.seconds.toFixed(1)} s; importer CPU ${ours.run.cpuSeconds.toFixed(1)} s = ` +
        `${Math.round(ours.result.rows / ours.run.cpuSeconds).toLocaleString('en')} rows per CPU-second ` +
        `(baseline ${Math.round(rows / base.cpuSeconds).toLocaleString('en')})`,
      target: { kind: 'absolute', min: target },
      cpu: {
        ours: (ours.run.cpuSeconds * 1e6) / ours.result.rows,
        base: (base.cpuSeconds * 1e6) / rows,
        unit: 'µs/row',
      },
    },
  ];
  if (rss) {
    figures.push({
      section,
      name: `${what}: peak RSS`,
      ours: ours.run.peakRss / 1e6,
      base: base.peakRss / 1e6,
      unit: 'MB',
      detail: 'VmHWM of the import process',
      target: { kind: 'max', max: 300 },
    });
  }
  return figures;
}

/**
 * One backend: `customers-api import` of the NDJSON file into an empty organization of a fresh database, then of a
 * file that updates every customer it created; the baseline (bare statements, `bench/baseline/import*.ts`) does the
 * same into a fresh database of its own, in the same run.
 */
async function measureBackend(
  backend: 'sqlite' | 'postgres',
  input: string,
  options: ImportBenchOptions,
): Promise<Figure[]> {
  const fresh = (role: string) =>
    backend === 'sqlite' ? freshDatabase(`import-${role}`) : freshPostgresDatabase(`customers_import_${role}`);
  const baseline = path.resolve(
    `bench/.build/bench/baseline/${backend === 'sqlite' ? 'import' : 'import-postgres'}.js`,
  );
  const baseTarget = (db: { url: string }) => (backend === 'sqlite' ? db.url.slice('sqlite:'.length) : db.url);
  const rejects = path.join(DATA_DIR, `import-rejects-${backend}.ndjson`);
  const updates = path.join(DATA_DIR, `import-updates-${backend}.ndjson`);
  const check = (what: string, result: ImportResult, field: 'inserted' | 'updated', expected: number) => {
    if (result.rejected > 0)
      options.notes.push(`${backend} ${what} rejected ${result.rejected} rows (see ${path.relative('.', rejects)}).`);
    if (result[field] !== expected) options.notes.push(`${backend} ${what} ${field} ${result[field]} of ${expected}.`);
  };

  const ours = await fresh('ours');
  const base = await fresh('base');
  try {
    options.log(`${backend}: import of ${options.rows.toLocaleString('en')} rows into an empty organization`);
    const created = await runOurImport(ours, input, rejects);
    check('import', created.result, 'inserted', options.rows);
    const createdBase = await runMeasured([baseline, baseTarget(base), base.organizationId, input], {});

    const updateRows = await writeUpdateFile(ours.url, ours.organizationId, updates);
    options.log(`${backend}: import of ${updateRows.toLocaleString('en')} rows that all update existing customers`);
    const updated = await runOurImport(ours, updates, rejects);
    check('all-updates import', updated.result, 'updated', updateRows);
    const updatedBase = await runMeasured([baseline, baseTarget(base), base.organizationId, updates, '--update'], {});

    const label = backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    const section = `Import (${label}, NDJSON)`;
    const rows = options.rows.toLocaleString('en');
    return [
      ...importFigures(
        section,
        `import ${rows} rows into an empty organization`,
        { ours: created, base: createdBase, rows: options.rows },
        backend === 'sqlite' ? 50_000 : 40_000,
        true,
      ),
      ...importFigures(
        section,
        `import ${updateRows.toLocaleString('en')} rows that all update existing customers`,
        { ours: updated, base: updatedBase, rows: updateRows },
        backend === 'sqlite' ? 20_000 : 15_000,
        false,
      ),
    ];
  } finally {
    fs.rmSync(updates, { force: true });
    await ours.drop();
    await base.drop();
  }
}

/**
 * `customers-api import` of an NDJSON file into an empty organization of a fresh database and then of a file that
 * updates every customer, end to end with peak RSS, on SQLite and (when it answers) PostgreSQL, each against bare
 * statements doing the same rows in the same run.
 */
export async function runImportBenchmark(options: ImportBenchOptions): Promise<Figure[]> {
  const input = await ensureImportFile(options.rows, options.log);
  const figures = await measureBackend('sqlite', input, options);
  if (options.postgres) figures.push(...(await measureBackend('postgres', input, options)));
  return figures;
}
