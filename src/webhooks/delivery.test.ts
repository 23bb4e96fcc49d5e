import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookAgents, postWebhook, type WebhookRequest } from './delivery.js';
import type { HostResolver } from './url-policy.js';

const seen: string[] = [];
let base: string;
let port: number;
const server = http.createServer((req, res) => {
  seen.push(`${req.method} ${req.url} ${req.headers.host}`);
  req.resume();
  req.on('end', () => {
    if (req.url === '/ok') res.writeHead(204).end();
    else if (req.url === '/redirect') res.writeHead(302, { location: `${base}/elsewhere` }).end();
    else if (req.url === '/endless') {
      // 200 at once, then a body that never finishes.
      res.writeHead(200);
      res.write('x');
    } else if (req.url === '/half') {
      res.writeHead(500);
      res.write('partial');
    } else res.writeHead(500).end(`boom\n${'y'.repeat(500)}`);
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const noDns: HostResolver = () => Promise.reject(new Error('no DNS in this test'));
const request = (url: string, over: Partial<WebhookRequest> = {}): WebhookRequest => ({
  url,
  body: Buffer.from('{"event":"customer.created"}'),
  headers: { 'content-type': 'application/json' },
  timeoutMs: 2000,
  allowPrivate: true,
  resolve: noDns,
  ...over,
});

describe('postWebhook', () => {
  it('succeeds on a 2xx', async () => {
    expect(await postWebhook(request(`${base}/ok`))).toMatchObject({ ok: true, status: 204 });
  });

  it('does not follow redirects', async () => {
    seen.length = 0;
    const outcome = await postWebhook(request(`${base}/redirect`));
    expect(outcome).toMatchObject({ ok: false, status: 302, error: 'HTTP 302 (redirects are not followed)' });
    expect(seen).toEqual([`POST /redirect 127.0.0.1:${port}`]);
  });

  it('reports a failure status with the start of the body', async () => {
    const outcome = await postWebhook(request(`${base}/fail`));
    expect(outcome.ok).toBe(false);
    expect(outcome.status).toBe(500);
    expect(outcome.error).toMatch(/^HTTP 500: boom y+$/);
    expect(outcome.error!.length).toBeLessThanOrEqual('HTTP 500: '.length + 200);
  });

  it('counts a 2xx as success without waiting for the body', async () => {
    expect(await postWebhook(request(`${base}/endless`, { timeoutMs: 60_000 }))).toMatchObject({
      ok: true,
      status: 200,
    });
  });

  it('fails a response whose body does not finish in time', async () => {
    expect(await postWebhook(request(`${base}/half`, { timeoutMs: 200 }))).toMatchObject({
      ok: false,
      status: 500,
      error: 'HTTP 500, body not complete within 200 ms',
    });
  });

  it('reports connection errors', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await postWebhook(request(`http://127.0.0.1:${closedPort}/`));
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/^ECONNREFUSED: /);
  });

  it('refuses private targets without connecting when they are not allowed', async () => {
    seen.length = 0;
    expect(await postWebhook(request(`${base}/ok`, { allowPrivate: false }))).toMatchObject({
      ok: false,
      error: 'refused: url must use https',
    });
    expect(await postWebhook(request(`https://127.0.0.1:${port}/ok`, { allowPrivate: false }))).toMatchObject({
      ok: false,
      error: 'refused: url must not target a loopback address',
    });
    const rebinding: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    expect(
      await postWebhook(request(`https://hooks.example.com:${port}/ok`, { allowPrivate: false, resolve: rebinding })),
    ).toMatchObject({
      ok: false,
      error: 'refused: host resolves to a loopback address (127.0.0.1)',
    });
    // IPv4-translated spellings of the receiver's own loopback address, literal and resolved.
    expect(await postWebhook(request(`https://[::ffff:0:7f00:1]:${port}/ok`, { allowPrivate: false }))).toMatchObject({
      ok: false,
      error: 'refused: url must not target an IPv4-translated of loopback address',
    });
    const translated: HostResolver = async () => [{ address: '::ffff:0:127.0.0.1', family: 6 }];
    expect(
      await postWebhook(request(`https://hooks.example.com:${port}/ok`, { allowPrivate: false, resolve: translated })),
    ).toMatchObject({ ok: false, error: expect.stringContaining('IPv4-translated of loopback') });
    expect(seen).toEqual([]);
  });

  it('gives up on DNS that does not answer within the timeout', async () => {
    const hanging: HostResolver = () => new Promise(() => undefined);
    expect(
      await postWebhook(request('https://hooks.example.com/x', { resolve: hanging, timeoutMs: 100 })),
    ).toMatchObject({
      ok: false,
      error: 'host did not resolve within 100 ms',
    });
  });

  it('connects to the resolved address while keeping the name in the Host header', async () => {
    seen.length = 0;
    const resolver: HostResolver = async (hostname) =>
      hostname === 'hooks.invalid' ? [{ address: '127.0.0.1', family: 4 }] : [];
    expect(await postWebhook(request(`http://hooks.invalid:${port}/ok`, { resolve: resolver }))).toMatchObject({
      ok: true,
    });
    expect(seen).toEqual([`POST /ok hooks.invalid:${port}`]);
  });

  it('reuses a kept-alive connection, and retries at once on a fresh one when a pooled socket turns out dead', async () => {
    // Answers each connection's first request with a keep-alive 200, and resets the connection on its second.
    let connections = 0;
    let requests = 0;
    const raw = net.createServer((socket) => {
      connections += 1;
      let served = 0;
      socket.on('data', (data) => {
        if (!data.toString('latin1').includes('\r\n\r\n')) return;
        requests += 1;
        served += 1;
        if (served === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n');
        else socket.resetAndDestroy();
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`;
    const agents = createWebhookAgents(2);
    try {
      expect(await postWebhook(request(rawUrl, { agents }))).toMatchObject({ ok: true, status: 200 });
      expect(await postWebhook(request(rawUrl, { agents }))).toMatchObject({ ok: true, status: 200 });
      expect({ connections, requests }).toEqual({ connections: 2, requests: 3 });

      // A plain keep-alive receiver: the second delivery goes over the first one's connection.
      const sockets = new Set<unknown>();
      server.on('connection', (socket) => sockets.add(socket));
      expect(await postWebhook(request(`${base}/ok`, { agents }))).toMatchObject({ ok: true });
      expect(await postWebhook(request(`${base}/ok`, { agents }))).toMatchObject({ ok: true });
      expect(sockets.size).toBe(1);
    } finally {
      agents.http.destroy();
      raw.close();
    }
  });
});
