import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../src/domain/auth/token-service.js';
import { describeEachBackend } from './helpers/backends.js';
import { errorFields, expectErrorJson } from './helpers/fixtures.js';
import { listOperations, operationUrl, type Operation } from './helpers/openapi-operations.js';
import { digestStore } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// NUL is what PostgreSQL refuses (a 500 before); ESC and DEL stand for the other controls.
const CONTROLS = ['\u0000', '\u001b', '\u007f'];

await describeEachBackend('control characters', (backend) => {
  let server: TestServer;
  let token: string;
  let ids: Record<string, string>;
  let operations: Operation[];
  beforeAll(async () => {
    server = await startTestServer(backend);
    const org = await server.createOrganization('Controls');
    token = await server.createToken([org.id], [...SCOPES]);
    const customer = await server.createCustomer(org.id, { firstName: 'Ada', lastName: 'Lovelace' }, token);
    const list = await server.request<{ id: string }>('POST', `/organizations/${org.id}/customer-lists`, {
      token,
      body: { name: 'Regulars' },
    });
    expect(list.status).toBe(201);
    // Real identifiers for the other parameters, so that before the fix the bad value reached the database.
    ids = { organizationId: org.id, customerId: customer.id, listId: list.body.id };
    operations = (await listOperations(server)).filter((o) => o.authenticated);
  });
  afterAll(async () => server?.close());

  const pathValue = (name: string) => ids[name] ?? 'ref-1';

  async function expectRejected(method: string, url: string, field: string, body?: unknown) {
    const response = await server.request(method, url, { token, ...(body === undefined ? {} : { body }) });
    const error = expectErrorJson(response, 400);
    expect(errorFields(error), `${method} ${url}`).toEqual([field]);
    expect(error.message).toContain(field);
  }

  it('rejects them in every path parameter of every operation with a 400 naming it, storing nothing', async () => {
    const before = await digestStore(server.store);
    let checked = 0;
    for (const operation of operations) {
      for (const param of operation.parameters.filter((p) => p.in === 'path')) {
        for (const control of CONTROLS) {
          const url = operationUrl(operation, (name) => (name === param.name ? `a${control}b` : pathValue(name)));
          await expectRejected(operation.method, url, param.name, operation.body ? {} : undefined);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(await digestStore(server.store)).toBe(before);
  });

  it('rejects them in every query parameter, tab and newline included', async () => {
    const before = await digestStore(server.store);
    let checked = 0;
    for (const operation of operations) {
      for (const param of operation.parameters.filter((p) => p.in === 'query')) {
        for (const control of [...CONTROLS, '\t', '\n']) {
          const url = operationUrl(operation, pathValue, { [param.name]: `x${control}` });
          await expectRejected(operation.method, url, param.name);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(await digestStore(server.store)).toBe(before);
  });

  it('rejects them in every body field, nested ones and keys too, before validation', async () => {
    const before = await digestStore(server.store);
    let checked = 0;
    for (const operation of operations.filter((o) => o.body?.properties)) {
      const url = operationUrl(operation, pathValue);
      for (const field of Object.keys(operation.body!.properties!)) {
        for (const control of CONTROLS) {
          await expectRejected(operation.method, url, field, { [field]: `a${control}b` });
          checked++;
        }
      }
      await expectRejected(operation.method, url, 'tags.1', { tags: ['ok', 'a\u0000b'] });
      await expectRejected(operation.method, url, 'metadata.colour', { metadata: { colour: 'x\u0001' } });
      await expectRejected(operation.method, url, 'a\u0000', { 'a\u0000': 'x' });
    }
    expect(checked).toBeGreaterThan(20);
    expect(await digestStore(server.store)).toBe(before);
  });

  it('names the field of the reported example: %00 in a path, \\u0000 in a JSON string, %00 in ?email=', async () => {
    const org = ids.organizationId!;
    await expectRejected('GET', `/organizations/${org}/customers/%00`, 'customerId');
    await expectRejected('GET', `/organizations/${org}/customers?email=%00`, 'email');
    const before = await digestStore(server.store);
    await expectRejected('POST', `/organizations/${org}/customers`, 'firstName', {
      firstName: 'a\u0000b',
      lastName: 'x',
    });
    expect(await digestStore(server.store)).toBe(before);
  });

  it('keeps tab and newline in body text, and stores them the same on both backends', async () => {
    const org = ids.organizationId!;
    const created = await server.request<{ id: string; lastName: string }>('POST', `/organizations/${org}/customers`, {
      token,
      body: { firstName: 'Tab\there', lastName: 'Two\nlines' },
    });
    expect(created.status, created.text).toBe(201);
    const read = await server.request<{ firstName: string; lastName: string }>(
      'GET',
      `/organizations/${org}/customers/${created.body.id}`,
      { token },
    );
    expect(read.body).toMatchObject({ firstName: 'Tab\there', lastName: 'Two\nlines' });
  });
});
