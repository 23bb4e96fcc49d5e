import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/config.js';

export type BackendName = 'sqlite' | 'postgres';

export interface TestDatabase {
  target: DatabaseTarget;
  /** Where the test itself connects: the database directly. */
  url: string;
  /** What a server on this database is configured with: DATABASE_URL and what goes with it (the pooler setting). */
  serverEnv: Record<string, string>;
  drop(): Promise<void>;
}

export interface Backend {
  name: BackendName;
  /** Shown in suite titles: `postgres`, or `postgres via PgBouncer` when servers connect through it. */
  label: string;
  /** A fresh, empty database for one test context, and a way to remove it. */
  createDatabase(): Promise<TestDatabase>;
}

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** PgBouncer in transaction mode in front of 127.0.0.1:5432, started by test/helpers/scale-infra.sh. */
export const PGBOUNCER_PORT = 6432;
/** The streaming replica of 127.0.0.1:5432, started by test/helpers/scale-infra.sh. */
export const REPLICA_PORT = 5433;

/** The same database through another server or pooler of the local cluster. */
export function urlOnPort(url: string, port: number): string {
  const moved = new URL(url);
  moved.port = String(port);
  return moved.toString();
}

/**
 * TEST_POSTGRES_POOLER=transaction runs the PostgreSQL half of the suites with every server connecting through
 * PgBouncer in transaction mode (DATABASE_POOLER=transaction); the tests' own connections stay direct.
 */
const POOLED = process.env.TEST_POSTGRES_POOLER === 'transaction';

async function canReach(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function canReachInfra(port: number): Promise<boolean> {
  return canReach(`postgres://postgres@127.0.0.1:${port}/postgres`);
}

const sqliteBackend: Backend = {
  name: 'sqlite',
  label: 'sqlite',
  async createDatabase() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-api-test-'));
    const file = path.join(dir, 'test.db');
    return {
      target: { kind: 'sqlite', path: file },
      url: `sqlite:${file}`,
      serverEnv: { DATABASE_URL: `sqlite:${file}` },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function postgresBackend(adminUrl: string, pooled: boolean): Backend {
  return {
    name: 'postgres',
    label: pooled ? 'postgres via PgBouncer' : 'postgres',
    async createDatabase() {
      const name = `cust_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const serverEnv: Record<string, string> = pooled
        ? { DATABASE_URL: urlOnPort(url.toString(), PGBOUNCER_PORT), DATABASE_POOLER: 'transaction' }
        : { DATABASE_URL: url.toString() };
      return {
        target: { kind: 'postgres', url: url.toString() },
        url: url.toString(),
        serverEnv,
        async drop() {
          const c = new pg.Client({ connectionString: adminUrl });
          await c.connect();
          try {
            await c.query(`drop database if exists ${name} with (force)`);
          } finally {
            await c.end();
          }
        },
      };
    },
  };
}

let resolved: Promise<Backend[]> | undefined;

/**
 * The backends the integration suite runs on: SQLite always; PostgreSQL when
 * TEST_POSTGRES_URL is set or a server answers on 127.0.0.1:5432. In CI
 * (CI=true) PostgreSQL is required and its absence fails the run.
 */
export function availableBackends(): Promise<Backend[]> {
  resolved ??= (async () => {
    const url = process.env.TEST_POSTGRES_URL ?? DEFAULT_PG_URL;
    if (POOLED) {
      if (!(await canReachInfra(PGBOUNCER_PORT))) {
        throw new Error(
          `TEST_POSTGRES_POOLER=transaction but no PgBouncer on ${PGBOUNCER_PORT}: run test/helpers/scale-infra.sh start`,
        );
      }
      // This pass is for PostgreSQL behind the pooler; SQLite ran in the main pass.
      return [postgresBackend(url, true)];
    }
    if (await canReach(url)) return [sqliteBackend, postgresBackend(url, false)];
    if (process.env.CI === 'true') {
      throw new Error(`CI=true but PostgreSQL is not reachable at ${url}; the PostgreSQL tests must not skip in CI`);
    }
    console.warn(
      `\n[customers-api tests] PostgreSQL not reachable at ${url}: PostgreSQL tests are SKIPPED. Set TEST_POSTGRES_URL to run them.\n`,
    );
    return [sqliteBackend];
  })();
  return resolved;
}

export const BACKEND_NAMES: BackendName[] = ['sqlite', 'postgres'];

/**
 * Runs a suite once per backend. A backend that is not available shows up as
 * a skipped suite, so its absence is visible in the report.
 */
export async function describeEachBackend(title: string, suite: (backend: Backend) => void): Promise<void> {
  const { describe } = await import('vitest');
  const backends = await availableBackends();
  for (const name of BACKEND_NAMES) {
    const backend = backends.find((b) => b.name === name);
    if (backend) describe(`${title} [${backend.label}]`, () => suite(backend));
    else if (POOLED) describe.skip(`${title} [${name}: runs in the main pass, not the PgBouncer one]`, () => undefined);
    else describe.skip(`${title} [${name}: not reachable, skipped]`, () => undefined);
  }
}
