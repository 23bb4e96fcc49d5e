import { customerIdsOf, rowsPerCreatedCustomer, type Dataset } from '../data.js';
import { runLoad, type LoadResult } from '../load.js';
import type { ServerProcess } from '../processes.js';
import type { Figure } from '../report.js';

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

function createBodies(lastNamePrefix: string) {
  let n = 0;
  return () => {
    n++;
    return JSON.stringify({
      firstName: 'Bench',
      lastName: `${lastNamePrefix} ${n}`,
      email: `bench.writer.${process.pid}.${Date.now()}.${n}@example.com`,
      phoneNumber: `+6141${String(n % 10_000_000).padStart(7, '0')}`,
      hasAgreedToMarketing: n % 2 === 0,
    });
  };
}

async function measure(
  server: ServerProcess,
  token: string | undefined,
  method: 'POST' | 'PUT',
  next: () => { path: string; body: string },
  seconds: number,
  warmup: number,
): Promise<LoadResult> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await runLoad({ url: server.url, method, next, headers, connections: WRITE_CONNECTIONS, seconds: warmup });
  return runLoad({
    url: server.url,
    method,
    next,
    headers,
    connections: WRITE_CONNECTIONS,
    seconds,
    cpuSeconds: () => server.cpuSeconds(),
  });
}

/** Earn adjustments of 1..100 points under fresh references, spread over the given customers. */
function pointAdjustments(organizationId: string, customerIds: string[], tag: string) {
  let n = 0;
  return () => {
    n++;
    const customerId = customerIds[Math.floor(Math.random() * customerIds.length)]!;
    return {
      path: `/organizations/${organizationId}/customers/${customerId}/points/bench-${tag}-${n}`,
      body: JSON.stringify({ amount: 1 + (n % 100) }),
    };
  };
}

/** Completed payments of 1.00..100.00 under fresh ids, each for one of the given customers, with one item. */
function payments(organizationId: string, customerIds: string[], tag: string) {
  let n = 0;
  return () => {
    n++;
    const customerId = customerIds[Math.floor(Math.random() * customerIds.length)]!;
    const amount = 100 * (1 + (n % 100));
    return {
      path: `/organizations/${organizationId}/payments/bench-${tag}-${n}`,
      body: JSON.stringify({
        billingType: 'order/pickup',
        chargedAmount: amount,
        customerId,
        items: [{ id: 'COF01', name: 'Flat white', amount, quantity: 1 }],
      }),
    };
  };
}

/** Customer creates, points adjustments and payments with 10 concurrent clients. */
export async function runWriteBenchmarks(options: WriteBenchOptions): Promise<Figure[]> {
  const { pair, organizationId, seconds, warmup } = options;
  const path = `/organizations/${organizationId}/customers`;
  const tag = `${process.pid}-${Date.now()}`;
  const oursPrefix = `Writer ${tag}-o`;
  const basePrefix = `Writer ${tag}-b`;
  const oursBodies = createBodies(oursPrefix);
  const baseBodies = createBodies(basePrefix);
  const ours = await measure(pair.ours, pair.token, 'POST', () => ({ path, body: oursBodies() }), seconds, warmup);
  const base = await measure(pair.base, undefined, 'POST', () => ({ path, body: baseBodies() }), seconds, warmup);
  for (const [name, result] of [
    ['customers-api', ours],
    ['baseline', base],
  ] as const) {
    if (result.failures > 0) options.notes.push(`${name} creates: ${result.failures} failed of ${result.total}.`);
  }
  // The ratio measures our overhead only while the baseline writes the same rows per create.
  const oursRows = await rowsPerCreatedCustomer(options.dataset.databaseUrl, organizationId, oursPrefix);
  const baseRows = await rowsPerCreatedCustomer(options.dataset.databaseUrl, organizationId, basePrefix);
  for (const key of ['search', 'terms', 'suffixes', 'events'] as const) {
    if (Math.abs(oursRows[key] - baseRows[key]) > 1e-9)
      options.notes.push(
        `creates: rows per customer differ (${key}: ours ${oursRows[key].toFixed(2)}, baseline ${baseRows[key].toFixed(2)}).`,
      );
  }
  const figures: Figure[] = [
    {
      section: 'Writes (SQLite, 10 concurrent clients)',
      name: 'create a customer',
      ours: ours.rps,
      base: base.rps,
      cpu:
        ours.cpuMicros === undefined || base.cpuMicros === undefined
          ? undefined
          : { ours: ours.cpuMicros, base: base.cpuMicros, unit: 'µs/request' },
      unit: 'creates/s',
      detail: `p50 ${ours.p50} ms / p99 ${ours.p99} ms (baseline ${base.p50} / ${base.p99} ms); one transaction each, both writing the same rows (checked after the run: ${oursRows.search} search row, ${oursRows.terms.toFixed(1)} terms, ${oursRows.suffixes.toFixed(1)} phone suffixes and ${oursRows.events} event a customer for ours, ${baseRows.search} / ${baseRows.terms.toFixed(1)} / ${baseRows.suffixes.toFixed(1)} / ${baseRows.events} for the baseline) and advancing the organization clock`,
      target: { kind: 'info' },
    },
  ];
  const customerIds = await customerIdsOf(options.dataset.databaseUrl, organizationId, 10_000);
  const oursPoints = await measure(
    pair.ours,
    pair.token,
    'PUT',
    pointAdjustments(organizationId, customerIds, `${tag}-o`),
    seconds,
    warmup,
  );
  const basePoints = await measure(
    pair.base,
    undefined,
    'PUT',
    pointAdjustments(organizationId, customerIds, `${tag}-b`),
    seconds,
    warmup,
  );
  for (const [name, result] of [
    ['customers-api', oursPoints],
    ['baseline', basePoints],
  ] as const) {
    if (result.failures > 0)
      options.notes.push(`${name} points adjustments: ${result.failures} failed of ${result.total}.`);
  }
  figures.push({
    section: 'Writes (SQLite, 10 concurrent clients)',
    name: 'points adjustment',
    ours: oursPoints.rps,
    base: basePoints.rps,
    cpu:
      oursPoints.cpuMicros === undefined || basePoints.cpuMicros === undefined
        ? undefined
        : { ours: oursPoints.cpuMicros, base: basePoints.cpuMicros, unit: 'µs/request' },
    unit: 'adjustments/s',
    detail: `p50 ${oursPoints.p50} ms / p99 ${oursPoints.p99} ms (baseline ${basePoints.p50} / ${basePoints.p99} ms); over ${customerIds.length.toLocaleString('en')} customers; ledger entry + statistics + change-feed event in one transaction`,
    target: { kind: 'info' },
  });
  const oursPayments = await measure(
    pair.ours,
    pair.token,
    'PUT',
    payments(organizationId, customerIds, `${tag}-o`),
    seconds,
    warmup,
  );
  const basePayments = await measure(
    pair.base,
    undefined,
    'PUT',
    payments(organizationId, customerIds, `${tag}-b`),
    seconds,
    warmup,
  );
  for (const [name, result] of [
    ['customers-api', oursPayments],
    ['baseline', basePayments],
  ] as const) {
    if (result.failures > 0) options.notes.push(`${name} payments: ${result.failures} failed of ${result.total}.`);
  }
  figures.push({
    section: 'Writes (SQLite, 10 concurrent clients)',
    name: 'record a payment',
    ours: oursPayments.rps,
    base: basePayments.rps,
    cpu:
      oursPayments.cpuMicros === undefined || basePayments.cpuMicros === undefined
        ? undefined
        : { ours: oursPayments.cpuMicros, base: basePayments.cpuMicros, unit: 'µs/request' },
    unit: 'payments/s',
    detail: `p50 ${oursPayments.p50} ms / p99 ${oursPayments.p99} ms (baseline ${basePayments.p50} / ${basePayments.p99} ms); payment + item + payment.completed + statistics + customer.updated-statistics in one transaction; both add to the statistics incrementally`,
    target: { kind: 'info' },
  });
  return figures;
}
