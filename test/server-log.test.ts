import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config.js';
import { createServices } from '../src/services.js';
import { migrateToLatest, openStore } from '../src/store/open-store.js';
import { describeEachBackend, type TestDatabase } from './helpers/backends.js';
import { startServerProcess, type ServerProcess } from './helpers/processes.js';

/**
 * `serve` logs through an asynchronous, buffered destination (src/http/logger.ts): a request line may reach stdout
 * a little after its response, but none is lost when the server stops, and none waits long for more traffic.
 */
interface LogLine {
  msg?: string;
  method?: string;
  url?: string;
  status?: number;
}

function requestLines(stdout: string, url: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.msg === 'request' && line.url === url);
}

await describeEachBackend('server request log (buffered stdout)', (backend) => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;
  let path: string;
  let token: string;

  beforeAll(async () => {
    database = await backend.createDatabase();
    const store = await openStore(parseDatabaseUrl(database.url), { poolSize: 1 });
    try {
      await migrateToLatest(store);
      const services = createServices(store, { defaultPhoneRegion: 'AU', tokenCacheTtlMs: 0 });
      const org = (await services.organizations.createOrganization({ name: 'Logged' })).id;
      token = (await services.tokens.createToken({ organizationIds: [org], scopes: ['customers:read'] })).token;
      const customer = await services.customers.createCustomer(org, { firstName: 'Ada', lastName: 'Lovelace' });
      path = `/organizations/${org}/customers/${customer.id}`;
    } finally {
      await store.close();
    }
  }, 60_000);

  // Each test stops its server; this covers one that failed before it could.
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  const get = async (base: string) => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  };

  it('writes a quiet moment’s lines within a fraction of a second, without more traffic', async () => {
    server = await startServerProcess({ ...database.serverEnv, LOG_LEVEL: 'info' });
    for (let i = 0; i < 3; i++) await get(server.baseUrl);
    const deadline = Date.now() + 3000;
    while (requestLines(server.stdout, path).length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(requestLines(server.stdout, path)).toHaveLength(3);
    const result = await server.stop();
    expect(result.code).toBe(0);
  }, 60_000);

  it('flushes every buffered line when stopped by SIGTERM right after a burst', async () => {
    server = await startServerProcess({ ...database.serverEnv, LOG_LEVEL: 'info' });
    const requests = 200;
    for (let i = 0; i < requests; i += 20) await Promise.all(Array.from({ length: 20 }, () => get(server!.baseUrl)));
    const result = await server.stop();
    expect(result.code).toBe(0);
    const lines = requestLines(result.stdout, path);
    expect(lines).toHaveLength(requests);
    expect(lines.every((line) => line.method === 'GET' && line.status === 200)).toBe(true);
  }, 60_000);
});
