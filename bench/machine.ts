import fs from 'node:fs';
import os from 'node:os';
import BetterSqlite3 from 'better-sqlite3';

/**
 * A fixed piece of work timed in this process: JSON.stringify + JSON.parse of a
 * customer-shaped object. It says how fast a core of this machine is right now,
 * so figures from different runs (and machines) can be put side by side.
 */
export function calibrate(): number {
  const customer = {
    createdAt: '2021-10-20T14:51:16Z',
    email: 'ann.lee@example.com',
    firstName: 'Ann',
    id: '01J9ZQ3V6V6X3Q2F5K8M1N4P7R',
    lastName: 'Lee',
    phoneNumber: '+61400123456',
    statistics: { pointsBalance: 120, totalPointsEarned: 300, totalPointsRedeemed: 180, totalSpend: 45_000 },
    updatedAt: '2021-10-21T09:00:00Z',
  };
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20_000; i++) JSON.parse(JSON.stringify(customer));
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 20_000 / 1000);
  }
  return best;
}

/** The share of the last 5 minutes some task waited for a CPU (Linux PSI), when the kernel reports it. */
export function readCpuPressure(): string {
  try {
    const match = /^some .*avg300=([\d.]+)/m.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? `${match[1]}%` : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export function sqliteVersion(): string {
  const db = new BetterSqlite3(':memory:');
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}
