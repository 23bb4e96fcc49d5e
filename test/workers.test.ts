import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config.js';
import { createServices } from '../src/services.js';
import { openStore } from '../src/store/open-store.js';
import { describeEachBackend, type Backend } from './helpers/backends.js';
import { startServerProcess, type ServerProcess } from './helpers/processes.js';

/** Pids of the live child processes of `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state, ppid, ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') children.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return children.sort((x, y) => x - y);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

await describeEachBackend('serve --workers: several processes share the port', (backend: Backend) => {
  let database: Awaited<ReturnType<Backend['createDatabase']>>;
  let server: ServerProcess;
  let orgId: string;
  let token: string;

  beforeAll(async () => {
    database = await backend.createDatabase();
    if (backend.name === 'sqlite') {
      // The primary seeds demo data into the empty embedded database before forking, and prints the tokens.
      server = await startServerProcess({ DATABASE_URL: database.url }, ['--workers', '2', '--json']);
      const demo = JSON.parse(server.stdout.split('\n').find((line) => line.includes('readToken'))!) as {
        organization: { id: string };
        readToken: string;
      };
      orgId = demo.organization.id;
      token = demo.readToken;
    } else {
      server = await startServerProcess({ DATABASE_URL: database.url, WORKERS: '2', DATABASE_POOL_SIZE: '3' });
      const store = await openStore(parseDatabaseUrl(database.url), { poolSize: 1 });
      try {
        const services = createServices(store, { defaultPhoneRegion: 'AU', tokenCacheTtlMs: 0 });
        orgId = (await services.organizations.createOrganization({ name: 'Workers' })).id;
        token = (
          await services.tokens.createToken({ organizationIds: [orgId], scopes: ['customers:read', 'customers:write'] })
        ).token;
        await services.customers.createCustomer(orgId, { firstName: 'Grace', lastName: 'Hopper' });
      } finally {
        await store.close();
      }
    }
  }, 60_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    await database?.drop();
  });

  // A fresh connection per request: a kept-alive socket to the worker the test kills would fail the next request.
  const listCustomers = () =>
    new Promise<{ status: number; body: unknown[] }>((resolve, reject) => {
      const request = http.get(
        `${server.baseUrl}/organizations/${orgId}/customers?limit=5`,
        { agent: false, headers: { authorization: `Bearer ${token}` } },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown[] }));
        },
      );
      request.on('error', reject);
    });

  const scrape = () =>
    new Promise<string>((resolve, reject) => {
      http
        .get(`${server.baseUrl}/metrics`, { agent: false }, (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(text))));
        })
        .on('error', reject);
    });
  const listed = (text: string) =>
    text
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('http_requests_total{') && line.includes('route="/organizations/:organizationId/customers"'),
      )
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);

  it('answers /metrics on any worker with the figures of the whole cluster', async () => {
    await waitFor(() => (childPids(server.child.pid!).length === 2 ? true : undefined), 'two workers');
    const before = listed(await scrape());
    // Fresh connections: the cluster hands them to the workers in turn, so both serve some of these.
    const responses = await Promise.all(Array.from({ length: 20 }, () => listCustomers()));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    // Several scrapes land on both workers; each reports all 20 requests, not the share of the worker that answered.
    for (let i = 0; i < 4; i++) {
      const text = await scrape();
      expect(listed(text)).toBe(before + 20);
      expect(text).toMatch(/^db_pool_connections\{state="total"\} [1-9]/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    }
  });

  it('runs two workers that answer, replaces one that dies, and drains all on SIGTERM', async () => {
    const primary = server.child.pid!;
    const workers = await waitFor(() => {
      const pids = childPids(primary);
      return pids.length === 2 ? pids : undefined;
    }, 'two workers');

    const responses = await Promise.all(Array.from({ length: 20 }, () => listCustomers()));
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.body.length).toBeGreaterThan(0);
    }

    // A crashed worker is replaced; the port keeps answering meanwhile.
    process.kill(workers[0]!, 'SIGKILL');
    const replaced = await waitFor(() => {
      const pids = childPids(primary);
      return pids.length === 2 && !pids.includes(workers[0]!) ? pids : undefined;
    }, 'a replacement worker');
    expect(replaced).toContain(workers[1]);
    const afterCrash = await Promise.all(Array.from({ length: 10 }, () => listCustomers()));
    expect(afterCrash.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));

    const result = await server.stop();
    expect(result, result.stderr).toMatchObject({ code: 0, signal: null });
    for (const pid of replaced) expect(isAlive(pid)).toBe(false);
  });
});

describe('WORKERS validation', () => {
  it('rejects a bad worker count before starting anything', async () => {
    const { runCli } = await import('./helpers/processes.js');
    const result = await runCli(['serve', '--workers', 'zero'], { DATABASE_URL: 'sqlite::memory:' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: WORKERS must be an integer, got "zero"');
  });
});
