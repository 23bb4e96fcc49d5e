/**
 * get-a-customer with an OAuth JWT access token vs with a static token, in the same run and the same process,
 * alternating rounds so machine load hits both alike. Run: `npm run build && tsc -p bench/tsconfig.json &&
 * node bench/.build/bench/jwt-vs-static.js [seconds]`.
 */
import type * as AppModule from '../src/app.js';
import type * as ConfigModule from '../src/config.js';
import type * as ServicesModule from '../src/services.js';
import type * as StoreModule from '../src/store/open-store.js';
import { runLoad } from './load.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The server as `npm run build` made it (dist/), not bench/.build's copy of src/: src/app.ts reads ../package.json
// beside itself, which only dist/ has; and one copy of the modules keeps the error classes one.
const dist = (module: string) => new URL(`../../../dist/${module}`, import.meta.url).href;
const { buildApp } = (await import(dist('app.js'))) as typeof AppModule;
const { loadConfig } = (await import(dist('config.js'))) as typeof ConfigModule;
const { createServices } = (await import(dist('services.js'))) as typeof ServicesModule;
const { migrateToLatest, openStore, storeOptions } = (await import(dist('store/open-store.js'))) as typeof StoreModule;

async function main() {
  const seconds = Number(process.argv[2] ?? '3');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-jwt-'));
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: `sqlite:${dir}/bench.db` });
  const store = await openStore(config.database, storeOptions(config));
  await migrateToLatest(store);
  const services = createServices(store, config);
  const app = await buildApp({ config, services });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const org = await services.organizations.createOrganization({ name: 'Bench' });
  const staticToken = (
    await services.tokens.createToken({ organizationIds: [org.id], scopes: ['customers:read', 'customers:write'] })
  ).token;
  const created = await fetch(`${base}/organizations/${org.id}/customers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staticToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ firstName: 'Bench', lastName: 'Customer', email: 'bench@example.com' }),
  });
  const customer = (await created.json()) as { id: string };
  const client = await services.oauth.clients.createClient({
    name: 'Bench',
    organizationIds: [org.id],
    scopes: ['customers:read'],
    redirectUris: [],
    public: false,
  });
  const response = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.id}:${client.clientSecret!}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const jwt = ((await response.json()) as { access_token: string }).access_token;
  const pathOf = `/organizations/${org.id}/customers/${customer.id}`;
  const results: Record<string, { rps: number[]; p99: number[]; cpu: number[] }> = {
    static: { rps: [], p99: [], cpu: [] },
    jwt: { rps: [], p99: [], cpu: [] },
  };
  for (let round = 0; round < 5; round++) {
    for (const [kind, token] of [
      ['static', staticToken],
      ['jwt', jwt],
    ] as const) {
      const cpuBefore = process.cpuUsage();
      const result = await runLoad({
        url: base,
        next: () => ({ path: pathOf }),
        headers: { authorization: `Bearer ${token}` },
        connections: 10,
        seconds,
      });
      if (result.failures > 0) throw new Error(`${kind}: ${result.failures} failed requests`);
      results[kind]!.rps.push(Math.round(result.rps));
      results[kind]!.p99.push(result.p99);
      // One process serves and loads, so this is server plus load generator: the same generator work for both kinds.
      const cpu = process.cpuUsage(cpuBefore);
      results[kind]!.cpu.push(Math.round((cpu.user + cpu.system) / (result.rps * result.seconds)));
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const [kind, r] of Object.entries(results))
    console.log(
      `${kind.padEnd(6)} get-a-customer: median ${median(r.rps)} req/s (rounds ${r.rps.join(', ')}), p99 ${median(r.p99)} ms, ` +
        `process CPU median ${median(r.cpu)} µs/request (rounds ${r.cpu.join(', ')})`,
    );
  const ratio = (key: 'rps' | 'cpu') => (median(results.jwt![key]) / median(results.static![key])).toFixed(2);
  console.log(`jwt / static: ${ratio('rps')}× req/s, ${ratio('cpu')}× CPU per request`);
  await app.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
