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

  it('counts requests that fail validation, so they cannot be used to get around the budget', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read', 'customers:write']);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const response = await server.request('POST', `/organizations/${org.id}/customers`, {
        token,
        body: { firstName: 'Ada', frobnicate: i },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([...Array<number>(5).fill(400), ...Array<number>(15).fill(429)]);
    for (let i = 0; i < 3; i++) {
      const response = await server.request('GET', `/organizations/${org.id}/customers`, { token });
      expect(response.status).toBe(429);
      expect(response.body).toMatchObject({ code: 'rate_limited', instance: expect.any(String) });
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(
      await server.store.db.selectFrom('customers').select('id').where('organization_id', '=', org.id).execute(),
    ).toEqual([]);
  });

  it('counts a malformed JSON body before it is parsed', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read', 'customers:write']);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await server.request('POST', `/organizations/${org.id}/customers`, {
        token,
        rawBody: '{"firstName":',
        headers: { 'content-type': 'application/json' },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    const remaining = await server.request('GET', `/organizations/${org.id}/customers`, { token });
    expect(remaining.status).toBe(429);
    expect(remaining.headers.get('x-ratelimit-remaining')).toBe('0');
  });
});
