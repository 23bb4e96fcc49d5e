import { isDeepStrictEqual } from 'node:util';
import { encodeCursor, fingerprint } from '../../src/domain/paging.js';
import {
  backendLabel,
  cpuOf,
  cpuPair,
  cpuText,
  getJson,
  paired,
  pick,
  type BenchContext,
  type Pair,
} from '../context.js';
import { keyAtOffset, type Dataset, type Samples } from '../data.js';
import { fetchAll, type SyncResult } from '../load.js';
import type { ServerProcess } from '../processes.js';
import type { Figure } from '../report.js';
import { syncWithSdk } from '../sync.js';

/** Issue 16's targets: ratios to the same-run baseline (rss: at most), sync in customers/s. */
const TARGETS = {
  sqlite: { get: 0.9, page: 1.5, rss: 1.3, sync: 150_000 },
  postgres: { get: 0.8, page: 1.0, rss: 1.5, sync: 120_000 },
} as const;

/** Both servers must answer the same requests with the same JSON, or the comparison means nothing. */
export async function checkSameAnswers(pair: Pair, org: string, samples: Samples) {
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

/** Get a customer, pages of 1000 (both sorts, page 1 and 90% deep), full sync: the parts `--only` asks for. */
export async function runReadBenchmarks(
  context: BenchContext,
  dataset: Dataset,
  pair: Pair,
  samples: Samples,
  label: string,
): Promise<Figure[]> {
  const { wants } = context;
  // `--only postgres` alone means all of PostgreSQL's read figures.
  const all = dataset.backend === 'postgres' && !wants('get') && !wants('list') && !wants('sync');
  const figures: Figure[] = [];
  if (all || wants('get')) figures.push(...(await benchGet(context, dataset, pair, samples, label)));
  if (all || wants('list')) figures.push(...(await benchList(context, dataset, pair, label)));
  if (all || wants('sync')) figures.push(...(await benchSync(context, dataset, pair, label)));
  return figures;
}

async function benchGet(
  context: BenchContext,
  dataset: Dataset,
  pair: Pair,
  samples: Samples,
  label: string,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const org = dataset.organizationId;
  const backend = backendLabel(dataset.backend);
  context.log(`[${label}] get a customer`);
  const get = await paired(
    context,
    pair,
    () => ({ path: `/organizations/${org}/customers/${pick(samples.ids)}` }),
    () => ({ path: `/organizations/${org}/customers/${pick(samples.ids)}` }),
    context.settings.readConnections,
  );
  figures.push({
    section: `Reads (${backend}, ${dataset.customers.toLocaleString('en')} customers)`,
    name: 'get a customer (random id)',
    ours: get.ours.rps,
    base: get.base.rps,
    cpu: cpuPair(get.ours, get.base, 'µs/request'),
    unit: 'req/s',
    detail: `p50 ${get.ours.p50} ms / p99 ${get.ours.p99} ms (baseline ${get.base.p50} / ${get.base.p99} ms); server CPU ${cpuText(get.ours)} vs ${cpuText(get.base)} µs/request`,
    target: { kind: 'ratio', min: TARGETS[dataset.backend].get },
  });
  return figures;
}

async function benchList(context: BenchContext, dataset: Dataset, pair: Pair, label: string): Promise<Figure[]> {
  const figures: Figure[] = [];
  const org = dataset.organizationId;
  const backend = backendLabel(dataset.backend);
  let ourPeak = 0;
  let sampling: NodeJS.Timeout | undefined;
  for (const sort of ['created', 'updated'] as const) {
    const deep = await deepCursors(dataset, pair, sort);
    const firstPage: Record<string, number> = {};
    const firstPageCpu: Record<string, number | undefined> = {};
    for (const depth of ['page 1', 'deep (90%)'] as const) {
      context.log(`[${label}] list sort=${sort} ${depth}`);
      const suffix = depth === 'page 1' ? '' : `&after=`;
      sampling ??= setInterval(() => (ourPeak = Math.max(ourPeak, pair.ours.rss())), 100);
      const list = await paired(
        context,
        pair,
        () => ({ path: `/organizations/${org}/customers?sort=${sort}${suffix}${depth === 'page 1' ? '' : deep.ours}` }),
        () => ({ path: `/organizations/${org}/customers?sort=${sort}${suffix}${depth === 'page 1' ? '' : deep.base}` }),
        context.settings.listConnections,
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
        detail: `${Math.round(list.ours.rps * context.settings.page).toLocaleString('en')} customers/s (baseline ${Math.round(list.base.rps * context.settings.page).toLocaleString('en')}); p50 ${list.ours.p50} ms / p99 ${list.ours.p99} ms; ${(list.ours.bytesPerSec / 1e6).toFixed(0)} MB/s; server CPU ${cpuText(list.ours)} vs ${cpuText(list.base)} µs/page`,
        target: { kind: 'ratio', min: TARGETS[dataset.backend].page },
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
    target: { kind: 'ratioMax', max: TARGETS[dataset.backend].rss },
  });
  return figures;
}

async function benchSync(context: BenchContext, dataset: Dataset, pair: Pair, label: string): Promise<Figure[]> {
  const figures: Figure[] = [];
  const org = dataset.organizationId;
  const backend = backendLabel(dataset.backend);
  context.log(`[${label}] full sync`);
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
    target: { kind: 'absolute', min: TARGETS[dataset.backend].sync },
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
    target: { kind: 'absolute', min: TARGETS[dataset.backend].sync },
  });
  return figures;
}
