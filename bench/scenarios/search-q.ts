// Partial search (q) and a 3-filter query through the customer service, in process (no HTTP), against a same-run
// baseline running the very same SQL as one bare statement compiled up front (no validation, folding, mapping or
// cursor): the ratio is the cost our layers add to the index lookup. At the small size and at N, on SQLite and
// PostgreSQL, on datasets of their own (cached under bench/.data, and PostgreSQL databases search_q_bench_<N>).
import fs from 'node:fs';
import path from 'node:path';
import { CompiledQuery } from 'kysely';
import { parseDatabaseUrl } from '../../src/config.js';
import { createCustomerService } from '../../src/domain/customers/customer-service.js';
import { parseCustomerFilters, parseTextSearch } from '../../src/domain/customers/customer-input.js';
import { newId } from '../../src/domain/ids.js';
import { insertCustomers, type NewCustomerRow } from '../../src/store/repositories/customer-repository.js';
import { customerQueryPage, type CustomerQuery } from '../../src/store/repositories/customer-query-repository.js';
import { migrateToLatest, openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { insertOrganizationDirectly } from '../../test/helpers/bulk.js';
import { backendLabel, type BenchContext } from '../context.js';
import { benchPostgresName, DATA_DIR, pgAdmin } from '../data.js';
import type { Figure } from '../report.js';

const ORG = '01JBENCHORG000000000000000';
// Bump when rows() changes, so cached datasets are generated again.
const GENERATOR = 1;
const FIRST = ['José', 'Zoë', 'Ann', 'Bob', 'Mei', 'Olu', 'Priya', 'Lars', 'Aroha', 'Chen'];
const LAST = ['Smith', 'Nguyen', 'García', 'Müller', 'Rossi', 'Kowalski', 'Tanaka', "O'Neil", 'Dubois', 'Silva'];
const CASES = ['q by name fragment', 'q by email fragment', 'q by phone fragment', '3-filter query'] as const;
type CaseName = (typeof CASES)[number];

function rows(from: number, to: number): NewCustomerRow[] {
  return Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    const at = Date.UTC(2023, 0, 1) + i * 60_000;
    const email = `${FIRST[i % 10]!.toLowerCase()}.${i}@mail${i % 97}.example`;
    return {
      organization_id: ORG,
      id: newId(at),
      first_name: FIRST[i % 10]!,
      last_name: `${LAST[(i * 7) % 10]!}${i}`,
      email,
      email_normalized: email.toLowerCase(),
      phone_number: `+614${String(10_000_000 + ((i * 7919) % 89_000_000))}`,
      dob: null,
      gender: ['MALE', 'FEMALE', 'OTHER'][i % 3]!,
      has_agreed_to_marketing: i % 2,
      created_at: at,
      updated_at: at,
      points_balance: (i * 53) % 3000,
      total_points_earned: 0,
      total_points_redeemed: 0,
      total_spend: (i * 977) % 100_000,
      last_points_earned_at: null,
      last_points_redeemed_at: null,
      last_spent_at: null,
      metadata: null,
    };
  });
}

interface Case {
  q?: string;
  filters?: Record<string, string>;
}

/** Input `i` of a case over `n` customers: a fragment of customer (i * 7919) % n, so inputs spread over the data. */
function caseInput(name: CaseName, n: number, i: number): Case {
  const c = (i * 7919) % n;
  const national = `04${String(10_000_000 + ((c * 7919) % 89_000_000))}`;
  switch (name) {
    case 'q by name fragment':
      return { q: `${LAST[(c * 7) % 10]!.slice(-3)}${c}` };
    case 'q by email fragment':
      return { q: `.${c}@mail` };
    case 'q by phone fragment':
      return { q: `${national.slice(0, 4)} ${national.slice(4, 8)}` };
    case '3-filter query':
      return {
        filters: {
          hasAgreedToMarketing: 'true',
          pointsBalanceMin: '2500',
          gender: ['MALE', 'FEMALE', 'OTHER'][i % 3]!,
        },
      };
  }
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Timing {
  p50: number;
  p99: number;
  cpuUs: number;
}

/**
 * Both sides over every input once (so both find the same pages cached), then round by round, alternating which
 * goes first: the same inputs on the same machine, noise shared.
 */
async function measurePair(
  rounds: number,
  ours: (i: number) => Promise<unknown>,
  base: (i: number) => Promise<unknown>,
): Promise<{ ours: Timing; base: Timing }> {
  for (let i = 0; i < rounds; i++) {
    await ours(i);
    await base(i);
  }
  const times = { ours: [] as number[], base: [] as number[] };
  const cpu = { ours: 0, base: 0 };
  const once = async (side: 'ours' | 'base', i: number) => {
    const usage = process.cpuUsage();
    const started = process.hrtime.bigint();
    await (side === 'ours' ? ours(i) : base(i));
    times[side].push(Number(process.hrtime.bigint() - started) / 1e6);
    const used = process.cpuUsage(usage);
    cpu[side] += used.user + used.system;
  };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? (['ours', 'base'] as const) : (['base', 'ours'] as const);
    for (const side of order) await once(side, i);
  }
  const timing = (side: 'ours' | 'base'): Timing => {
    const sorted = times[side].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), cpuUs: cpu[side] / rounds };
  };
  return { ours: timing('ours'), base: timing('base') };
}

async function countCustomers(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('organization_id', '=', ORG)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The dataset of `n` customers on the backend, generated once and reused while its size and generator match. */
async function openDataset(
  context: BenchContext,
  backend: 'sqlite' | 'postgres',
  n: number,
): Promise<{ store: Store; reused: boolean }> {
  let url: string;
  if (backend === 'sqlite') {
    const dir = path.join(DATA_DIR, `search-q-v${GENERATOR}-${n}`);
    fs.mkdirSync(dir, { recursive: true });
    url = `sqlite:${path.join(dir, 'bench.db')}`;
  } else {
    const name = benchPostgresName(`search_q_bench_v${GENERATOR}_${n}`);
    await pgAdmin(async (client) => {
      const exists = (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
      if (!exists) await client.query(`create database ${name}`);
    });
    url = `postgres://postgres@127.0.0.1:5432/${name}`;
  }
  const store = await openStore(parseDatabaseUrl(url));
  await migrateToLatest(store);
  const count = await countCustomers(store);
  if (count === n) return { store, reused: true };
  context.log(`[search q] generating ${n.toLocaleString('en')} customers on ${backend}`);
  await store.db.deleteFrom('customer_search').where('organization_id', '=', ORG).execute();
  await store.db.deleteFrom('customers').where('organization_id', '=', ORG).execute();
  await store.db.deleteFrom('organizations').where('id', '=', ORG).execute();
  await insertOrganizationDirectly(store, ORG, 'Bench');
  for (let i = 0; i < n; i += 5000) {
    const batch = rows(i, Math.min(n, i + 5000));
    await store.db.transaction().execute((trx) => insertCustomers(trx, batch));
  }
  await store.db.executeQuery(CompiledQuery.raw(store.kind === 'postgres' ? 'vacuum analyze' : 'analyze'));
  return { store, reused: false };
}

type CaseTimings = Record<CaseName, { ours: Timing; base: Timing }>;

async function measureSize(context: BenchContext, store: Store, n: number, rounds: number): Promise<CaseTimings> {
  const service = createCustomerService(store, { defaultPhoneRegion: 'AU' });
  const out = {} as CaseTimings;
  for (const name of CASES) {
    // The baseline: the same statement per input, compiled up front, executed bare.
    const statements = Array.from({ length: rounds }, (_, i) => {
      const k = caseInput(name, n, i);
      const query: CustomerQuery = {
        organizationId: ORG,
        search: k.q === undefined ? undefined : parseTextSearch(k.q, 'AU'),
        filters: parseCustomerFilters(k.filters ?? {}),
        order: k.q === undefined ? 'created_at' : 'relevance',
        after: undefined,
        limit: 101,
      };
      return customerQueryPage(store, query).compile();
    });
    out[name] = await measurePair(
      rounds,
      (i) => {
        const k = caseInput(name, n, i);
        return service.listCustomers(ORG, { q: k.q, filters: k.filters, limit: 100 });
      },
      (i) => store.db.executeQuery(statements[i]!),
    );
    const t = out[name];
    context.log(
      `[search q] ${store.kind} ${n} | ${name} | ours p50 ${t.ours.p50.toFixed(2)} ms p99 ${t.ours.p99.toFixed(2)} ms cpu ${t.ours.cpuUs.toFixed(0)} µs` +
        ` | base p50 ${t.base.p50.toFixed(2)} ms p99 ${t.base.p99.toFixed(2)} ms cpu ${t.base.cpuUs.toFixed(0)} µs`,
    );
  }
  return out;
}

/** The q search figures: each size against the baseline, N against the small size, and SQLite's p50 bound at N. */
export async function runSearchQBenchmarks(context: BenchContext, postgres: boolean): Promise<Figure[]> {
  const { small, customers: big, quick } = context.settings;
  const rounds = quick ? 150 : 400;
  const figures: Figure[] = [];
  for (const backend of postgres ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    const section = `Partial search q and filters (${backendLabel(backend)}, in process, pages of 100)`;
    const timings = new Map<number, CaseTimings>();
    for (const n of [small, big]) {
      const { store, reused } = await openDataset(context, backend, n);
      try {
        context.log(`[search q] ${backend} ${n.toLocaleString('en')} customers${reused ? ' (cached dataset)' : ''}`);
        timings.set(n, await measureSize(context, store, n, rounds));
      } finally {
        await store.close();
      }
    }
    for (const n of [small, big]) {
      for (const name of CASES) {
        const t = timings.get(n)![name];
        figures.push({
          section,
          name: `${name}, ${n.toLocaleString('en')} customers: p50, ours vs bare statement`,
          ours: t.ours.p50,
          base: t.base.p50,
          unit: 'ms',
          cpu: { ours: t.ours.cpuUs, base: t.base.cpuUs, unit: 'µs/request' },
          detail: `p99 ${t.ours.p99.toFixed(2)} vs ${t.base.p99.toFixed(2)} ms; ratio = our time / the baseline's: at most 1.25 is at least 0.8× its speed`,
          target: { kind: 'ratioMax', max: 1.25 },
        });
      }
    }
    for (const name of CASES) {
      const at = timings.get(big)![name];
      const smallAt = timings.get(small)![name];
      figures.push({
        section,
        name: `${name}: ${big.toLocaleString('en')} vs ${small.toLocaleString('en')} customers (p50, ours)`,
        ours: at.ours.p50,
        base: smallAt.ours.p50,
        unit: 'ms',
        cpu: { ours: at.ours.cpuUs, base: smallAt.ours.cpuUs, unit: 'µs/request' },
        detail: `baseline ${at.base.p50.toFixed(2)} vs ${smallAt.base.p50.toFixed(2)} ms`,
        target: { kind: 'ratioMax', max: 2 },
      });
      if (backend === 'sqlite') {
        figures.push({
          section,
          name: `${name}, ${big.toLocaleString('en')} customers: p50 (ours)`,
          ours: at.ours.p50,
          base: undefined,
          unit: 'ms',
          detail: `p99 ${at.ours.p99.toFixed(2)} ms; CPU ${at.ours.cpuUs.toFixed(0)} µs/request`,
          target: { kind: 'max', max: 5 },
        });
      }
    }
  }
  return figures;
}
