import { runLoad, type LoadResult } from './load.js';
import type { ServerProcess } from './processes.js';
import type { Figure } from './report.js';

/** The run's parts, selectable with `--only`. */
export const PARTS = [
  'get',
  'list',
  'sync',
  'search',
  'searchq',
  'segments',
  'peer',
  'writes',
  'import',
  'postgres',
  'replicas',
  'console',
  'insights',
] as const;
export type Part = (typeof PARTS)[number];

export interface BenchSettings {
  quick: boolean;
  /** Customers in the big dataset (1,000,000 by default). */
  customers: number;
  /** Customers in the small dataset the scaling figures compare against. */
  small: number;
  /** Seconds of load per measurement, and of warm-up before it. */
  seconds: number;
  warmup: number;
  importRows: number;
  page: number;
  readConnections: number;
  listConnections: number;
}

/** What every scenario gets: the settings, the log, and where it leaves notes and profiles for the report. */
export interface BenchContext {
  settings: BenchSettings;
  log: (message: string) => void;
  wants: (part: Part) => boolean;
  notes: string[];
  profiles: string[];
}

/** Our server and the bare baseline on the same dataset, with the token our server wants. */
export interface Pair {
  ours: ServerProcess;
  base: ServerProcess;
  token: string;
}

/** The run's settings: the full run, or `--quick`'s. */
export function defaultSettings(quick: boolean): BenchSettings {
  return {
    quick,
    customers: quick ? 100_000 : 1_000_000,
    small: 10_000,
    seconds: quick ? 1.2 : 10,
    warmup: quick ? 0.3 : 2,
    importRows: quick ? 20_000 : 1_000_000,
    page: 1000,
    readConnections: 10,
    listConnections: 4,
  };
}

/** A context for running one scenario on its own (bench/search-q.ts, bench/segments-write.ts): the log on stdout. */
export function standaloneContext(overrides: Partial<BenchSettings>): BenchContext {
  const started = Date.now();
  return {
    settings: { ...defaultSettings(overrides.quick ?? false), ...overrides },
    log: (message) => console.log(`${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${message}`),
    wants: () => true,
    notes: [],
    profiles: [],
  };
}

export function cpuOf(ours: number | undefined, base: number | undefined, unit: string): Figure['cpu'] {
  return ours === undefined || base === undefined ? undefined : { ours, base, unit };
}

export function cpuPair(ours: LoadResult, base: LoadResult, unit: string): Figure['cpu'] {
  return cpuOf(ours.cpuMicros, base.cpuMicros, unit);
}

export function cpuText(result: LoadResult): string {
  return result.cpuMicros === undefined ? '?' : result.cpuMicros.toFixed(0);
}

export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

export function backendLabel(backend: 'sqlite' | 'postgres'): string {
  return backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
}

async function load(
  context: BenchContext,
  server: ServerProcess,
  token: string | undefined,
  next: () => { path: string },
  connections: number,
): Promise<LoadResult> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await runLoad({ url: server.url, next, headers, connections, seconds: context.settings.warmup });
  const result = await runLoad({
    url: server.url,
    next,
    headers,
    connections,
    seconds: context.settings.seconds,
    cpuSeconds: () => server.cpuSeconds(),
  });
  if (result.failures > 0)
    context.notes.push(`${server.name}: ${result.failures} failed requests in a run of ${result.total}.`);
  return result;
}

/** Runs the same request mix against ours then the baseline, back to back, so both see the same machine noise. */
export async function paired(
  context: BenchContext,
  pair: Pair,
  nextOurs: () => { path: string },
  nextBase: () => { path: string },
  connections: number,
): Promise<{ ours: LoadResult; base: LoadResult }> {
  const ours = await load(context, pair.ours, pair.token, nextOurs, connections);
  const base = await load(context, pair.base, undefined, nextBase, connections);
  return { ours, base };
}

export async function getJson(url: string, token?: string): Promise<{ body: unknown; next: string | null }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return { body: await response.json(), next: response.headers.get('x-next-page') };
}
