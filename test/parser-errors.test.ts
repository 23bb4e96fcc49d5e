import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { expectErrorJson } from './helpers/fixtures.js';
import { rawRequest } from './helpers/raw-http.js';
import { digestStore } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

await describeEachBackend('errors of the HTTP parser and server', (backend) => {
  let server: TestServer;
  let org: string;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer(backend, { LOG_LEVEL: 'info' });
    org = (await server.createOrganization('Raw')).id;
    token = await server.createToken([org], ['customers:read', 'customers:write']);
  });
  afterAll(async () => server?.close());

  const post = (extra: string[], body: string) =>
    head([
      `POST /organizations/${org}/customers HTTP/1.1`,
      'Host: 127.0.0.1',
      `Authorization: Bearer ${token}`,
      'Content-Type: application/json',
      ...extra,
    ]) + body;

  // What the attack run sent: each came back as Fastify's {"error","message":"Client Error","statusCode"} or empty.
  const cases: { name: string; bytes: () => string; status: number; code: string }[] = [
    {
      name: 'Content-Length with Transfer-Encoding',
      bytes: () => post(['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'a bad chunk size',
      bytes: () => post(['Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n'),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'two different Content-Lengths',
      bytes: () => post(['Content-Length: 2', 'Content-Length: 3'], '{}'),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'NUL in the URL',
      bytes: () => head(['GET /organiz\u0000ations HTTP/1.1', 'Host: a']),
      status: 400,
      code: 'bad_request',
    },
    {
      name: '0xFF in the URL',
      bytes: () => head(['GET /organiz\u00ffations HTTP/1.1', 'Host: a']),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'NUL in a header',
      bytes: () => head(['GET /healthz HTTP/1.1', 'Host: a', 'X-A: b\u0000c']),
      status: 400,
      code: 'bad_request',
    },
    {
      name: '0xFF in a header name',
      bytes: () => head(['GET /healthz HTTP/1.1', 'Host: a', 'X-\u00ff: b']),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'a 100 KB URL',
      bytes: () => head([`GET /organizations?after=${'a'.repeat(100_000)} HTTP/1.1`, 'Host: a']),
      status: 431,
      code: 'header_too_large',
    },
    {
      name: '64 KB of headers',
      bytes: () =>
        head([
          'GET /healthz HTTP/1.1',
          'Host: a',
          ...Array.from({ length: 64 }, (_, i) => `X-H${i}: ${'b'.repeat(1000)}`),
        ]),
      status: 431,
      code: 'header_too_large',
    },
    {
      name: 'bare LF line endings',
      bytes: () => 'GET /healthz HTTP/1.1\nHost: a\n\n',
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'a lowercase method',
      bytes: () => head(['get /healthz HTTP/1.1', 'Host: a']),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'an unknown HTTP version',
      bytes: () => head(['GET /healthz HTTP/7.1', 'Host: a']),
      status: 400,
      code: 'bad_request',
    },
    {
      name: 'a request line of garbage',
      bytes: () => '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\r\n\r\n',
      status: 400,
      code: 'bad_request',
    },
    { name: 'HTTP/1.1 without Host', bytes: () => head(['GET /healthz HTTP/1.1']), status: 400, code: 'bad_request' },
    {
      name: 'Expect other than 100-continue',
      bytes: () => post(['Expect: 200-ok', 'Content-Length: 2'], '{}'),
      status: 417,
      code: 'expectation_failed',
    },
    {
      name: 'CONNECT',
      bytes: () => head(['CONNECT 169.254.169.254:80 HTTP/1.1', 'Host: 169.254.169.254:80']),
      status: 400,
      code: 'bad_request',
    },
  ];

  it.each(cases)(
    'answers $name with $status in our error JSON, its instance logged',
    async ({ bytes, status, code }) => {
      const before = await digestStore(server.store);
      const response = await rawRequest(server.port, bytes());
      expect(response, 'the server answered before closing').toBeDefined();
      const error = expectErrorJson(response!, status);
      expect(error.code).toBe(code);
      expect(server.logs.some((line) => line.instance === error.instance && line.status === status)).toBe(true);
      expect(await digestStore(server.store)).toBe(before);
    },
  );

  it('still serves the next client after each of them', async () => {
    const response = await server.request('GET', `/organizations/${org}`, { token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: org });
  });
});
