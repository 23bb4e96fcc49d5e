import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { availableBackends } from './helpers/backends.js';
import { ROOT } from './helpers/processes.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const run = promisify(execFile);
const PACKAGE_DIR = path.join(ROOT, 'packages/client');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** npm with a cache of its own and no registry: the tarball must install from itself alone. */
function npm(args: string[], cwd: string, cache: string) {
  return run('npm', [...args, '--cache', cache, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

const SCRIPT = `
import { CustomersApiError, CustomersClient } from '@customers-api/client';
import { verifyWebhookSignature } from '@customers-api/client/webhooks';

const { BASE_URL, TOKEN, ORG, BODY, SIGNATURE } = process.env;
const client = new CustomersClient({ baseUrl: BASE_URL, token: TOKEN });
const created = await client.customers.create(ORG, { firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com' });
const fetched = await client.customers.get(ORG, created.id);
let missing;
try {
  await client.customers.get(ORG, '01JDEMO0000000000000000000');
} catch (error) {
  missing = error instanceof CustomersApiError ? { status: error.status, type: error.type } : String(error);
}
const signatures = [verifyWebhookSignature(BODY, SIGNATURE, 'shh'), verifyWebhookSignature(BODY, SIGNATURE, 'other')];
console.log(JSON.stringify({ created, fetched, missing, signatures }));
`;

// Compiled with strict settings, no skipLibCheck and nothing else installed: an unresolved import, a TypeBox type
// the bundle failed to inline, or a type that fell back to any (the @ts-expect-error lines) fails the check.
const CONSUMER = `
import { CustomersClient, type Customer, type CreateCustomerBody, type Payment } from '@customers-api/client';
import { verifyWebhookSignature } from '@customers-api/client/webhooks';

export async function copy(client: CustomersClient, org: string): Promise<Customer> {
  const body: CreateCustomerBody = { firstName: 'Ann', lastName: 'Lee' };
  const customer = await client.customers.create(org, body);
  const first: string = customer.firstName;
  // @ts-expect-error firstName is a string, not a number
  const wrong: number = customer.firstName;
  // @ts-expect-error lastName is required
  const partial: CreateCustomerBody = { firstName: 'Ann' };
  const cents: number = (null as unknown as Payment).chargedAmount;
  const items: number = (null as unknown as Payment).items[0]?.quantity ?? 0;
  void [first, wrong, partial, cents, items];
  return customer;
}

export const verified: boolean = verifyWebhookSignature('{}', 'sha256=00', 'secret');
`;

/** What the README's examples take as given. */
const README_GIVENS = `
declare const orgId: string;
declare const customerId: string;
declare const job: { watermark: string | undefined };
declare let lastSequence: number;
declare function handle(event: unknown): Promise<void>;
declare const rawBody: string;
declare const request: { headers: Record<string, string | undefined> };
declare const response: { writeHead(status: number): { end(): void } };
declare const process: { env: Record<string, string | undefined> };
`;

/**
 * The \`\`\`ts blocks of packages/client/README.md as one module: imports hoisted, each block the body of a function
 * (they reuse names), given a \`client\` unless they make one.
 */
function readmeExamples(): string {
  const readme = fs.readFileSync(path.join(PACKAGE_DIR, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks.length).toBeGreaterThan(3);
  const imports = new Set<string>();
  const bodies = blocks.map((block, index) => {
    const lines = block.split('\n');
    for (const line of lines.filter((l) => l.startsWith('import '))) imports.add(line);
    const parameter = block.includes('const client =') ? '' : 'client: ReadmeClient';
    return `export async function example${index}(${parameter}) {\n${lines.filter((l) => !l.startsWith('import ')).join('\n')}\n}`;
  });
  imports.add("import type { CustomersClient as ReadmeClient } from '@customers-api/client';");
  return [...imports, README_GIVENS, ...bodies].join('\n');
}

describe('the client package, installed on its own', () => {
  let server: TestServer;
  let work: string;
  let consumer: string;

  beforeAll(async () => {
    const sqlite = (await availableBackends()).find((backend) => backend.name === 'sqlite')!;
    server = await startTestServer(sqlite);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'client-package-'));
    const cache = path.join(work, 'npm-cache');
    const { stdout } = await npm(['pack', PACKAGE_DIR, '--pack-destination', work, '--json'], work, cache);
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    consumer = path.join(work, 'consumer');
    fs.mkdirSync(consumer);
    fs.writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
    );
    fs.writeFileSync(path.join(consumer, 'script.mjs'), SCRIPT);
    await npm(['install', path.join(work, packed!.filename), '--ignore-scripts'], consumer, cache);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('has no dependency: npm ls shows the package alone, and nothing else is installed', async () => {
    const { stdout } = await npm(['ls', '--all', '--json'], consumer, path.join(work, 'npm-cache'));
    const tree = JSON.parse(stdout) as { dependencies: Record<string, { dependencies?: object }> };
    expect(Object.keys(tree.dependencies)).toEqual(['@customers-api/client']);
    expect(tree.dependencies['@customers-api/client']!.dependencies ?? {}).toEqual({});
    const installed = fs.readdirSync(path.join(consumer, 'node_modules')).filter((name) => !name.startsWith('.'));
    expect(installed).toEqual(['@customers-api']);
    const files = fs.readdirSync(path.join(consumer, 'node_modules/@customers-api/client/dist')).sort();
    expect(files).toEqual([
      'errors.js',
      'index.d.ts',
      'index.js',
      'paging.js',
      'transport.js',
      'webhooks.d.ts',
      'webhooks.js',
    ]);
  });

  it('imports and calls a running server from a plain ESM script', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read', 'customers:write']);
    const body = '{"event":"customer.created"}';
    const { stdout } = await run(process.execPath, ['script.mjs'], {
      cwd: consumer,
      env: {
        PATH: process.env.PATH ?? '',
        BASE_URL: server.baseUrl,
        TOKEN: token,
        ORG: org.id,
        BODY: body,
        SIGNATURE: `sha256=${createHmac('sha256', 'shh').update(body).digest('hex')}`,
      },
    });
    const result = JSON.parse(stdout) as {
      created: Customer;
      fetched: Customer;
      missing: unknown;
      signatures: boolean[];
    };
    expect(result.created).toMatchObject({ firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com' });
    expect(result.fetched).toEqual(result.created);
    expect(result.missing).toEqual({ status: 404, type: 'not_found' });
    expect(result.signatures).toEqual([true, false]);
    const stored = await server.request<Customer>('GET', `/organizations/${org.id}/customers/${result.created.id}`, {
      token,
    });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(result.created);
  });

  it("type-checks a strict TypeScript consumer and the README's examples against the package's declarations, without TypeBox installed", async () => {
    fs.writeFileSync(path.join(consumer, 'consumer.ts'), CONSUMER);
    fs.writeFileSync(path.join(consumer, 'readme.ts'), readmeExamples());
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM'],
          types: [],
        },
        files: ['consumer.ts', 'readme.ts'],
      }),
    );
    const result = await run(process.execPath, [TSC, '-p', consumer], { cwd: consumer }).catch(
      (error: { stdout: string; code: number }) => error,
    );
    expect('code' in result ? result.stdout : '').toBe('');
  }, 60_000);
});
