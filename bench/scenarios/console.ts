import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { backendLabel, type BenchContext } from '../context.js';
import type { Dataset } from '../data.js';
import { freePort, startOurServer, type ServerProcess } from '../processes.js';
import type { Figure } from '../report.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/helpers/chromium.js';

const CONSOLE_DIST = path.resolve('console/dist');
/** The customers screen's page size (console/src/screens/customers.tsx), so the floor asks for what the screen asks. */
const CONSOLE_PAGE_SIZE = 100;
/** A customer row of the customers screen's table (the virtual table's spacer rows are not). */
const FIRST_ROW = 'table.data-table tbody tr:not(.spacer)';

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** gzip -9 sizes of the console's assets: the main bundle (the script index.html loads), its CSS, and everything. */
export function consoleBundleSizes(): { mainJs: number; css: number; allJs: number; files: number } {
  const html = fs.readFileSync(path.join(CONSOLE_DIST, 'index.html'), 'utf8');
  const main = /<script[^>]+src="[^"]*\/assets\/([^"]+\.js)"/.exec(html)?.[1];
  if (!main) throw new Error(`console/dist/index.html loads no script from assets/ (build the console first)`);
  const assets = path.join(CONSOLE_DIST, 'assets');
  const sizes = { mainJs: 0, css: 0, allJs: 0, files: 0 };
  for (const name of fs.readdirSync(assets)) {
    const gz = gzipSync(fs.readFileSync(path.join(assets, name)), { level: 9 }).length;
    sizes.files++;
    if (name === main) sizes.mainJs = gz;
    if (name.endsWith('.js')) sizes.allJs += gz;
    if (name.endsWith('.css')) sizes.css += gz;
  }
  return sizes;
}

interface ConsoleLoad {
  /** ms from navigation start to the first customer row in the table. */
  firstRowsMs: number;
  /** Server CPU over the load, ms. */
  cpuMs: number;
  /** The API requests the page made before its first rows: path and ms from request start to response end. */
  requests: { path: string; ms: number }[];
  /** Where the time went, in the page's clock (ms from navigation start). */
  phases: LoadPhases;
}

interface LoadPhases {
  /** index.html in. */
  document: number;
  /** DOMContentLoaded over: the (deferred, module) bundle fetched and run. */
  scriptRun: number;
  /** The first API request sent (the app asking for the token's organizations). */
  firstApiStart: number;
  /** The last API response before the first rows ended. */
  lastApiEnd: number;
  /** The first row in the DOM (rendered; the next frame paints it). */
  rowInDom: number;
}

/**
 * One cold load of the customers screen: a fresh browser context (no cache, no cookies), the session already in the
 * tab as after a sign-in; the time from navigation start to the first row of the table, in the page's own clock.
 */
async function loadCustomersScreen(
  browser: Browser,
  server: ServerProcess,
  token: string,
  organizationId: string,
): Promise<ConsoleLoad> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    await context.addInitScript(
      ({ token, organizationId, row }: { token: string; organizationId: string; row: string }) => {
        sessionStorage.setItem(
          'customers-console.session',
          JSON.stringify({ token, source: 'pasted', organizationId }),
        );
        // The first row is timed in the page, as it happens: when it enters the DOM and the frame that paints it
        // (not when the harness hears of it, which adds a DevTools round trip or two on a loaded machine).
        const observer = new MutationObserver(() => {
          if (!document.querySelector(row)) return;
          observer.disconnect();
          const inDom = performance.now();
          requestAnimationFrame(() => {
            (globalThis as { firstRow?: unknown }).firstRow = { inDom, frame: performance.now() };
          });
        });
        observer.observe(document, { childList: true, subtree: true });
      },
      { token, organizationId, row: FIRST_ROW },
    );
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('requestfailed', (request) => failures.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      if (response.status() >= 400) failures.push(`${response.url()}: ${response.status()}`);
    });
    const requests: { path: string; ms: number }[] = [];
    page.on('requestfinished', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/console')) return;
      const timing = request.timing();
      requests.push({ path: `${url.pathname}${url.search}`, ms: timing.responseEnd });
    });
    const cpuBefore = server.cpuSeconds();
    await page.goto(`${server.url}/console/customers`);
    await page.waitForFunction(() => (globalThis as { firstRow?: unknown }).firstRow !== undefined, undefined, {
      timeout: 30_000,
    });
    const { firstRowsMs, phases } = await page.evaluate(() => {
      const firstRow = (globalThis as unknown as { firstRow: { inDom: number; frame: number } }).firstRow;
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const api = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
        (entry) => !new URL(entry.name).pathname.startsWith('/console'),
      );
      return {
        firstRowsMs: firstRow.frame,
        phases: {
          rowInDom: firstRow.inDom,
          document: navigation.responseEnd,
          scriptRun: navigation.domContentLoadedEventEnd,
          firstApiStart: Math.min(...api.map((entry) => entry.startTime)),
          lastApiEnd: Math.max(...api.map((entry) => entry.responseEnd)),
        },
      };
    });
    const cpuMs = (server.cpuSeconds() - cpuBefore) * 1000;
    if (failures.length) throw new Error(`the console's customers screen had failed requests: ${failures.join('; ')}`);
    return { firstRowsMs, cpuMs, requests, phases };
  } finally {
    await context.close();
  }
}

/** The floor: the bare API request for the first page the screen asks for, from the harness, ms and server CPU ms. */
async function firstPageRequest(server: ServerProcess, token: string, organizationId: string) {
  const cpuBefore = server.cpuSeconds();
  const started = performance.now();
  const response = await fetch(`${server.url}/organizations/${organizationId}/customers?limit=${CONSOLE_PAGE_SIZE}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const items = (await response.json()) as unknown[];
  const ms = performance.now() - started;
  if (!response.ok || items.length !== CONSOLE_PAGE_SIZE)
    throw new Error(`first page answered ${response.status} with ${items.length} customers`);
  return { ms, cpuMs: (server.cpuSeconds() - cpuBefore) * 1000 };
}

export interface ConsoleTarget {
  dataset: Dataset;
  token: string;
}

/**
 * The console (issue 17): the main bundle's size (gzip -9; target < 250 KB) and, per backend, the time from opening
 * the customers screen in chromium to its first rows at the run's size (target < 1 s): the median of several cold
 * loads (a fresh browser context each) against `node ./bin/customers-api serve` on the bench dataset, next to the same
 * run's floor, the bare API request for the screen's first page (GET .../customers?limit=100), alternating.
 */
export async function runConsoleBenchmarks(context: BenchContext, targets: ConsoleTarget[]): Promise<Figure[]> {
  const { log, settings } = context;
  const sizes = consoleBundleSizes();
  const figures: Figure[] = [
    {
      section: 'Console',
      name: 'main bundle (gzip -9)',
      ours: sizes.mainJs / 1024,
      base: undefined,
      unit: 'KB',
      detail: `the script console/dist/index.html loads; its CSS ${(sizes.css / 1024).toFixed(1)} KB, all JavaScript ${(sizes.allJs / 1024).toFixed(1)} KB (${sizes.files} asset files)`,
      target: { kind: 'max', max: 250 },
    },
  ];
  const loads = settings.quick ? 3 : 7;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  try {
    for (const { dataset, token } of targets) {
      const label = `${backendLabel(dataset.backend)}, ${dataset.customers.toLocaleString('en')} customers`;
      log(`[console] customers screen, ${loads} cold loads (${label})`);
      const server = await startOurServer({ databaseUrl: dataset.databaseUrl, port: await freePort() });
      try {
        const screen: ConsoleLoad[] = [];
        const floor: { ms: number; cpuMs: number }[] = [];
        // The first load meets a server that has just started (cold statement caches, cold pages): it counts, as an
        // operator's first visit would, and alternating with the floor gives both the same share of it.
        for (let i = 0; i < loads; i++) {
          if (i % 2 === 0) {
            screen.push(await loadCustomersScreen(browser, server, token, dataset.organizationId));
            floor.push(await firstPageRequest(server, token, dataset.organizationId));
          } else {
            floor.push(await firstPageRequest(server, token, dataset.organizationId));
            screen.push(await loadCustomersScreen(browser, server, token, dataset.organizationId));
          }
        }
        const firstRows = screen.map((l) => l.firstRowsMs);
        const phase = (key: keyof LoadPhases) => median(screen.map((l) => l.phases[key])).toFixed(0);
        const slowest = screen.reduce((a, b) => (a.firstRowsMs >= b.firstRowsMs ? a : b));
        const requests = slowest.requests.map(
          (r) => `${r.path.replace(dataset.organizationId, '{org}')} ${r.ms.toFixed(0)} ms`,
        );
        figures.push({
          section: 'Console',
          name: `customers screen: first rows, cold load (${label})`,
          ours: median(firstRows),
          base: median(floor.map((f) => f.ms)),
          unit: 'ms',
          cpu: {
            ours: median(screen.map((l) => l.cpuMs)),
            base: median(floor.map((f) => f.cpuMs)),
            unit: 'server CPU ms',
          },
          detail:
            `median of ${loads} cold loads in chromium (a fresh context each, 1280x800), from navigation start to the frame that paints the first table row (timed in the page): ` +
            `${firstRows.map((ms) => ms.toFixed(0)).join(', ')} ms; baseline = the bare first-page request GET .../customers?limit=${CONSOLE_PAGE_SIZE} ` +
            `from the harness (${floor.map((f) => f.ms.toFixed(0)).join(', ')} ms); medians of the loads' phases, ms from navigation start: ` +
            `index.html in ${phase('document')}, bundle run (DOMContentLoaded) ${phase('scriptRun')}, first API request sent ` +
            `${phase('firstApiStart')}, last API response before the rows ${phase('lastApiEnd')}, first row in the DOM ${phase('rowInDom')}, ` +
            `painted (next animation frame) ${median(firstRows).toFixed(0)}; ` +
            `API requests of the slowest load: ${requests.join(', ')}`,
          target: { kind: 'max', max: 1000 },
        });
      } finally {
        await server.stop();
      }
    }
  } finally {
    await browser.close();
  }
  return figures;
}
