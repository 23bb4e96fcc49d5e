import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('rate limiting', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => server?.close());

  it('answers 429 rate_limited with Retry-After once a token spends its budget, per token', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read']);
    const other = await server.createToken([org.id], ['customers:read']);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await server.request('GET', `/organizations/${org.id}/customers`, { token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await server.request('GET', `/organizations/${org.id}/customers`, { token });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'rate_limited', instance: expect.any(String) });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await server.request('GET', `/organizations/${org.id}/customers`, { token: other })).status).toBe(200);
    expect((await server.request('GET', '/healthz')).status).toBe(200);
  });
});
