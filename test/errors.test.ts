import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../src/errors.js';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

it('documents every error code of the catalog in the README with its status', () => {
  const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(ERROR_CATALOG)) {
    expect(readme, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
  }
});

await describeEachBackend('errors', (backend) => {
  let server: TestServer;
  const logLines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('keeps the connection open after a request without a body is refused at once (a cached token, a bad query)', async () => {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['customers:read']);
    // The first request caches the token, so the later refusals are made without waiting for the database.
    for (let i = 0; i < 5; i++) {
      const res = await server.request('GET', `/organizations/${org.id}/customers?limit=0`, { token });
      expect(res.status).toBe(400);
      expect(res.headers.get('connection'), `request ${i}`).not.toBe('close');
    }
  });

  it('answers unknown routes and methods with a JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/organizations/x/customers/y/z'],
      ['DELETE', '/organizations'],
    ] as const) {
      const res = await server.request(method, path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        type: 'not_found',
        message: expect.any(String),
        instance: expect.stringMatching(/^[0-9A-Z]{26}$/),
        documentation: `${server.baseUrl}/docs/errors#not_found`,
        code: 'not_found',
      });
      expect(Object.keys(res.body as object)).toEqual(['type', 'message', 'instance', 'documentation', 'code']);
    }
  });

  it('serves the error catalog page that documentation URLs point at, one anchor per code', async () => {
    const res = await fetch(`${server.baseUrl}/docs/errors`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    for (const [code, { status }] of Object.entries(ERROR_CATALOG)) {
      expect(html).toContain(`<section id="${code}"><h2><code>${code}</code> <small>HTTP ${status}</small>`);
    }
  });

  it('builds documentation URLs on PUBLIC_URL when it is set', async () => {
    const { buildApp } = await import('../src/app.js');
    const app = await buildApp({
      config: { ...server.config, publicUrl: 'https://customers.example.com/api' },
      services: server.services,
      logger: false,
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/organizations' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({
        type: 'unauthorized',
        documentation: 'https://customers.example.com/api/docs/errors#unauthorized',
      });
    } finally {
      await app.close();
    }
  });

  it('gives every error a fresh instance that is logged with its request', async () => {
    const writes: string[] = [];
    const stream = { write: (line: string) => writes.push(line) };
    const { buildApp } = await import('../src/app.js');
    const app = await buildApp({ config: server.config, services: server.services, logger: { level: 'info', stream } });
    try {
      const a = await app.inject({ method: 'GET', url: '/organizations' });
      const b = await app.inject({ method: 'GET', url: '/organizations' });
      const ia = a.json<{ instance: string }>().instance;
      const ib = b.json<{ instance: string }>().instance;
      expect(ia).not.toBe(ib);
      for (const line of writes) logLines.push(JSON.parse(line) as Record<string, unknown>);
      const logged = logLines.find((l) => l.instance === ia);
      expect(logged).toMatchObject({ status: 401, method: 'GET', url: '/organizations' });
    } finally {
      await app.close();
    }
  });

  it('never leaks internals in a 500', async () => {
    const { buildApp } = await import('../src/app.js');
    const writes: string[] = [];
    const app = await buildApp({
      config: server.config,
      services: server.services,
      logger: { level: 'error', stream: { write: (l: string) => writes.push(l) } },
    });
    app.get('/boom', async () => {
      throw new Error('secret connection string postgres://user:pw@db');
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/boom' });
      expect(res.statusCode).toBe(500);
      const body = res.json<{ code: string; message: string; instance: string }>();
      expect(body.code).toBe('internal');
      expect(res.body).not.toContain('secret');
      expect(res.body).not.toContain('postgres://');
      expect(writes.some((l) => l.includes(body.instance) && l.includes('secret connection string'))).toBe(true);
    } finally {
      await app.close();
    }
  });
});
