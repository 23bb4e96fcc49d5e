import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { expectErrorJson } from './helpers/fixtures.js';
import { rawExchange } from './helpers/raw-http.js';
import { digestStore } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Sends `bytes` one at a time, `everyMs` apart, until the socket closes or `bytes` runs out. */
function trickle(socket: Socket, bytes: string, everyMs: number) {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= bytes.length) {
      clearInterval(timer);
      return;
    }
    socket.write(bytes[sent++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

await describeEachBackend('request timeouts', (backend) => {
  let server: TestServer;
  let idle: TestServer;
  let org: string;
  let token: string;
  beforeAll(async () => {
    // A whole request must arrive within 1.5 s; the idle timeout stays out of the way here.
    server = await startTestServer(backend, { LOG_LEVEL: 'info', REQUEST_TIMEOUT_MS: '1500' });
    // Here the request deadline stays out of the way and a connection may be silent for 600 ms.
    idle = await startTestServer(backend, {
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: '600000',
      CONNECTION_IDLE_TIMEOUT_MS: '600',
    });
    org = (await server.createOrganization('Slow')).id;
    token = await server.createToken([org], ['customers:read', 'customers:write']);
  });
  afterAll(async () => {
    await server?.close();
    await idle?.close();
  });

  const slowPost = (organizationId: string, bearer: string) =>
    [
      `POST /organizations/${organizationId}/customers HTTP/1.1`,
      'Host: 127.0.0.1',
      `Authorization: Bearer ${bearer}`,
      'Content-Type: application/json',
      'Content-Length: 1000000',
      '',
      '',
    ].join('\r\n') + `{"firstName":"Slow","lastName":"Loris"`;

  it('answers bodies sent a byte at a time with 408 in our error JSON while serving other clients', async () => {
    const before = await digestStore(server.store);
    // Twenty slow POSTs, as in the attack run, each one byte every 100 ms.
    const slow = Array.from({ length: 20 }, () => {
      const exchange = rawExchange(server.port, slowPost(org, token));
      trickle(exchange.socket, `,"email":"${'s'.repeat(500)}@example.com"}`, 100);
      return exchange;
    });
    // Meanwhile another client is served normally.
    const other = await server.request('GET', `/organizations/${org}`, { token });
    expect(other.status).toBe(200);
    const created = await server.request('POST', `/organizations/${org}/customers`, {
      token,
      body: { firstName: 'Quick', lastName: 'Client' },
    });
    expect(created.status).toBe(201);
    const afterQuick = await digestStore(server.store);
    expect(afterQuick).not.toBe(before);

    for (const exchange of slow) {
      const response = await exchange.response;
      expect(response, 'a 408 before the connection closed').toBeDefined();
      const error = expectErrorJson(response!, 408);
      expect(error.code).toBe('request_timeout');
      expect(server.logs.some((line) => line.instance === error.instance && line.status === 408)).toBe(true);
      expect(exchange.socket.destroyed).toBe(true);
    }
    // None of the slow bodies created anything.
    expect(await digestStore(server.store)).toBe(afterQuick);
  });

  it('answers headers that never finish with 408 too', async () => {
    const exchange = rawExchange(server.port, 'GET /organizations HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    trickle(exchange.socket, 'a'.repeat(1000), 100);
    const response = await exchange.response;
    expect(response).toBeDefined();
    expect(expectErrorJson(response!, 408).code).toBe('request_timeout');
  });

  it('closes a connection silent in the middle of a body with 408, and an idle keep-alive one quietly', async () => {
    const idleOrg = (await idle.createOrganization('Idle')).id;
    const idleToken = await idle.createToken([idleOrg], ['customers:read', 'customers:write']);
    const before = await digestStore(idle.store);
    const stalled = rawExchange(idle.port, slowPost(idleOrg, idleToken));
    const response = await stalled.response;
    expect(response).toBeDefined();
    const error = expectErrorJson(response!, 408);
    expect(error.code).toBe('request_timeout');
    expect(idle.logs.some((line) => line.instance === error.instance)).toBe(true);
    expect(await digestStore(idle.store)).toBe(before);

    // A finished request on a keep-alive connection, then silence: closed without another response.
    const keepAlive = await rawExchange(idle.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', {
      waitForClose: true,
      closeAfterMs: 30_000,
    }).response;
    expect(keepAlive?.status).toBe(200);
    expect(keepAlive!.raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});
