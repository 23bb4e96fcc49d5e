// A customer write (PATCH through the service, in process) in an organization with 20 segments defined against the
// same write with none, same run, same data: the cost of re-evaluating every segment in the write's transaction.
// Usage: node bench/.build/bench/segments-write.js [customers] [rounds]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseDatabaseUrl } from '../src/config.js';
import type { SegmentFilter } from '../src/contract/customer-lists.js';
import { createServices } from '../src/services.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { insertCustomersDirectly, insertOrganizationDirectly } from '../test/helpers/bulk.js';

const N = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 600);
const SEGMENTS = 20;

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

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function bench(label: string, store: Store, mode: 'churn' | 'stable') {
  const services = createServices(store, { defaultPhoneRegion: 'AU', tokenCacheTtlMs: 1000 });
  const organization = async (id: string) => {
    await insertOrganizationDirectly(store, id);
    return (await insertCustomersDirectly(store, id, N)).map((row) => row.id);
  };
  const plainOrg = `01JBENCHPLAIN${mode.toUpperCase().padEnd(13, '0')}`;
  const segmentedOrg = `01JBENCHSEGMENTED${mode.toUpperCase().padEnd(9, '0')}`;
  const plain = await organization(plainOrg);
  const segmented = await organization(segmentedOrg);
  const manual = await services.customerLists.createCustomerList(segmentedOrg, { name: 'Manual' });
  for (const [i, filter] of filters(manual.id).entries()) {
    await services.customerLists.createCustomerList(segmentedOrg, { name: `S${i}`, filter });
  }
  await services.segmentBuilds.idle();

  // Each round: one PATCH in each organization, alternating which goes first, so both see the same machine.
  // `churn`: name, marketing and tier change, so most writes move the customer in or out of several segments (more
  // membership rows and events: work a write with no segment does not do). `stable`: only dob changes, which no
  // segment looks at: the cost of evaluating 20 segments alone.
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
  const once = async (kind: 'none' | 'twenty', i: number) => {
    const started = process.hrtime.bigint();
    const usage = process.cpuUsage();
    await write(kind === 'none' ? plainOrg : segmentedOrg, kind === 'none' ? plain : segmented, i);
    const used = process.cpuUsage(usage);
    if (i >= 50) {
      times[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
      cpu[kind] += used.user + used.system;
    }
  };
  for (let i = 0; i < ROUNDS + 50; i++) {
    if (i % 2 === 0) {
      await once('none', i);
      await once('twenty', i);
    } else {
      await once('twenty', i);
      await once('none', i);
    }
  }
  const line = (kind: 'none' | 'twenty') => {
    const sorted = times[kind].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), cpuUs: cpu[kind] / ROUNDS };
  };
  const none = line('none');
  const twenty = line('twenty');
  console.log(
    `${label} ${N} | PATCH customer (${mode}) | ${SEGMENTS} segments p50 ${twenty.p50.toFixed(2)} ms p99 ${twenty.p99.toFixed(2)} ms cpu ${twenty.cpuUs.toFixed(0)} µs` +
      ` | none p50 ${none.p50.toFixed(2)} ms p99 ${none.p99.toFixed(2)} ms cpu ${none.cpuUs.toFixed(0)} µs` +
      ` | ratio p50 ${(twenty.p50 / none.p50).toFixed(2)}x, cpu ${(twenty.cpuUs / none.cpuUs).toFixed(2)}x (target <= 1.3x)`,
  );
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'segments-bench-'));
const sqlite = await openStore(parseDatabaseUrl(`sqlite:${path.join(dir, 'bench.db')}`));
await migrateToLatest(sqlite);
await bench('sqlite', sqlite, 'stable');
await bench('sqlite', sqlite, 'churn');
await sqlite.close();
fs.rmSync(dir, { recursive: true, force: true });

if (!process.argv.includes('--no-postgres')) {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const name = `segments_bench_${process.pid}`;
  await admin.query(`create database ${name}`);
  try {
    const store = await openStore(parseDatabaseUrl(`postgres://postgres@127.0.0.1:5432/${name}`));
    await migrateToLatest(store);
    await bench('postgres', store, 'stable');
    await bench('postgres', store, 'churn');
    await store.close();
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
