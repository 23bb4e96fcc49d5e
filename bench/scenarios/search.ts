import { cpuOf, cpuPair, cpuText, paired, pick, type BenchContext, type Pair } from '../context.js';
import type { Dataset, Samples } from '../data.js';
import type { LoadResult } from '../load.js';
import type { Figure } from '../report.js';

export interface SearchRun {
  figures: Figure[];
  /** `ours:email`, `base:phoneNumber`, ...: the raw results, for the scaling figures. */
  results: Record<string, LoadResult>;
}

/** Email and phone search (the seed's exact searches) against the baseline's same index lookup. */
export async function runSearchBenchmarks(
  context: BenchContext,
  dataset: Dataset,
  pair: Pair,
  samples: Samples,
  label: string,
): Promise<SearchRun> {
  const org = dataset.organizationId;
  const out: Record<string, LoadResult> = {};
  const figures: Figure[] = [];
  for (const kind of ['email', 'phoneNumber'] as const) {
    context.log(`[${label}] search by ${kind}`);
    const values = kind === 'email' ? samples.emails : samples.phones;
    const next = () => ({ path: `/organizations/${org}/customers?${kind}=${encodeURIComponent(pick(values))}` });
    const result = await paired(context, pair, next, next, context.settings.readConnections);
    out[`ours:${kind}`] = result.ours;
    out[`base:${kind}`] = result.base;
    figures.push({
      section: 'Search (SQLite)',
      name: `search by ${kind === 'email' ? 'email' : 'phone'}, ${dataset.customers.toLocaleString('en')} customers`,
      ours: result.ours.rps,
      base: result.base.rps,
      cpu: cpuPair(result.ours, result.base, 'µs/request'),
      unit: 'req/s',
      detail: `p50 ${result.ours.p50} ms / p99 ${result.ours.p99} ms; server CPU ${cpuText(result.ours)} vs ${cpuText(result.base)} µs/request`,
      target: { kind: 'ratio', min: 0.9 },
    });
  }
  return { figures, results: out };
}

/** Search at N customers against search at the small dataset: an index lookup should not slow with size. */
export function searchScalingFigures(big: SearchRun, small: SearchRun, n: number, smallN: number): Figure[] {
  const figures: Figure[] = [];
  for (const kind of ['email', 'phoneNumber'] as const) {
    figures.push({
      section: 'Search (SQLite)',
      name: `search by ${kind === 'email' ? 'email' : 'phone'}: ${n.toLocaleString('en')} vs ${smallN.toLocaleString('en')} customers (ours)`,
      ours: big.results[`ours:${kind}`]!.rps,
      base: small.results[`ours:${kind}`]!.rps,
      cpu: cpuOf(big.results[`ours:${kind}`]!.cpuMicros, small.results[`ours:${kind}`]!.cpuMicros, 'µs/request'),
      unit: 'req/s',
      detail: `ratio = at ${n.toLocaleString('en')} / at ${smallN.toLocaleString('en')}; baseline ${Math.round(big.results[`base:${kind}`]!.rps)} vs ${Math.round(small.results[`base:${kind}`]!.rps)}`,
      target: { kind: 'ratio', min: 0.9 },
    });
  }
  return figures;
}
