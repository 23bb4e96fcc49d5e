import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('smoke', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('creates and reads a customer', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read']);
    const created = await server.createCustomer(org.id, { email: 'A@b.co' });
    const got = await server.request('GET', `/organizations/${org.id}/customers/${created.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);
  });
});
