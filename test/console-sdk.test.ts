import { afterAll, beforeAll, expect, it } from 'vitest';
import { CustomersApiError, CustomersClient, type ImportJob } from '../src/client/index.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend("the SDK's console methods (points history, imports, exports, insights)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('pages the points history, runs an import to the end, streams an export and reads insights', async () => {
    const { orgId, write } = await createTenant(server);
    const client = new CustomersClient({ baseUrl: server.baseUrl, token: write, retries: 0 });
    const customer = await server.createCustomer(orgId, {}, write);
    for (const [i, amount] of [5, 7, -2].entries()) await client.points.adjust(orgId, customer.id, `r${i}`, { amount });
    const history = await client.points.history(orgId, customer.id, { limit: 2 }).toArray();
    expect(history.map((e) => [e.reference, e.amount])).toEqual([
      ['r2', -2],
      ['r1', 7],
      ['r0', 5],
    ]);

    const csv = 'firstName,lastName,email\nAda,Lovelace,ada@example.com\nBad,Row,nope\n';
    let job: ImportJob = await client.imports.create(orgId, new Blob([csv]), { format: 'csv' });
    for (let i = 0; job.status === 'running' && i < 2000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = await client.imports.get(orgId, job.id);
    }
    expect([job.status, job.rowsImported, job.rowsRejected]).toEqual(['completed', 1, 1]);
    const rejects = [];
    for await (const reject of client.imports.rejects(orgId, job.id)) rejects.push(reject);
    expect(rejects).toEqual([{ line: 3, reason: expect.stringContaining('email') }]);

    const text = await new Response(await client.exports.stream(orgId, { format: 'ndjson' })).text();
    const exported = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { email?: string });
    expect(exported.map((c) => c.email ?? null).sort()).toEqual(['ada@example.com', customer.email ?? null].sort());

    const insights = await client.insights.get(orgId, { interval: 'day' });
    expect(insights.series.newCustomers.reduce((total, b) => total + b.value, 0)).toBe(2);
    expect(insights.series.pointsEarned.reduce((total, b) => total + b.value, 0)).toBe(12);

    const reader = new CustomersClient({
      baseUrl: server.baseUrl,
      token: await server.createToken([orgId], ['customers:read']),
    });
    const refused = await reader.imports.create(orgId, csv, { format: 'csv' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CustomersApiError);
    expect([(refused as CustomersApiError).status, (refused as CustomersApiError).type]).toEqual([403, 'forbidden']);
  });
});
