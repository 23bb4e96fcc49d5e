import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createScratchOrganization, DATA_DIR, ensureImportFile } from '../data.js';
import { readCpuSeconds, readProcStatus } from '../processes.js';
import type { Figure } from '../report.js';

export interface ImportBenchOptions {
  rows: number;
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
async function freshDatabase(name: string): Promise<{ file: string; organizationId: string }> {
  const dir = path.join(DATA_DIR, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'customers.db');
  const organizationId = await createScratchOrganization(`sqlite:${file}`);
  return { file, organizationId };
}

/**
 * `customers-api import` of an NDJSON file into an empty organization of a
 * fresh database, end to end (process start to exit), with its peak RSS;
 * against a bare line-by-line insert of the same file.
 */
export async function runImportBenchmark(options: ImportBenchOptions): Promise<Figure[]> {
  const input = await ensureImportFile(options.rows, options.log);
  const ours = await freshDatabase('import-ours');
  const rejects = path.join(DATA_DIR, 'import-ours', 'rejects.ndjson');
  const run = await runMeasured(
    [
      path.resolve('bin/customers-api'),
      'import',
      '--org',
      ours.organizationId,
      input,
      '--format',
      'ndjson',
      '--rejects',
      rejects,
      '--json',
    ],
    { DATABASE_URL: `sqlite:${ours.file}`, LOG_LEVEL: 'info' },
  );
  const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
    rows: number;
    inserted: number;
    rejected: number;
    rowsPerSecond: number;
  };
  if (result.rejected > 0)
    options.notes.push(`import rejected ${result.rejected} rows (see ${path.relative(process.cwd(), rejects)}).`);
  if (result.inserted !== options.rows)
    options.notes.push(`import inserted ${result.inserted} of ${options.rows} rows.`);

  const base = await freshDatabase('import-baseline');
  const baseRun = await runMeasured(
    [path.resolve('bench/.build/bench/baseline/import.js'), base.file, base.organizationId, input],
    {},
  );
  const oursRate = result.rows / run.seconds;
  const baseRate = options.rows / baseRun.seconds;
  const section = 'Import (SQLite, NDJSON, empty organization)';
  return [
    {
      section,
      name: `import ${options.rows.toLocaleString('en')} rows: rows/s end to end`,
      ours: oursRate,
      base: baseRate,
      unit: 'rows/s',
      detail:
        `${run.seconds.toFixed(1)} s including process start (the CLI reports ${result.rowsPerSecond.toLocaleString('en')} rows/s); baseline ${baseRun.seconds.toFixed(1)} s (plain inserts, no upsert lookups or events); ` +
        `CPU ${run.cpuSeconds.toFixed(1)} s = ${Math.round(result.rows / run.cpuSeconds).toLocaleString('en')} rows per CPU-second (baseline ${Math.round(options.rows / baseRun.cpuSeconds).toLocaleString('en')})`,
      target: { kind: 'absolute', min: 50_000 },
      cpu: {
        ours: (run.cpuSeconds * 1e6) / result.rows,
        base: (baseRun.cpuSeconds * 1e6) / options.rows,
        unit: 'µs/row',
      },
    },
    {
      section,
      name: 'import peak RSS',
      ours: run.peakRss / 1e6,
      base: baseRun.peakRss / 1e6,
      unit: 'MB',
      detail: 'VmHWM of the import process',
      target: { kind: 'max', max: 300 },
    },
  ];
}
