import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/config.js';

export type BackendName = 'sqlite' | 'postgres';

export interface Backend {
  name: BackendName;
  /** A fresh, empty database for one test context, and a way to remove it. */
  createDatabase(): Promise<{ target: DatabaseTarget; url: string; drop(): Promise<void> }>;
}

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

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

const sqliteBackend: Backend = {
  name: 'sqlite',
  async createDatabase() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-api-test-'));
    const file = path.join(dir, 'test.db');
    return {
      target: { kind: 'sqlite', path: file },
      url: `sqlite:${file}`,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function postgresBackend(adminUrl: string): Backend {
  return {
    name: 'postgres',
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
      return {
        target: { kind: 'postgres', url: url.toString() },
        url: url.toString(),
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
    if (await canReach(url)) return [sqliteBackend, postgresBackend(url)];
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
    if (backend) describe(`${title} [${name}]`, () => suite(backend));
    else describe.skip(`${title} [${name}: not reachable, skipped]`, () => undefined);
  }
}
