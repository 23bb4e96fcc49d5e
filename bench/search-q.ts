// Partial search (q) and a 3-filter query through the service, against a same-run baseline running the very same
// SQL as one bare prepared statement (no validation, folding, mapping or cursor). In process, no HTTP, so the ratio
// is the cost our layers add to the index lookup. Usage: node bench/.build/bench/search-q.js [customers]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { parseDatabaseUrl } from '../src/config.js';
import { createCustomerService } from '../src/domain/customers/customer-service.js';
import { parseCustomerFilters, parseTextSearch } from '../src/domain/customers/customer-input.js';
import { newId } from '../src/domain/ids.js';
import { insertCustomers, type NewCustomerRow } from '../src/store/repositories/customer-repository.js';
import { customerQueryPage, type CustomerQuery } from '../src/store/repositories/customer-query-repository.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { insertOrganizationDirectly } from '../test/helpers/bulk.js';

const N = Number(process.argv[2] ?? 10_000);
const ROUNDS = 400;
const ORG = '01JBENCHORG000000000000000';
const FIRST = ['José', 'Zoë', 'Ann', 'Bob', 'Mei', 'Olu', 'Priya', 'Lars', 'Aroha', 'Chen'];
const LAST = ['Smith', 'Nguyen', 'García', 'Müller', 'Rossi', 'Kowalski', 'Tanaka', "O'Neil", 'Dubois', 'Silva'];

function rows(): NewCustomerRow[] {
  return Array.from({ length: N }, (_, i) => {
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
  name: string;
  q?: string;
  filters?: Record<string, string>;
}

function cases(i: number): Case[] {
  const n = (i * 7919) % N;
  const national = `0${String(10_000_000 + ((n * 7919) % 89_000_000))
    .padStart(8, '0')
    .replace(/^/, '4')}`;
  return [
    { name: 'q by name fragment', q: `${LAST[(n * 7) % 10]!.slice(-3)}${n}` },
    { name: 'q by email fragment', q: `.${n}@mail` },
    { name: 'q by phone fragment', q: `${national.slice(0, 4)} ${national.slice(4, 8)}` },
    {
      name: '3-filter query',
      filters: { hasAgreedToMarketing: 'true', pointsBalanceMin: '2500', gender: ['MALE', 'FEMALE', 'OTHER'][i % 3]! },
    },
  ];
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(run: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 30; i++) await run(i);
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) {
    const started = process.hrtime.bigint();
    await run(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const used = process.cpuUsage(cpu);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), cpuUs: (used.user + used.system) / ROUNDS };
}

async function bench(label: string, store: Store) {
  await insertOrganizationDirectly(store, ORG, 'Bench');
  const all = rows();
  for (let i = 0; i < all.length; i += 5000) {
    await store.db.transaction().execute((trx) => insertCustomers(trx, all.slice(i, i + 5000)));
  }
  await store.db.executeQuery(CompiledQuery.raw(store.kind === 'postgres' ? 'vacuum analyze' : 'analyze'));
  const service = createCustomerService(store, { defaultPhoneRegion: 'AU' });
  for (let c = 0; c < 4; c++) {
    const name = cases(0)[c]!.name;
    const ours = await measure((i) => {
      const k = cases(i)[c]!;
      return service.listCustomers(ORG, { q: k.q, filters: k.filters, limit: 100 });
    });
    // The baseline: the same statement, compiled once per input up front, executed bare.
    const statements = Array.from({ length: ROUNDS + 30 }, (_, i) => {
      const k = cases(i)[c]!;
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
    const base = await measure((i) => store.db.executeQuery(statements[i % statements.length]!));
    console.log(
      `${label} ${N} | ${name} | ours p50 ${ours.p50.toFixed(2)} ms p99 ${ours.p99.toFixed(2)} ms cpu ${ours.cpuUs.toFixed(0)} µs/req` +
        ` | base p50 ${base.p50.toFixed(2)} ms p99 ${base.p99.toFixed(2)} ms cpu ${base.cpuUs.toFixed(0)} µs/req` +
        ` | ours/base p50 ${(base.p50 / ours.p50).toFixed(2)}x`,
    );
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'search-bench-'));
const sqlite = await openStore(parseDatabaseUrl(`sqlite:${path.join(dir, 'bench.db')}`));
await migrateToLatest(sqlite);
await bench('sqlite', sqlite);
await sqlite.close();
fs.rmSync(dir, { recursive: true, force: true });

const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
const name = `search_bench_${process.pid}`;
await admin.query(`create database ${name}`);
try {
  const store = await openStore(parseDatabaseUrl(`postgres://postgres@127.0.0.1:5432/${name}`));
  await migrateToLatest(store);
  await bench('postgres', store);
  await store.close();
} finally {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
