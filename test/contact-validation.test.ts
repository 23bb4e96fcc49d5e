import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, errorFields, expectErrorJson } from './helpers/fixtures.js';
import { digestStore } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('email and phone validation', (backend) => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  beforeAll(async () => {
    server = await startTestServer(backend);
    tenant = await createTenant(server);
  });
  afterAll(async () => server?.close());

  const create = (body: Record<string, unknown>) =>
    server.request('POST', `/organizations/${tenant.orgId}/customers`, {
      token: tenant.write,
      body: { firstName: 'Val', lastName: 'Idation', ...body },
    });

  it.each([
    ['email', 'a@-b.com'],
    ['email', 'a@b.c'],
    ['email', `${'a'.repeat(65)}@example.com`],
    ['phoneNumber', '+61411222333x'],
    ['phoneNumber', 'tel:+61411222333;ext=12'],
    ['phoneNumber', '+61 411 222 333 ext. 12'],
  ])('refuses %s %j with a 400 naming it, storing nothing', async (field, value) => {
    const before = await digestStore(server.store);
    const response = await create({ [field]: value });
    expect(errorFields(expectErrorJson(response, 400))).toEqual([field]);
    expect(await digestStore(server.store)).toBe(before);
  });

  it('stores a number typed with full-width digits in E.164', async () => {
    const response = await create({ phoneNumber: '+6141122233３' });
    expect(response.status, response.text).toBe(201);
    const id = (response.body as { id: string }).id;
    const read = await server.request('GET', `/organizations/${tenant.orgId}/customers/${id}`, { token: tenant.read });
    expect(read.body).toMatchObject({ phoneNumber: '+61411222333' });
  });
});
