import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { seedDemo, type DemoResult } from '../../src/demo/demo-data.js';
import { CONSOLE_DIST } from '../../src/http/plugins/console.js';
import { availableBackends, describeEachBackend, type Backend } from '../helpers/backends.js';
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from '../helpers/chromium.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * What the console's browser tests share: Debian's chromium driven by playwright-core (never a downloaded browser),
 * a real server on a fresh database with demo data, axe-core run inside the page, and screenshots to look at.
 */

/** Git-ignored (README, "The console"); look at them after a run. */
export const SCREENSHOTS = path.resolve('test-results/console-screenshots');
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * A browser suite per backend. Without chromium it is skipped on a developer's machine but fails in CI, where a
 * silent skip would hide a broken console.
 */
export async function browserSuite(
  title: string,
  body: (backend: Backend) => void,
  { backends }: { backends?: Backend['name'][] } = {},
): Promise<void> {
  if (!HAS_CHROMIUM && !process.env.CI) {
    describe.skip(`${title} [${CHROMIUM} missing, skipped]`, () => undefined);
    return;
  }
  if (backends === undefined) return describeEachBackend(title, body);
  // Browser time is dear on two cores: the flows run on SQLite; one suite is the PostgreSQL smoke run.
  const available = await availableBackends();
  for (const backend of available.filter((b) => backends.includes(b.name)))
    describe(`${title} [${backend.label}]`, () => body(backend));
}

export async function launchBrowser(): Promise<Browser> {
  if (!HAS_CHROMIUM) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`);
  if (!fs.existsSync(path.join(CONSOLE_DIST, 'index.html')))
    throw new Error(`${CONSOLE_DIST} is missing: run npm run build:console (npm test builds it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export interface ConsoleServer {
  server: TestServer;
  demo: DemoResult;
  org: string;
  url: (path?: string) => string;
}

export async function startConsoleServer(
  backend: Backend,
  customers = 300,
  env: Record<string, string> = {},
): Promise<ConsoleServer> {
  const server = await startTestServer(backend, env);
  const demo = await seedDemo(server.services, { customers });
  return {
    server,
    demo,
    org: demo.organization.id,
    url: (p = '/console/') => `${server.baseUrl}${p}`,
  };
}

/** Every console message of type error, uncaught exception and CSP violation a page reports. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    problems.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/** Forgets the problems a test provoked on purpose (a refused token, a 412), so the end can check there were no others. */
export function forgetExpected(problems: string[], expected: RegExp): void {
  problems.splice(0, problems.length, ...problems.filter((problem) => !expected.test(problem)));
}

/** axe-core, injected through the DevTools protocol (the console's CSP forbids inline scripts), on the page as it is. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: Document) => Promise<AxeResults> } }).axe;
    const results = await axe.run(document);
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.slice(0, 3).map((node) => node.html),
      }));
  });
  expect(violations, `axe-core on ${screen}`).toEqual([]);
}

interface AxeResults {
  violations: { id: string; impact: string | null; help: string; nodes: { html: string }[] }[];
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** Signs in by pasting a token, as an operator does. */
export async function signInWithToken(page: Page, consoleUrl: string, token: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

export interface ConsoleTab {
  app: ConsoleServer;
  browser: Browser;
  context: BrowserContext;
  /** A 1280x800 page, watched for console errors from the start. */
  page: Page;
  problems: string[];
}

/**
 * A suite's server with demo data, browser and page, set up before its tests and closed after them (the suite's own
 * afterAll hooks run first). The fields are filled in by the time the suite's beforeAll hooks run.
 */
export function openConsole(
  backend: Backend,
  { customers = 300, env = {} }: { customers?: number; env?: Record<string, string> } = {},
): ConsoleTab {
  const tab = {} as ConsoleTab;
  beforeAll(async () => {
    [tab.app, tab.browser] = await Promise.all([startConsoleServer(backend, customers, env), launchBrowser()]);
    tab.context = await tab.browser.newContext({ viewport: { width: 1280, height: 800 } });
    tab.page = await tab.context.newPage();
    tab.problems = watchProblems(tab.page);
  });
  afterAll(async () => {
    await tab.context?.close();
    await tab.browser?.close();
    await tab.app?.server.close();
  });
  return tab;
}

/** Opens the customers screen and waits until its first row is the organization's newest customer; its rows. */
export async function openCustomersNewestFirst(tab: ConsoleTab): Promise<Locator> {
  await tab.page.getByRole('link', { name: 'Customers', exact: true }).click();
  return expectNewestFirst(tab);
}

/** Waits until the customers table's first row is the organization's newest customer; its rows. */
export async function expectNewestFirst(tab: ConsoleTab): Promise<Locator> {
  const rows = tab.page.locator('table.data-table tbody tr:not(.spacer)');
  await rows.first().waitFor();
  const newest = await tab.app.server.request<{ firstName: string; lastName: string }[]>(
    'GET',
    `/organizations/${tab.app.org}/customers?limit=1`,
    { token: tab.app.demo.readToken },
  );
  await expect
    .poll(() => rows.first().locator('td').first().textContent())
    .toBe(`${newest.body[0]!.firstName} ${newest.body[0]!.lastName}`);
  return rows;
}
