// A customer write (PATCH through the service, in process) in an organization with 20 segments defined against the
// same write in an organization with none, same run, same data: the cost of keeping 20 segments exact in the write's
// transaction. On a fresh SQLite file and a fresh PostgreSQL database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDatabaseUrl } from '../../src/config.js';
import type { SegmentFilter } from '../../src/contract/customer-lists.js';
import { createServices } from '../../src/services.js';
import { migrateToLatest, openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { insertCustomersDirectly, insertOrganizationDirectly } from '../../test/helpers/bulk.js';
import { backendLabel, type BenchContext } from '../context.js';
import { benchPostgresName, pgAdmin } from '../data.js';
import type { Figure } from '../report.js';

const SEGMENTS = 20;
const CUSTOMERS = 10_000;
const CUSTOMER_SLICE = 1_000;
type Mode = 'stable' | 'churn';

/** 20 realistic rules: marketing, points and spend bounds, gender, name fragments, metadata, times, a list. */
function filters(listId: string): SegmentFilter[] {
  const out: SegmentFilter[] = [];
  for (let i = 0; out.length < SEGMENTS; i++) {
    const rules: SegmentFilter[] = [
      { hasAgreedToMarketing: true, pointsBalanceMin: 100 * i },
      { totalSpendMin: 1000 * i, gender: i % 2 === 0 ? 'FEMALE' : 'MALE' },
      { q: `bulk${i + 1}` },
      { 'metadata.tier': `tier${i}` },
      { createdAfter: '2020-06-01T00:00:00Z', listId },
      { q: 'customer', hasAgreedToMarketing: false },
    ];
    out.push(rules[i % rules.length]!);
  }
  return out;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface SideFigures {
  p50: number;
  p99: number;
  cpuUs: number;
  /** Share of the writes the OS took the CPU from at least once (involuntary context switches). */
  preempted: number;
}

export interface SegmentWriteResult {
  mode: Mode;
  twenty: SideFigures;
  none: SideFigures;
}

async function measure(store: Store, mode: Mode, rounds: number): Promise<SegmentWriteResult> {
  const services = createServices(store, { defaultPhoneRegion: 'AU', tokenCacheTtlMs: 1000 });
  const plainOrg = `01JBENCHPLAIN${mode.toUpperCase().padEnd(13, '0')}`;
  const segmentedOrg = `01JBENCHSEGMENTED${mode.toUpperCase().padEnd(9, '0')}`;
  const plain: string[] = [];
  const segmented: string[] = [];
  await insertOrganizationDirectly(store, plainOrg);
  await insertOrganizationDirectly(store, segmentedOrg);
  // The same customers in both, inserted a slice at a time alternately: with all of one organization's rows
  // written before the other's, writes to the organization created second cost ~7% more CPU with no segment
  // defined anywhere (SQLite: its search-term insert 0.75 vs 0.61 ms at p50), a bias against whichever is second.
  for (let from = 0, slice = 0; from < CUSTOMERS; from += CUSTOMER_SLICE, slice++) {
    const order = slice % 2 === 0 ? ([plainOrg, segmentedOrg] as const) : ([segmentedOrg, plainOrg] as const);
    for (const org of order) {
      const rows = await insertCustomersDirectly(store, org, Math.min(CUSTOMER_SLICE, CUSTOMERS - from), { from });
      (org === plainOrg ? plain : segmented).push(...rows.map((row) => row.id));
    }
  }
  const manual = await services.customerLists.createCustomerList(segmentedOrg, { name: 'Manual' });
  for (const [i, filter] of filters(manual.id).entries()) {
    await services.customerLists.createCustomerList(segmentedOrg, { name: `S${i}`, filter });
  }
  await services.segmentBuilds.idle();

  // Each round: one PATCH in each organization, alternating which goes first, so both see the same machine.
  // `churn`: name, marketing and tier change, so most writes move the customer in or out of several segments (more
  // membership rows and events: work a write with no segment does not do). `stable`: only dob changes, which no
  // segment looks at: the cost of having 20 segments alone.
  const write = (org: string, ids: string[], i: number) =>
    services.customers.updateCustomer(
      org,
      ids[(i * 7919) % ids.length]!,
      mode === 'churn'
        ? {
            firstName: `Bulk${i % 3 === 0 ? 'x' : i}`,
            hasAgreedToMarketing: i % 2 === 0,
            metadata: { tier: `tier${i % 20}` },
          }
        : { dob: `19${String(50 + (i % 50))}-0${1 + (i % 9)}-1${i % 10}` },
    );
  const times = { none: [] as number[], twenty: [] as number[] };
  const cpu = { none: 0, twenty: 0 };
  // On a loaded machine a write that loses the CPU midway waits for a whole time slice of someone else: p50 then
  // tells which side more often lost it more than what either costs, so each figure says how often that happened.
  const preempted = { none: 0, twenty: 0 };
  const warmup = 50;
  const once = async (kind: 'none' | 'twenty', i: number) => {
    const switches = process.resourceUsage().involuntaryContextSwitches;
    const started = process.hrtime.bigint();
    const usage = process.cpuUsage();
    await write(kind === 'none' ? plainOrg : segmentedOrg, kind === 'none' ? plain : segmented, i);
    const used = process.cpuUsage(usage);
    if (i >= warmup) {
      times[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
      cpu[kind] += used.user + used.system;
      if (process.resourceUsage().involuntaryContextSwitches > switches) preempted[kind]++;
    }
  };
  for (let i = 0; i < rounds + warmup; i++) {
    const order = i % 2 === 0 ? (['none', 'twenty'] as const) : (['twenty', 'none'] as const);
    for (const kind of order) await once(kind, i);
  }
  const line = (kind: 'none' | 'twenty') => {
    const sorted = times[kind].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      cpuUs: cpu[kind] / rounds,
      preempted: preempted[kind] / rounds,
    };
  };
  return { mode, twenty: line('twenty'), none: line('none') };
}

/** A fresh store at `databaseUrl`, migrated, handed to `run` and closed after it. */
async function withMigratedStore(databaseUrl: string, run: (store: Store) => Promise<void>): Promise<void> {
  const store = await openStore(parseDatabaseUrl(databaseUrl));
  await migrateToLatest(store);
  try {
    await run(store);
  } finally {
    await store.close();
  }
}

async function onBackend(backend: 'sqlite' | 'postgres', run: (store: Store) => Promise<void>): Promise<void> {
  if (backend === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'segments-bench-'));
    try {
      await withMigratedStore(`sqlite:${path.join(dir, 'bench.db')}`, run);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const name = benchPostgresName(`segments_bench_${process.pid}`);
  await pgAdmin((client) => client.query(`create database ${name}`));
  try {
    await withMigratedStore(`postgres://postgres@127.0.0.1:5432/${name}`, run);
  } finally {
    await pgAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
  }
}

/** The write with 20 segments against the write with none (target: at most 1.3× in p50 and in CPU per write). */
export async function runSegmentWriteBenchmarks(context: BenchContext, postgres: boolean): Promise<Figure[]> {
  const rounds = context.settings.quick ? 150 : 400;
  const figures: Figure[] = [];
  for (const backend of postgres ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    await onBackend(backend, async (store) => {
      for (const mode of ['stable', 'churn'] as const) {
        context.log(`[segments] ${backend} PATCH (${mode}), ${SEGMENTS} segments vs none`);
        const r = await measure(store, mode, rounds);
        context.log(
          `[segments] ${backend} ${mode}: 20 segments p50 ${r.twenty.p50.toFixed(2)} ms cpu ${r.twenty.cpuUs.toFixed(0)} µs` +
            ` | none p50 ${r.none.p50.toFixed(2)} ms cpu ${r.none.cpuUs.toFixed(0)} µs` +
            ` | preempted ${percent(r.twenty.preempted)} vs ${percent(r.none.preempted)}`,
        );
        figures.push({
          section: `Segments: a write with ${SEGMENTS} segments (${backendLabel(backend)}, in process)`,
          name:
            mode === 'stable'
              ? `PATCH dob (no segment reads it), ${SEGMENTS} segments vs none: p50`
              : `PATCH name, marketing, metadata (moves members), ${SEGMENTS} segments vs none: p50`,
          ours: r.twenty.p50,
          base: r.none.p50,
          unit: 'ms',
          cpu: { ours: r.twenty.cpuUs, base: r.none.cpuUs, unit: 'µs/write' },
          detail: `p99 ${r.twenty.p99.toFixed(2)} vs ${r.none.p99.toFixed(2)} ms; preempted midway ${percent(r.twenty.preempted)} vs ${percent(r.none.preempted)} of writes; ${CUSTOMERS.toLocaleString('en')} customers per organization, ${rounds} writes each, alternating`,
          target: { kind: 'ratioMax', max: 1.3 },
        });
      }
    });
  }
  return figures;
}
