import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import type * as AppModule from '../../src/app.js';
import type * as ConfigModule from '../../src/config.js';
import type * as DemoModule from '../../src/demo/demo-data.js';
import type * as ConsoleModule from '../../src/http/plugins/console.js';
import type * as ServicesModule from '../../src/services.js';
import type * as StoreModule from '../../src/store/open-store.js';

// The server as `npm run build` made it (dist/): src/app.ts reads ../package.json beside itself (bench/jwt-vs-static.ts).
const dist = (module: string) => new URL(`../../../../dist/${module}`, import.meta.url).href;
const { buildApp } = (await import(dist('app.js'))) as typeof AppModule;
const { loadConfig } = (await import(dist('config.js'))) as typeof ConfigModule;
const { seedDemo } = (await import(dist('demo/demo-data.js'))) as typeof DemoModule;
const { CONSOLE_DIST } = (await import(dist('http/plugins/console.js'))) as typeof ConsoleModule;
const { createServices } = (await import(dist('services.js'))) as typeof ServicesModule;
const { migrateToLatest, openStore, storeOptions } = (await import(dist('store/open-store.js'))) as typeof StoreModule;

/**
 * The console (issue 17): its bundle size (gzip -9 of the built JavaScript and CSS; target < 250 KB) and the time
 * from opening the customers screen in chromium to its first rows, at a large organization on SQLite (target < 1 s).
 * The time is the median of several cold loads in the same run; `api` is the same run's bare first-page request
 * (limit=100), the floor the page cannot beat.
 */
export async function runConsoleBenchmark({
  customers,
  loads = 5,
  log = console.log,
}: {
  customers: number;
  loads?: number;
  log?: (line: string) => void;
}) {
  const assets = path.join(CONSOLE_DIST, 'assets');
  const sizes = { js: 0, css: 0 };
  for (const name of fs.readdirSync(assets)) {
    const gz = gzipSync(fs.readFileSync(path.join(assets, name)), { level: 9 }).length;
    if (name.endsWith('.js')) sizes.js += gz;
    if (name.endsWith('.css')) sizes.css += gz;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-bench-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: `sqlite:${path.join(dir, 'bench.db')}`,
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const store = await openStore(config.database, storeOptions(config));
  await migrateToLatest(store);
  const services = createServices(store, config);
  log(`seeding ${customers.toLocaleString('en')} demo customers`);
  const demo = await seedDemo(services, { customers });
  const app = await buildApp({ config, services, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  try {
    const firstRows: number[] = [];
    const api: number[] = [];
    for (let i = 0; i < loads; i++) {
      const started = performance.now();
      const response = await fetch(`${base}/organizations/${demo.organization.id}/customers?limit=100`, {
        headers: { authorization: `Bearer ${demo.readToken}` },
      });
      await response.text();
      api.push(performance.now() - started);

      // A fresh context each time: nothing cached, the session already in the tab as after a sign-in.
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addInitScript(
        (token: string) =>
          sessionStorage.setItem('customers-console.session', JSON.stringify({ token, source: 'pasted' })),
        demo.readToken,
      );
      const page = await context.newPage();
      await page.goto(`${base}/console/customers`);
      await page.locator('table.data-table tbody tr:not(.spacer)').first().waitFor();
      firstRows.push(await page.evaluate(() => performance.now()));
      await context.close();
    }
    const result = {
      customers,
      bundleGzipKB: { js: +(sizes.js / 1024).toFixed(1), css: +(sizes.css / 1024).toFixed(1) },
      firstRowsMs: Math.round(median(firstRows)),
      apiFirstPageMs: Math.round(median(api)),
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    await browser.close();
    await app.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// `npx tsc -p bench/tsconfig.json && node bench/.build/bench/scenarios/console.js [customers]`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runConsoleBenchmark({ customers: Number(process.argv[2] ?? 100_000) });
}
