import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import type { components, paths } from './generated/openapi-types.js';

type Customer = components['schemas']['Customer'];

it('test/generated/openapi-types.ts is what openapi-typescript makes of docs/openapi.json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-types-'));
  try {
    const out = path.join(dir, 'openapi-types.ts');
    const bin = new URL('../node_modules/.bin/openapi-typescript', import.meta.url).pathname;
    await promisify(execFile)(bin, [new URL('../docs/openapi.json', import.meta.url).pathname, '-o', out]);
    const committed = fs.readFileSync(new URL('./generated/openapi-types.ts', import.meta.url), 'utf8');
    expect(
      committed === fs.readFileSync(out, 'utf8'),
      'test/generated/openapi-types.ts is out of date: run npm run openapi',
    ).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

// This file is type-checked by `npm run typecheck`: the calls below only compile if the generated types are right.
await describeEachBackend('openapi-fetch client generated from docs/openapi.json', (backend) => {
  let server: TestServer;
  let orgId: string;
  let api: ReturnType<typeof createClient<paths>>;

  beforeAll(async () => {
    server = await startTestServer(backend);
    orgId = (await server.createOrganization()).id;
    const token = await server.createToken([orgId], ['customers:read', 'customers:write']);
    api = createClient<paths>({ baseUrl: server.baseUrl, headers: { authorization: `Bearer ${token}` } });
  });
  afterAll(async () => server?.close());

  it('creates, reads, lists and updates customers with typed requests and responses', async () => {
    const created = await api.POST('/organizations/{organizationId}/customers', {
      params: { path: { organizationId: orgId } },
      body: { firstName: 'Typed', lastName: 'Client', email: 'typed@example.com' },
    });
    expect(created.response.status).toBe(201);
    const customer: Customer = created.data!;
    expect(customer).toMatchObject({ firstName: 'Typed', email: 'typed@example.com' });

    const got = await api.GET('/organizations/{organizationId}/customers/{customerId}', {
      params: { path: { organizationId: orgId, customerId: customer.id } },
    });
    expect(got.data).toEqual(customer);

    const listed = await api.GET('/organizations/{organizationId}/customers', {
      params: { path: { organizationId: orgId }, query: { sort: 'updated', email: 'TYPED@example.com' } },
    });
    expect(listed.data!.map((c) => c.id)).toEqual([customer.id]);

    const patched = await api.PATCH('/organizations/{organizationId}/customers/{customerId}', {
      params: { path: { organizationId: orgId, customerId: customer.id } },
      body: { email: null },
    });
    expect(patched.data!.email).toBeUndefined();
    expect((await server.services.customers.getCustomer(orgId, customer.id)).email).toBeUndefined();
  });

  it('types error responses as the Error schema', async () => {
    const missing = await api.GET('/organizations/{organizationId}/customers/{customerId}', {
      params: { path: { organizationId: orgId, customerId: 'nope' } },
    });
    expect(missing.response.status).toBe(404);
    const error: components['schemas']['Error'] | undefined = missing.error;
    expect(error).toMatchObject({ code: 'not_found' });

    const invalid = await api.GET('/organizations/{organizationId}/customers', {
      // @ts-expect-error sort is an enum in the document
      params: { path: { organizationId: orgId }, query: { sort: 'name' } },
    });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error?.details?.[0]?.field).toBe('sort');
  });
});
