import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import type { ImportJob } from '../src/contract/imports.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, errorFields, expectErrorJson, readAllPages } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

await describeEachBackend('imports and exports over HTTP (console extensions)', (backend) => {
  let server: TestServer;
  let small: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
    small = await startTestServer(backend, { IMPORT_MAX_BYTES: '2000' });
  });
  afterAll(async () => {
    await server?.close();
    await small?.close();
  });

  const upload = (s: TestServer, orgId: string, token: string, body: string, contentType: string, query = '') =>
    s.request<ImportJob>('POST', `/organizations/${orgId}/imports${query}`, {
      token,
      rawBody: body,
      headers: { 'content-type': contentType },
    });

  /** Follows the job's Location until it is no longer running (each poll is a real GET). */
  async function finished(location: string, token: string): Promise<ImportJob> {
    for (let i = 0; i < 2000; i++) {
      const response = await server.request<ImportJob>('GET', location, { token });
      expect(response.status, response.text).toBe(200);
      if (response.body.status !== 'running') return response.body;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the import did not finish');
  }

  const countCustomers = async (orgId: string) =>
    Number(
      (
        await server.store.db
          .selectFrom('customers')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('organization_id', '=', orgId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('imports a CSV with two bad rows: 202 + Location, progress to completed, rejects with lines, customers stored', async () => {
    const { orgId, read, write } = await createTenant(server);
    const rows = Array.from({ length: 2500 }, (_, i) => `First${i},Last${i},person${i}@example.com,true`);
    rows[10] = 'Bad,Row,not-an-email,true';
    rows[2000] = 'Short,Row';
    const csv = `firstName,lastName,email,hasAgreedToMarketing\n${rows.join('\n')}\n`;
    const response = await upload(server, orgId, write, csv, 'text/csv; charset=utf-8', '?format=csv');
    expect(response.status, response.text).toBe(202);
    expect(response.body).toEqual(
      expect.objectContaining({ format: 'csv', status: 'running', rowsRead: 0, rejects: [], id: expect.any(String) }),
    );
    const location = response.headers.get('location')!;
    expect(location).toBe(`${server.baseUrl}/organizations/${orgId}/imports/${response.body.id}`);
    const job = await finished(location, read);
    expect(job).toEqual({
      completedAt: expect.any(String),
      format: 'csv',
      id: response.body.id,
      rejects: [
        { line: 12, reason: expect.stringContaining('email') },
        { line: 2002, reason: expect.stringContaining('cells') },
      ],
      rowsImported: 2498,
      rowsRead: 2500,
      rowsRejected: 2,
      startedAt: response.body.startedAt,
      status: 'completed',
    });
    expect(Date.parse(job.completedAt!)).toBeGreaterThanOrEqual(Date.parse(job.startedAt));
    expect(await countCustomers(orgId)).toBe(2498);
    const found = await server.request<Customer[]>(
      'GET',
      `/organizations/${orgId}/customers?email=person7@example.com`,
      {
        token: read,
      },
    );
    expect(found.body).toEqual([expect.objectContaining({ firstName: 'First7', hasAgreedToMarketing: true })]);

    const rejects = await server.request('GET', `${location}/rejects`, { token: read });
    expect(rejects.status).toBe(200);
    expect(rejects.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(
      rejects.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(job.rejects);

    // The same file again creates no duplicates (upsert by email) and changes nothing.
    const again = await upload(server, orgId, write, csv, 'text/csv');
    const second = await finished(again.headers.get('location')!, read);
    expect([second.status, second.rowsImported, second.rowsRejected]).toEqual(['completed', 2498, 2]);
    expect(await countCustomers(orgId)).toBe(2498);
  });

  it('imports NDJSON (bad JSON and invalid customers are rejects) and exports both formats back', async () => {
    const { orgId, read, write } = await createTenant(server);
    const lines = [
      JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', metadata: { tier: 'gold' } }),
      '{"firstName": "Broken"',
      JSON.stringify({ firstName: 'Null\u0000Byte', lastName: 'X' }),
      '',
      JSON.stringify({ firstName: 'Grace', lastName: 'Hopper, "Amazing"', phoneNumber: '0411 222 333' }),
      JSON.stringify({ firstName: 'Too', lastName: 'Long'.repeat(1000) }),
    ];
    const response = await upload(server, orgId, write, `${lines.join('\r\n')}\r\n`, 'application/x-ndjson');
    expect(response.status, response.text).toBe(202);
    const job = await finished(response.headers.get('location')!, read);
    expect(job.status).toBe('completed');
    expect([job.rowsRead, job.rowsImported, job.rowsRejected]).toEqual([5, 2, 3]);
    expect(job.rejects.map((r) => r.line)).toEqual([2, 3, 6]);

    const stored = await readAllPages<Customer>(server, `/organizations/${orgId}/customers`, read);
    const ndjson = await server.request('GET', `/organizations/${orgId}/exports`, { token: read });
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(ndjson.headers.get('content-disposition')).toMatch(/^attachment; filename="customers-.+\.ndjson"$/);
    expect(
      ndjson.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(stored);

    const csv = await server.request('GET', `/organizations/${orgId}/exports?format=csv`, { token: read });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/\.csv"$/);
    const [header, ...csvRows] = csv.text.trimEnd().split('\n');
    expect(header!.split(',')).toEqual(
      expect.arrayContaining(['firstName', 'statistics.pointsBalance', 'metadata.tier']),
    );
    expect(csvRows).toHaveLength(2);
    expect(csv.text).toContain('"Hopper, ""Amazing"""');

    // The CSV export imports back into another organization as the same customers.
    const copy = await createTenant(server);
    const back = await upload(server, copy.orgId, copy.write, csv.text, 'text/csv');
    const backJob = await finished(back.headers.get('location')!, copy.read);
    expect([backJob.status, backJob.rowsImported, backJob.rowsRejected]).toEqual(['completed', 2, 0]);
    const copied = await readAllPages<Customer>(server, `/organizations/${copy.orgId}/customers`, copy.read);
    const shape = (c: Customer) => [c.firstName, c.lastName, c.email, c.phoneNumber, c.metadata];
    expect(copied.map(shape).sort()).toEqual(stored.map(shape).sort());
  });

  it('fails a file it cannot read, reporting why (and the line), never a 500', async () => {
    const { orgId, read, write } = await createTenant(server);
    const unknownColumn = await upload(server, orgId, write, 'firstName,shoeSize\nA,42\n', 'text/csv');
    expect(unknownColumn.status).toBe(202);
    const failed = await finished(unknownColumn.headers.get('location')!, read);
    expect(failed).toEqual(expect.objectContaining({ status: 'failed', error: expect.stringContaining('shoeSize') }));

    const unclosed = await upload(server, orgId, write, 'firstName,lastName\nA,B\n"C,D\n', 'text/csv');
    const broken = await finished(unclosed.headers.get('location')!, read);
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(/not valid CSV/);
    expect(broken.rejects).toEqual([{ line: 3, reason: expect.stringContaining('not closed') }]);
    const empty = await upload(server, orgId, write, '', 'application/x-ndjson');
    const emptyJob = await finished(empty.headers.get('location')!, read);
    expect([emptyJob.status, emptyJob.rowsRead]).toEqual(['completed', 0]);
  });

  it('refuses bad requests with our error JSON and stores nothing', async () => {
    const { orgId, read, write } = await createTenant(server);
    const jobs = async (s: TestServer) =>
      (await s.store.db.selectFrom('import_jobs').select('id').where('organization_id', '=', orgId).execute()).length;
    const csv = 'firstName,lastName\nA,B\n';
    for (const type of [
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=x',
      'text/csv; charset=latin1',
    ]) {
      const response = await upload(server, orgId, write, csv, type);
      expectErrorJson(response, 415);
    }
    expectErrorJson(
      await server.request('POST', `/organizations/${orgId}/imports`, { token: write, rawBody: csv }),
      415,
    );
    expect(
      errorFields(expectErrorJson(await upload(server, orgId, write, csv, 'text/csv', '?format=ndjson'), 400)),
    ).toEqual(['format']);
    expect(
      errorFields(expectErrorJson(await upload(server, orgId, write, csv, 'text/csv', '?format=xml'), 400)),
    ).toEqual(['format']);
    expectErrorJson(await upload(server, orgId, read, csv, 'text/csv'), 403);
    expectErrorJson(await upload(server, orgId, '', csv, 'text/csv'), 401);
    expectErrorJson(await upload(server, 'not-granted', write, csv, 'text/csv'), 404);
    expect(await jobs(server)).toBe(0);

    const unknown = await server.request('GET', `/organizations/${orgId}/imports/01JAAAAAAAAAAAAAAAAAAAAAAA`, {
      token: read,
    });
    expectErrorJson(unknown, 404);
    expectErrorJson(await server.request('GET', `/organizations/${orgId}/imports/nope/rejects`, { token: read }), 404);
    expectErrorJson(await server.request('GET', `/organizations/${orgId}/imports/a%00b`, { token: read }), 400);
    expectErrorJson(await server.request('GET', `/organizations/${orgId}/exports?format=xlsx`, { token: read }), 400);
    expectErrorJson(await server.request('GET', `/organizations/${orgId}/exports`, { token: null }), 401);

    // Over IMPORT_MAX_BYTES: 413 whether the size is declared up front or only seen while streaming.
    const tenant = await createTenant(small);
    const big = `firstName,lastName\n${'Alexander,Hamilton\n'.repeat(200)}`;
    expectErrorJson(await upload(small, tenant.orgId, tenant.write, big, 'text/csv'), 413);
    const streamed = await fetch(`${small.baseUrl}/organizations/${tenant.orgId}/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.write}`, 'content-type': 'text/csv' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { type: string }).type).toBe('payload_too_large');
    expect(
      (
        await small.store.db
          .selectFrom('import_jobs')
          .select('id')
          .where('organization_id', '=', tenant.orgId)
          .execute()
      ).length,
    ).toBe(0);
    expect(
      (await small.store.db.selectFrom('customers').select('id').where('organization_id', '=', tenant.orgId).execute())
        .length,
    ).toBe(0);
  });
});
