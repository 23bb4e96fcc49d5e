import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { CONSOLE_CSP, CONSOLE_DIST } from '../../src/http/plugins/console.js';
import { describeEachBackend } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** How /console is served: cache headers, CSP, the SPA fallback, and a clear answer when the console is not built. */
await describeEachBackend('console static serving', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server.close());

  it('serves index.html at /console/ with a strict CSP, no-cache and no inline script', async () => {
    const redirect = await fetch(`${server.baseUrl}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/console/');

    const response = await server.request('GET', '/console/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // Every script is an external file of ours: nothing the CSP would have to allow inline.
    expect(response.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.text).not.toMatch(/\sstyle=/);
    expect(response.text).toMatch(/<script type="module" crossorigin src="\/console\/assets\/index-[\w-]+\.js">/);
  });

  it('serves hashed assets as immutable for a year, gzipped when asked, and revalidates index.html by ETag', async () => {
    const index = await server.request<string>('GET', '/console/');
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(index.text)![1]!;
    const plain = await fetch(`${server.baseUrl}${script}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('content-encoding')).toBeNull();
    const body = await plain.text();
    expect(body).toBe(fs.readFileSync(path.join(CONSOLE_DIST, script.replace('/console/', '')), 'utf8'));
    const gzipped = await fetch(`${server.baseUrl}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(await gzipped.text()).toBe(body);

    const etag = index.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${server.baseUrl}/console/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('answers deep links with index.html and a missing asset with a 404 error body', async () => {
    const deep = await server.request('GET', '/console/customers/01HZZZZZZZZZZZZZZZZZZZZZZZ?q=ann');
    expect(deep.status).toBe(200);
    expect(deep.text).toContain('<div id="app"></div>');
    const missing = await server.request<{ type: string; message: string; instance: string }>(
      'GET',
      '/console/assets/nope-123.js',
    );
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('not_found');
    expect(missing.body.instance).toMatch(/^[0-9A-Z]{26}$/);
  });

  it('answers 503 with our error JSON saying how to build it when the console is not built, and keeps serving', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'console-dist-'));
    const app = await buildApp({ config: server.config, services: server.services, logger: false, consoleDir: empty });
    try {
      const response = await app.inject({ method: 'GET', url: '/console/customers' });
      expect(response.statusCode).toBe(503);
      const body = response.json<{ type: string; message: string; instance: string }>();
      expect(body.type).toBe('unavailable');
      expect(body.message).toContain('npm run build:console');
      expect(body.instance).toMatch(/^[0-9A-Z]{26}$/);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
