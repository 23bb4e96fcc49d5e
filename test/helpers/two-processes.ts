import { afterAll, beforeAll, expect } from 'vitest';
import { parseDatabaseUrl } from '../../src/config.js';
import { createServices, type Services } from '../../src/services.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import type { TestDatabase } from './backends.js';
import { startServerProcess, type ServerProcess } from './processes.js';

export interface TwoServerProcesses {
  database: TestDatabase;
  /** Two `customers-api serve` processes on the same database, started (and migrating) at once. */
  a: ServerProcess;
  b: ServerProcess;
  /** The test's own direct connection and services, for setup and for checking what is stored. */
  store: Store;
  services: Services;
}

/**
 * Registers, in the enclosing describe, a beforeAll that starts two server processes on a fresh database with
 * `env(database)` and an afterAll that stops them, expecting both to drain and exit cleanly on SIGTERM. The
 * returned object is filled in by the beforeAll.
 */
export function useTwoServerProcesses(
  createDatabase: () => Promise<TestDatabase>,
  env: (database: TestDatabase) => Record<string, string>,
): TwoServerProcesses {
  const context = {} as TwoServerProcesses;
  beforeAll(async () => {
    context.database = await createDatabase();
    const serverEnv = { ...env(context.database), TOKEN_CACHE_TTL_MS: '1000' };
    [context.a, context.b] = await Promise.all([startServerProcess(serverEnv), startServerProcess(serverEnv)]);
    context.store = await openStore(parseDatabaseUrl(context.database.url), { poolSize: 2 });
    context.services = createServices(context.store, { defaultPhoneRegion: 'AU', tokenCacheTtlMs: 0 });
  }, 120_000);

  afterAll(async () => {
    const results = await Promise.all([context.a?.stop(), context.b?.stop()]);
    await context.store?.close();
    await context.database?.drop();
    for (const result of results) if (result) expect(result, result.stderr).toMatchObject({ code: 0 });
  });
  return context;
}
