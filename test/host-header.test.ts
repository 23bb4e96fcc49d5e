import { afterAll, beforeAll, expect, it } from 'vitest';
import { isAllowedHost, parseHostHeader } from '../src/http/host-header.js';
import { loadConfig } from '../src/config.js';
import { describeEachBackend } from './helpers/backends.js';
import { expectErrorJson } from './helpers/fixtures.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

it.each([
  ['example.com', { host: 'example.com', port: undefined }],
  ['API.Example.COM:8443', { host: 'api.example.com', port: 8443 }],
  ['127.0.0.1:3000', { host: '127.0.0.1', port: 3000 }],
  ['[::1]:3000', { host: '[::1]', port: 3000 }],
  ['[2001:db8::1]', { host: '[2001:db8::1]', port: undefined }],
  ['customers_api:3000', { host: 'customers_api', port: 3000 }],
  ['example.com.', { host: 'example.com.', port: undefined }],
])('accepts the Host %s', (value, parsed) => {
  expect(parseHostHeader(value)).toEqual(parsed);
});

it.each([
  'a b"<>',
  '',
  'example.com:',
  'example.com:65536',
  'example.com:80:80',
  '[::1',
  '[not-ipv6]:80',
  '::1',
  'exa mple.com',
  'example..com',
  '-example.com',
  'example-.com',
  'user@example.com',
  'example.com/path',
  'example.com?q',
  `${'a'.repeat(64)}.com`,
  `${'abcdefgh.'.repeat(29)}com`,
  'éxample.com',
])('refuses the Host %j', (value) => {
  expect(parseHostHeader(value)).toBeUndefined();
});

it('matches ALLOWED_HOSTS entries by name, and by port when the entry has one', () => {
  const allowed = ['api.example.com', 'localhost:3000'];
  expect(isAllowedHost(parseHostHeader('API.example.com:9')!, allowed)).toBe(true);
  expect(isAllowedHost(parseHostHeader('api.example.com.')!, allowed)).toBe(true);
  expect(isAllowedHost(parseHostHeader('localhost:3000')!, allowed)).toBe(true);
  expect(isAllowedHost(parseHostHeader('localhost:3001')!, allowed)).toBe(false);
  expect(isAllowedHost(parseHostHeader('evil.example.com')!, allowed)).toBe(false);
  expect(() => loadConfig({ ALLOWED_HOSTS: 'ok.example, a b' })).toThrow(/ALLOWED_HOSTS/);
  expect(loadConfig({ ALLOWED_HOSTS: ' A.example , b.example:81 ' }).allowedHosts).toEqual([
    'a.example',
    'b.example:81',
  ]);
});

await describeEachBackend('Host header', (backend) => {
  const servers: TestServer[] = [];
  let open: TestServer;
  let allowed: TestServer;
  let proxied: TestServer;
  let token: string;
  beforeAll(async () => {
    open = await startTestServer(backend, { LOG_LEVEL: 'info' });
    allowed = await startTestServer(backend, { ALLOWED_HOSTS: 'api.example.com,127.0.0.1' });
    proxied = await startTestServer(backend, { PUBLIC_URL: 'https://customers.example.com/' });
    servers.push(open, allowed, proxied);
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  /** A second page exists: two organizations, one a page. */
  async function pagedList(server: TestServer) {
    const a = await server.createOrganization('A');
    const b = await server.createOrganization('B');
    token = await server.createToken([a.id, b.id], ['customers:read']);
    return '/organizations?limit=1';
  }

  const get = (server: TestServer, path: string, host: string | undefined, version = '1.1') =>
    rawRequest(
      server.port,
      [
        `GET ${path} HTTP/${version}`,
        ...(host === undefined ? [] : [`Host: ${host}`]),
        `Authorization: Bearer ${token}`,
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );

  it('without PUBLIC_URL refuses a Host that is not host[:port] with 400, and builds X-Next-Page on a valid one', async () => {
    const path = await pagedList(open);
    for (const host of ['a b"<>', 'example.com:99999', 'x/y', 'a@b']) {
      const response = await get(open, path, host);
      const error = expectErrorJson(response!, 400);
      expect(error.message).toMatch(/Host/);
      expect(response!.headers.get('x-next-page')).toBeNull();
      // Not even in the error's documentation link: that is built on the address the request came in on.
      expect(error.documentation).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${open.port}/docs/errors#`));
      expect(open.logs.some((line) => line.instance === error.instance)).toBe(true);
    }
    for (const [host, base] of [
      ['api.example.com:8443', 'http://api.example.com:8443/'],
      ['[::1]:3000', 'http://[::1]:3000/'],
    ] as const) {
      const response = await get(open, path, host);
      expect(response!.status).toBe(200);
      expect(response!.headers.get('x-next-page')).toMatch(
        new RegExp(`^${base.replace(/[[\].]/g, '\\$&')}organizations\\?`),
      );
    }
  });

  it('requires Host on HTTP/1.1, and builds URLs on the address the request came in on for HTTP/1.0', async () => {
    const path = await pagedList(open);
    expect(expectErrorJson((await get(open, path, undefined))!, 400).message).toMatch(/Host/);
    const old = await get(open, path, undefined, '1.0');
    expect(old!.status).toBe(200);
    expect(old!.headers.get('x-next-page')).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${open.port}/organizations\\?`),
    );
  });

  it('with ALLOWED_HOSTS serves only the hosts listed', async () => {
    const path = await pagedList(allowed);
    expect((await get(allowed, path, 'api.example.com'))!.status).toBe(200);
    expect((await get(allowed, path, `127.0.0.1:${allowed.port}`))!.status).toBe(200);
    const refused = expectErrorJson((await get(allowed, path, 'evil.example.com'))!, 400);
    expect(refused.message).toMatch(/not served here/);
  });

  it('with PUBLIC_URL never uses the request host', async () => {
    const path = await pagedList(proxied);
    for (const host of ['evil.example.com', 'a b"<>', 'internal:8080']) {
      const response = await get(proxied, path, host);
      expect(response!.status).toBe(200);
      expect(response!.headers.get('x-next-page')).toMatch(/^https:\/\/customers\.example\.com\/organizations\?/);
      expect(response!.text).not.toContain('evil');
    }
  });
});
