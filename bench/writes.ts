import type { Dataset } from './data.js';
import { runLoad, type LoadResult } from './load.js';
import type { ServerProcess } from './processes.js';
import type { Figure } from './report.js';

export interface WriteBenchOptions {
  pair: { ours: ServerProcess; base: ServerProcess; token: string };
  /** An empty organization the writes go to, so the read dataset keeps its size. */
  organizationId: string;
  dataset: Dataset;
  seconds: number;
  warmup: number;
  log: (message: string) => void;
  notes: string[];
}

const WRITE_CONNECTIONS = 10;

function createBodies() {
  let n = 0;
  return () => {
    n++;
    return JSON.stringify({
      firstName: 'Bench',
      lastName: `Writer ${n}`,
      email: `bench.writer.${process.pid}.${Date.now()}.${n}@example.com`,
      phoneNumber: `+6149${String(n % 10_000_000).padStart(7, '0')}`,
      hasAgreedToMarketing: n % 2 === 0,
    });
  };
}

async function measure(server: ServerProcess, token: string | undefined, path: string, seconds: number, warmup: number): Promise<LoadResult> {
  const body = createBodies();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const next = () => ({ path, body: body() });
  await runLoad({ url: server.url, method: 'POST', next, headers, connections: WRITE_CONNECTIONS, seconds: warmup });
  return runLoad({ url: server.url, method: 'POST', next, headers, connections: WRITE_CONNECTIONS, seconds, cpuSeconds: () => server.cpuSeconds() });
}

/** Customer creates (and points adjustments, once the points endpoint exists) with 10 concurrent clients. */
export async function runWriteBenchmarks(options: WriteBenchOptions): Promise<Figure[]> {
  const { pair, organizationId, seconds, warmup } = options;
  const path = `/organizations/${organizationId}/customers`;
  const ours = await measure(pair.ours, pair.token, path, seconds, warmup);
  const base = await measure(pair.base, undefined, path, seconds, warmup);
  for (const [name, result] of [['customers-api', ours], ['baseline', base]] as const) {
    if (result.failures > 0) options.notes.push(`${name} creates: ${result.failures} failed of ${result.total}.`);
  }
  const figures: Figure[] = [
    {
      section: 'Writes (SQLite, 10 concurrent clients)',
      name: 'create a customer',
      ours: ours.rps,
      base: base.rps,
      unit: 'creates/s',
      detail: `p50 ${ours.p50} ms / p99 ${ours.p99} ms (baseline ${base.p50} / ${base.p99} ms); each create is one transaction advancing the organization clock`,
      target: { kind: 'info' },
    },
  ];
  figures.push({
    section: 'Writes (SQLite, 10 concurrent clients)',
    name: 'points adjustment',
    ours: undefined,
    base: undefined,
    unit: 'adjustments/s',
    detail: '',
    target: { kind: 'info' },
    pending: 'pending: the points endpoint lands with the lists/points branch',
  });
  return figures;
}
