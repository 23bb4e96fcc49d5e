import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { errorFields, expectErrorJson, type ErrorBody } from './helpers/fixtures.js';
import { digestStore } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A JSON body with `bytes` spliced in raw where `@` stands in the template: what no string-encoding client can send. */
function bodyWith(template: string, bytes: number[]): Buffer {
  const [before, after] = template.split('@') as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

await describeEachBackend('text encoding of requests', (backend) => {
  let server: TestServer;
  let orgId: string;
  let token: string;
  let customer: Customer;
  beforeAll(async () => {
    server = await startTestServer(backend);
    orgId = (await server.createOrganization('Encoding')).id;
    token = await server.createToken([orgId], ['customers:read', 'customers:write']);
    customer = await server.createCustomer(orgId, { firstName: 'Zoë', lastName: 'Ngô' }, token);
  });
  afterAll(async () => server?.close());

  async function send(method: string, path: string, body: Buffer | string, contentType = 'application/json') {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as unknown };
  }

  const customers = () => `/organizations/${orgId}/customers`;

  it('rejects a body whose bytes are not UTF-8 with a 400 saying where, on create and update, storing nothing', async () => {
    const before = await digestStore(server.store);
    const cases: [string, number[], number][] = [
      ['{"firstName":"@","lastName":"x"}', [0xff], 14], // never valid in UTF-8
      ['{"firstName":"a@","lastName":"x"}', [0xc3], 15], // a truncated two-byte sequence
      ['{"firstName":"@","lastName":"x"}', [0xc0, 0xaf], 14], // an overlong '/'
      ['{"firstName":"@","lastName":"x"}', [0xed, 0xa0, 0x80], 14], // a surrogate, UTF-8-encoded (CESU)
      ['{"firstName":"@","lastName":"x"}', [0xf4, 0x90, 0x80, 0x80], 14], // beyond U+10FFFF
      ['{"firstName":"Jos@","lastName":"x"}', [0xe9], 17], // latin1 é sent as if it were UTF-8
    ];
    for (const [template, bytes, at] of cases) {
      for (const [method, path] of [
        ['POST', customers()],
        ['PATCH', `${customers()}/${customer.id}`],
      ] as const) {
        const response = await send(method, path, bodyWith(template, bytes));
        const error = expectErrorJson(response, 400);
        expect(errorFields(error)).toEqual(['body']);
        expect(error.message).toContain(`not valid UTF-8 (an invalid byte sequence starts at byte ${at})`);
      }
    }
    expect(await digestStore(server.store)).toBe(before);
  });

  it('rejects a lone surrogate escaped in JSON with a 400 naming the field, and keeps a real pair intact', async () => {
    const before = await digestStore(server.store);
    for (const escaped of ['\\ud800', '\\udfff', 'a\\udc00b', '\\ud83d']) {
      const response = await send('POST', customers(), `{"firstName":"${escaped}","lastName":"x"}`);
      const error = expectErrorJson(response, 400);
      expect(errorFields(error)).toEqual(['firstName']);
      expect(error.message).toMatch(/lone surrogate U\+D[89A-F][0-9A-F]{2}/);
      const patched = await send('PATCH', `${customers()}/${customer.id}`, `{"lastName":"${escaped}"}`);
      expect(errorFields(expectErrorJson(patched, 400))).toEqual(['lastName']);
    }
    expect(await digestStore(server.store)).toBe(before);

    const created = await send('POST', customers(), '{"firstName":"\\ud83d\\ude00 Ana","lastName":"Łukasz 李"}');
    expect(created.status).toBe(201);
    const read = await server.request<Customer>('GET', `${customers()}/${(created.body as Customer).id}`, { token });
    expect(read.body.firstName).toBe('😀 Ana');
    expect(read.body.lastName).toBe('Łukasz 李');
  });

  it('rejects a query parameter whose percent-escapes are not UTF-8 with a 400 naming it, not a literal search', async () => {
    for (const [query, field] of [
      ['email=a%ED%A0%80b%40example.com', 'email'], // a surrogate
      ['phoneNumber=%FF', 'phoneNumber'],
      ['sort=created&email=Jos%E9%40example.com', 'email'], // latin1 é
      ['email=a%C3', 'email'], // truncated
    ]) {
      const response = await server.request('GET', `${customers()}?${query}`, { token });
      const error = expectErrorJson(response, 400);
      expect(errorFields(error), query).toEqual([field]);
      expect(error.message).toContain('not valid percent-encoded UTF-8');
    }
    const fine = await server.request<Customer[]>('GET', `${customers()}?email=zo%C3%AB%40example.com`, { token });
    expect(fine.status).toBe(200);
  });

  it('answers 415 to a body in any charset other than UTF-8, and accepts UTF-8 however it is spelt', async () => {
    const before = await digestStore(server.store);
    const latin1 = Buffer.from('{"firstName":"José","lastName":"x"}', 'latin1');
    for (const [contentType, body] of [
      ['application/json; charset=utf-16', Buffer.from('{"firstName":"A","lastName":"x"}', 'utf16le')],
      ['application/json; charset=UTF-16LE', Buffer.from('{"firstName":"A","lastName":"x"}', 'utf16le')],
      ['application/json; charset=latin1', latin1],
      ['application/json; charset=iso-8859-1', latin1],
      ['application/json;charset="windows-1252"', latin1],
    ] as const) {
      const response = await send('POST', customers(), body, contentType);
      const error = expectErrorJson(response, 415);
      expect((error as ErrorBody & { type: string }).type).toBe('unsupported_media_type');
      expect(error.message).toContain('UTF-8');
    }
    expect(await digestStore(server.store)).toBe(before);
    for (const contentType of [
      'application/json; charset=utf-8',
      'application/json; charset=UTF-8',
      'application/json;charset="utf-8"',
      'application/json; charset=utf8',
    ]) {
      const response = await send('POST', customers(), '{"firstName":"Renée","lastName":"Ok"}', contentType);
      expect(response.status, contentType).toBe(201);
      expect((response.body as Customer).firstName).toBe('Renée');
    }
  });
});
